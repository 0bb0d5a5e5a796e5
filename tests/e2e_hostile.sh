#!/usr/bin/env bash
# e2e_hostile.sh - what a hostile target or a full disk cannot turn into a
# verdict: a replay whose target calls exit(0) or exit(1), or closes every
# fd, is a crash (never "no leak", never "leaks", never a gate pass); a
# file size limit or a full disk is an error naming the file, never a
# pass and never a death by SIGXFSZ.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
small=
cleanup() {
    [ -n "$small" ] && umount "$small" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
S=tests/scripts/exits.lua

# 1. repro: a status without a verdict is a crash (exit 3), saying why;
# the clean twin (an input the op returns on) is "no leak" (exit 0).
for w in EXIT0 EXIT1 CLOSE; do
    printf '%s' "$w" >"$T/$w"
    "$LH" repro "$S" --workload exits "$T/$w" >"$T/$w.out" 2>&1
    rc=$?
    text=$(cat "$T/$w.out")
    expect_eq "repro, target does $w: exit 3 (was 0 or 1)" "$rc" 3
    expect_match "repro, target does $w: says there was no verdict" \
        "$text" "^CRASH  the worker exited with status [01] without a verdict"
    check "repro, target does $w: not called 'no leak'" \
        bash -c "! grep -q '^no leak' '$T/$w.out'"
done
printf hello >"$T/hello"
"$LH" repro "$S" --workload exits "$T/hello" >"$T/hello.out" 2>&1
expect_eq "repro, clean twin: exit 0" "$?" 0
# a stray write of the target on the low fds is not taken for (or
# against) the verdict, which goes over an fd of its own
printf SCRIBBLE >"$T/scribble"
"$LH" repro "$S" --workload exits "$T/scribble" >"$T/scribble.out" 2>&1
expect_eq "repro, target writes on fds 3..20: still its verdict (exit 0)" \
    "$?" 0

# 2. the gate: regression cases whose replay exits are crashes that fail
# it, not "fixed" (main passed the gate on the EXIT0 case).  (A replay
# whose target closed every fd but ran on writes its verdict file: it was
# measured, through the probes' reopened /proc fds.)
for w in EXIT0 EXIT1 hello; do
    id=exits-$w-000000000001
    d=$T/corpora/faults/regressions/$id
    mkdir -p "$d"
    printf '%s' "$w" >"$d/input"
    cat >"$d/case.json" <<EOF
{"id":"$id","workload":"exits","script":"$S",
 "target":"build/targets/c/libfaults.so","metric":"heap.live_bytes",
 "signature":"heap.live_bytes $id","input":"input"}
EOF
done
"$LH" test "$S" --workload exits --corpora "$T/corpora" \
    --report-dir "$T/gate" >"$T/gate.out" 2>&1
rc=$?
tail -n 12 "$T/gate.out"
check "test: the gate fails (exit $rc)" test "$rc" -ne 0
check "test: not PASSED" bash -c "! grep -q 'gate: PASSED' '$T/gate.out'"
R=$T/gate/report.json
st() { jget "$R" "find(r.regressions, 'id', 'exits-$1-000000000001').$2"; }
for w in EXIT0 EXIT1; do
    expect_eq "test: case $w is crashed" "$(st "$w" status)" crashed
    expect_match "test: case $w says there was no verdict" \
        "$(st "$w" reason)" "exited with status [01] without a verdict"
done
expect_eq "test: the clean twin's case is fixed" "$(st hello status)" fixed

# 3. run: exit(0) in the measured phase is a crash too.
"$LH" run "$S" --workload exits-in-run --report-dir "$T/run" --expect \
    >"$T/run.out" 2>&1
expect_eq "run: exit(0) in measure is crashed (--expect)" "$?" 0

# 3a. Values that would fuzz nothing, or something else than asked:
# usage errors (main: --time 0s fuzzed nothing and said "no leak found").
for a in "--time 0s" "--time 1e30s" "--seed abc" "--seed -1" \
         "--timeout 1e30s"; do
    text=$("$LH" fuzz lua/suites/c.lua --workload c-record-leaky-on-seeds \
        $a --out "$T/fo" 2>&1)
    expect_eq "fuzz $a: exit 2" "$?" 2
    expect_match "fuzz $a: names the option" "$text" "${a%% *} wants"
done
text=$("$LH" repro "$S" --workload exits "$T/hello" --seed x 2>&1)
expect_eq "repro --seed x: exit 2" "$?" 2

# 3b. Errors without a position of their own (a yield outside a
# coroutine, error({...}), error()) name the script line that raised them.
"$LH" run tests/scripts/hook_errors.lua --report-dir "$T/he" \
    >"$T/he.out" 2>&1
expect_eq "hook errors: exit 2" "$?" 2
H=tests/scripts/hook_errors.lua
he() { jget "$T/he/report.json" "find(r.workloads, 'name', '$1').error.message"; }
expect_match "yield in step: file:line" "$(he yield-in-step)" \
    "^$H:16: attempt to yield from outside a coroutine"
expect_match "yield in setup: file:line" "$(he yield-in-setup)" \
    "^$H:17: attempt to yield"
expect_match "error({...}) in step: file:line" "$(he error-table)" \
    "^$H:18: \(error object is a table value\)"
expect_match "error() in teardown: file:line" "$(he error-nil)" \
    "^$H:19: \(error object is a nil value\)"
text=$("$LH" repro "$H" --workload error-table "$T/hello" 2>&1)
expect_eq "repro, error({...}) in step: exit 2" "$?" 2
expect_match "repro, error({...}) in step: file:line" "$text" \
    "^$H:18: \(error object is a table value\)"

# 3b'. A settle that raises an error: no verdict in run, nor in repro
# (main: the Go heap, never collected, was a LEAK, exit 1).
if [ -f build/targets/go/libgoroutines.so ]; then
    SE=tests/scripts/settle_error.lua
    "$LH" run "$SE" --report-dir "$T/se" >"$T/se.out" 2>&1
    expect_eq "settle error, run: exit 2" "$?" 2
    expect_match "settle error, run: file:line" \
        "$(jget "$T/se/report.json" 'r.workloads[1].error.message')" \
        "^$SE:10: settle refused"
    text=$("$LH" repro "$SE" --workload settle-error "$T/hello" 2>&1)
    expect_eq "settle error, repro: exit 2 (was 1, a leak)" "$?" 2
    expect_match "settle error, repro: says so, with file:line" "$text" \
        "^ERROR  the workload's settle raised an error: $SE:10: settle refused"
else
    echo "ok - # SKIP settle error: no Go targets built"
fi

# 3c. kill -9 of a run: no report of an older run is left to pass for its
# own (main kept the last run's report.json, exit_code 0), the lock does
# not block the next run, and no worker outlives it.
D=$T/k9
"$LH" run "$S" --workload exits --report-dir "$D" >/dev/null 2>&1
check "kill -9: a first run leaves its report" test -f "$D/report.json"
"$LH" run tests/scripts/interrupt.lua --workload intr-hang --report-dir "$D" \
    >"$T/k9.out" 2>&1 &
k9=$!
for _ in $(seq 100); do
    [ "$(cat "$D/.leakhound.lock" 2>/dev/null)" = "$k9" ] &&
        pgrep -P "$k9" >/dev/null && break
    sleep 0.1
done
worker=$(pgrep -P "$k9")
kill -9 "$k9"
wait "$k9" 2>/dev/null
for f in report.json junit.xml summary.md index.html; do
    check "kill -9: no older $f left in the report dir" test ! -e "$D/$f"
done
for _ in $(seq 50); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done
check "kill -9: its worker (${worker:-none}) is gone" \
    bash -c "[ -n '$worker' ] && ! kill -0 '$worker' 2>/dev/null"
"$LH" run "$S" --workload exits --report-dir "$D" >"$T/k9b.out" 2>&1
expect_eq "kill -9: the next run on the dir is not blocked (exit 0)" "$?" 0

# 3d. A case half-assembled by a filing process killed meanwhile
# (regressions/.tmp-ID-PID) is swept by the next filing, not left for
# `git add corpora`; one of a live process is left alone.
printf 'GROW\004abcd' >"$T/grow.in"
"$LH" repro lua/suites/c.lua --workload c-record-leaky-on-seeds \
    "$T/grow.in" --artifact-dir "$T/ad" >/dev/null 2>&1
art=$(ls "$T"/ad/leak-* 2>/dev/null | grep -v json | head -n 1)
reg=$T/cases/record/regressions
mkdir -p "$reg/.tmp-x-99999999" "$reg/.tmp-y-$$"
echo x >"$reg/.tmp-x-99999999/input"
echo y >"$reg/.tmp-x-99999999/case.json.tmp.99999999"
"$LH" file "$art" --corpora "$T/cases" >"$T/file.out" 2>&1
expect_eq "file: exit 0" "$?" 0
check "file: the dead process's half case is swept" \
    test ! -e "$reg/.tmp-x-99999999"
check "file: a live process's is left alone" test -d "$reg/.tmp-y-$$"

# 4. A file size limit (ulimit -f, no root needed) below the flight
# recorder's 4 MiB: an error naming it and the limit, exit 2, not SIGXFSZ.
text=$( (ulimit -f 40; "$LH" run "$S" --workload exits \
    --report-dir "$T/fsize" 2>&1; echo "rc=$?") | cat)
expect_match "ulimit -f 40: exit 2 (was 153, SIGXFSZ)" "$text" "rc=2$"
expect_match "ulimit -f 40: names the flight recorder and the limit" \
    "$text" "cannot create its flight recorder: File too large \(the file size limit, ulimit -f, is below [0-9]+ KiB\)"
text=$( (ulimit -f 40; "$LH" repro "$S" --workload exits "$T/hello" 2>&1;
    echo "rc=$?") | cat)
expect_match "ulimit -f 40, repro: exit 2, not SIGXFSZ" "$text" "rc=2$"

# 5. A full disk (a 64 KiB tmpfs; needs root).
small=$T/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=64k tmpfs "$small" 2>/dev/null; then
    small=
    echo "ok - # SKIP disk full: not root (cannot mount a tmpfs)"
    finish
    exit $?
fi
# fill LEFT: leaves about LEFT KiB free
fill() {
    rm -f "$small/fill"
    local avail
    avail=$(df -k --output=avail "$small" | tail -n 1)
    [ "$avail" -gt "$1" ] &&
        dd if=/dev/zero of="$small/fill" bs=1k count=$((avail - $1)) \
            2>/dev/null
    return 0
}
mkdir -p "$small/r"
fill 20
"$LH" run "$S" --workload exits --report-dir "$small/r" >"$T/df.out" 2>&1
rc=$?
cat "$T/df.out"
expect_eq "disk full, run: exit 2 though the workload passed" "$rc" 2
expect_match "disk full, run: names the file and ENOSPC" "$(cat "$T/df.out")" \
    "cannot write $small/r/[a-z.]+: No space left on device"
check "disk full, run: no 'report:' line for a report not written" \
    bash -c "! grep -q '^report: .*report.json' '$T/df.out' ||
             test -f '$small/r/report.json'"
if [ -f "$small/r/report.json" ]; then
    expect_eq "disk full, run: the report written says exit 2" \
        "$(jget "$small/r/report.json" r.exit_code)" 2
fi

fill 0
for w in hello EXIT0; do
    text=$("$LH" repro "$S" --workload exits "$T/$w" \
        --json "$small/v-$w.json" 2>&1)
    rc=$?
    [ "$w" = hello ] && want=2 || want=3
    expect_eq "disk full, repro --json ($w): exit $want" "$rc" "$want"
done
expect_match "disk full, repro --json: names the file" "$(
    "$LH" repro "$S" --workload exits "$T/hello" --json "$small/v.json" 2>&1)" \
    "ERROR  cannot write the verdict $small/v.json: No space left on device"
# the gate on a full disk: its replay's verdict and log cannot be written
mkdir -p "$T/corp2/faults/regressions"
cp -r "$T/corpora/faults/regressions/exits-hello-000000000001" \
    "$T/corp2/faults/regressions/"
mkdir -p "$small/g"
fill 4      # one page: the lock file's, when the run takes it
"$LH" test "$S" --workload exits --corpora "$T/corp2" \
    --report-dir "$small/g" >"$T/dfg.out" 2>&1
rc=$?
tail -n 4 "$T/dfg.out"
expect_eq "disk full, test: exit 2" "$rc" 2
expect_match "disk full, test: the case cannot be replayed, and why" \
    "$(cat "$T/dfg.out")" \
    "cannot replay: the replay exited with status 2 and its log .* is empty"
check "disk full, test: the gate does not pass" \
    bash -c "! grep -q 'gate: PASSED' '$T/dfg.out'"

printf 'GROW\004abcd' >"$T/grow.in"
text=$("$LH" repro lua/suites/c.lua --workload c-record-leaky-on-seeds \
    "$T/grow.in" --artifact-dir "$small/a" 2>&1)
rc=$?
expect_eq "disk full, repro --artifact-dir: exit 2 (was 1)" "$rc" 2
expect_match "disk full, repro --artifact-dir: the leak is shown" "$text" \
    "^LEAK  heap.live_bytes"
expect_match "disk full, repro --artifact-dir: names the dir and why" \
    "$text" "ERROR  cannot write the artifact into $small/a: No space left"

finish
