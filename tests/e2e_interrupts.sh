#!/usr/bin/env bash
# e2e_interrupts.sh - SIGINT/SIGTERM to test, run, repro, fuzz and nightly:
# each stops within seconds, records what was interrupted as interrupted
# (never as a crash, a pass or "no leak found"), exits 128+signal and keeps
# every finding for the next run, where it is listed and verified once.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT
S=tests/scripts/interrupt.lua
REC=c-record-leaky-on-seeds

# interrupt SIG COND OUT CMD...: runs CMD, its output in OUT; once the shell
# condition COND holds (at most 60 s), waits a second and sends SIG to CMD
# alone.  Sets rc and took (milliseconds from the signal to the exit).
interrupt() {
    local sig=$1 cond=$2 out=$3
    shift 3
    "$@" >"$out" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        eval "$cond" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    sleep 1
    local t0
    t0=$(date +%s%N)
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    took=$(( ($(date +%s%N) - t0) / 1000000 ))
    pid=
    echo "--- $* (rc $rc, ${took} ms after SIG$sig)"
    tail -n 8 "$out"
}
quick() { check "$1: stopped ${took} ms after the signal (< 2.5 s)" \
    test "$took" -lt 2500; }
no_crash() { check "$1: nothing recorded as a crash" \
    bash -c "! grep -Ei 'crash' '$2' | grep -vq ' 0 crashed'"; }

# A GROW record leaks in c-record-leaky-on-seeds.  plant DIR: an artifact
# of it in DIR, as `fuzz` leaves one before verifying it (engine
# libfuzzer, not verified).
printf 'GROW\004abcd' > "$T/grow.in"
plant() {
    "$LH" repro lua/suites/c.lua --workload "$REC" "$T/grow.in" \
        --artifact-dir "$1" >/dev/null 2>&1
    art=$(ls "$1"/leak-* 2>/dev/null | grep -v json | head -n 1)
    python3 - "$art.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["engine"] = "libfuzzer"
d.pop("verified", None)
json.dump(d, open(p, "w"))
PY
}
plant "$T/made"
check "a GROW artifact to plant" test -n "$art"
name=$(basename "$art")

# 1. test, while a regression case replays (its input hangs the step).
for id in intr-quick-000000000001 intr-quick-000000000002; do
    d=$T/corpora/faults/regressions/$id
    mkdir -p "$d"
    printf 'HANG now' > "$d/input"
    cat > "$d/case.json" <<EOF
{"id":"$id","workload":"intr-quick","script":"$S",
 "target":"build/targets/c/libfaults.so","metric":"heap.live_bytes",
 "signature":"heap.live_bytes $id","input":"input"}
EOF
done
interrupt INT "test -e $T/r/regressions/intr-quick-000000000001.log" \
    "$T/test.out" "$LH" test "$S" --workload intr-quick \
    --corpora "$T/corpora" --report-dir "$T/r"
expect_eq "test: exit 130 (128 + SIGINT)" "$rc" 130
quick test
no_crash test "$T/test.out"
check "test: the gate does not pass" bash -c "! grep -q PASSED '$T/test.out'"
expect_eq "test: the case in flight is interrupted, the next not replayed" \
    "$(jget "$T/r/report.json" \
        'r.regressions[1].status .. " " .. r.regressions[2].status')" \
    "interrupted interrupted"
expect_match "test: ... and says which was not replayed" \
    "$(jget "$T/r/report.json" 'r.regressions[2].reason')" "not replayed"
expect_eq "test: report.json's exit_code is the exit status" \
    "$(jget "$T/r/report.json" 'r.exit_code')" 130

# 2. run, while the worker hangs.
interrupt TERM "sleep 1" "$T/run.out" "$LH" run "$S" --workload intr-hang \
    --report-dir "$T/run"
expect_eq "run: exit 143 (128 + SIGTERM)" "$rc" 143
quick run
no_crash run "$T/run.out"
expect_eq "run: the workload is recorded as interrupted" \
    "$(jget "$T/run/report.json" 'r.workloads[1].error.message')" \
    interrupted

# 3. repro, while the input hangs the step.
printf 'HANG now' > "$T/hang.in"
interrupt TERM "sleep 1" "$T/repro.out" "$LH" repro "$S" \
    --workload intr-hang "$T/hang.in"
expect_eq "repro: exit 143" "$rc" 143
quick repro
no_crash repro "$T/repro.out"
check "repro: says it was interrupted" grep -q INTERRUPTED "$T/repro.out"

# 4. fuzz, before any finding: not "no leak found".
interrupt TERM "grep -q INITED $T/fuzz1.out" "$T/fuzz1.out" "$LH" fuzz \
    lua/suites/c.lua --workload c-record-error-path-clean --time 120s \
    --corpus corpora/record --out "$T/f1"
expect_eq "fuzz before a finding: exit 143" "$rc" 143
quick "fuzz before a finding"
check "fuzz before a finding: not called 'no leak found'" \
    bash -c "! grep -q '^no leak found' '$T/fuzz1.out'"
check "fuzz before a finding: says the search was interrupted" \
    grep -q 'interrupted (signal 15)' "$T/fuzz1.out"

# 5. fuzz, with an artifact found (not verified yet) before the signal.
plant "$T/f2/artifacts"
interrupt TERM "grep -q INITED $T/fuzz2.out" "$T/fuzz2.out" "$LH" fuzz \
    lua/suites/c.lua --workload "$REC" --time 120s --out "$T/f2"
expect_eq "fuzz after a finding: exit 143" "$rc" 143
quick "fuzz after a finding"
check "fuzz after a finding: the artifact is kept" test -f "$T/f2/artifacts/$name"
check "fuzz after a finding: and listed" grep -q "artifact: $T/f2/artifacts/$name" \
    "$T/fuzz2.out"
check "fuzz after a finding: as not verified yet" \
    grep -q "not verified in a fresh worker yet" "$T/fuzz2.out"

# 6. minimize, while the engine shrinks the input.
plant "$T/m"
interrupt INT "grep -q '^minimize:' $T/min.out" "$T/min.out" "$LH" minimize \
    lua/suites/c.lua --workload "$REC" "$art" --time 60s
expect_eq "minimize: exit 130" "$rc" 130
quick minimize
check "minimize: says it was interrupted, the input kept" \
    grep -q "interrupted (signal 2): .* is kept as it was" "$T/min.out"
check "minimize: not 'does not reproduce'" \
    bash -c "! grep -q 'not reproduce\|produced no minimized' '$T/min.out'"

# 7. nightly, while it minimizes what an interrupted night found: nothing
# filed half-done, the fuzz budget not started, the finding kept.
W=$T/work/$REC
plant "$W/artifacts"
interrupt TERM "grep -q minimizing $T/n1.out" "$T/n1.out" "$LH" nightly \
    lua/suites/c.lua --workload "$REC" --corpora "$T/cases" --work \
    "$T/work" --report-dir "$T/n1" --budget 60s --minimize-time 60s
expect_eq "nightly while minimizing: exit 143" "$rc" 143
quick "nightly while minimizing"
expect_eq "nightly while minimizing: nothing filed" \
    "$(find "$T/cases" -name case.json 2>/dev/null | wc -l)" 0
check "nightly while minimizing: the fuzz budget did not start" \
    test ! -e "$W/fuzz.log"
check "nightly while minimizing: the finding is kept" \
    test -f "$W/artifacts/$name"

# The next night, after a night interrupted before filing its finding:
# the finding is filed once, listed as new and not as known.
rm -rf "$T/cases" "$W"
plant "$W/artifacts"
"$LH" nightly lua/suites/c.lua --workload "$REC" --corpora "$T/cases" \
    --work "$T/work" --report-dir "$T/n2" --budget 5s --minimize-time 10s \
    > "$T/n2.out" 2>&1
rc=$?
tail -n 4 "$T/n2.out"
expect_eq "the next night: exit 1 (a new leak filed)" "$rc" 1
expect_eq "the next night: one case" \
    "$(find "$T/cases" -name case.json | wc -l)" 1
expect_eq "the next night: 1 new, 0 known (one leak, one listing)" \
    "$(jget "$T/n2/report.json" \
        '#r.nightly.new .. " " .. #r.nightly.known')" "1 0"
expect_match "the next night says so" "$(tail -n 1 "$T/n2.out")" \
    '^nightly: 1 new, 0 known'

finish
