#!/usr/bin/env bash
# A crashing target, a hanging target, a missing symbol and a Lua syntax
# error each get their verdict, and the rest of the run goes on.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
# daemons the old code let live are not left behind by this test
trap 'cat "$out"/daemons* 2>/dev/null | xargs -r kill -9 2>/dev/null
      rm -rf "$out"' EXIT

text=$("$LH" run lua/suites/faults.lua tests/scripts/syntax_error.lua \
    --report-dir "$out" 2>&1)
rc=$?
echo "$text"
rep=$out/report.json

expect_eq "exit status 3 when a workload crashed or timed out" "$rc" 3
check "report.json is valid JSON" jget "$rep" 'r.schema'
expect_eq "5 entries (4 workloads + the broken script)" \
    "$(jget "$rep" '#r.workloads')" 5

st() { jget "$rep" "find(r.workloads, 'name', '$1').status"; }
expect_eq "fault-crash is crashed" "$(st fault-crash)" crashed
expect_eq "fault-hang is timeout" "$(st fault-hang)" timeout
expect_eq "fault-missing-symbol is error" "$(st fault-missing-symbol)" error
expect_eq "workload after them still runs and passes" \
    "$(st fault-clean-after)" pass
expect_eq "syntax error is an error entry" \
    "$(st tests/scripts/syntax_error.lua)" error

expect_eq "crash records the signal" \
    "$(jget "$rep" "find(r.workloads, 'name', 'fault-crash').crash.signal")" 11
crash_file=$(jget "$rep" \
    "find(r.workloads, 'name', 'fault-crash').crash.inputs[1].file")
expect_eq "the crashing input is saved as it was" \
    "$(cat "$crash_file" 2>/dev/null)" "CRASH now"
hang_file=$(jget "$rep" \
    "find(r.workloads, 'name', 'fault-hang').timeout.inputs[1].file")
expect_eq "the hanging input is saved as it was" \
    "$(cat "$hang_file" 2>/dev/null)" "HANG here"
expect_eq "the hang is killed in the measure phase" \
    "$(jget "$rep" "find(r.workloads, 'name', 'fault-hang').timeout.phase")" \
    measure

msg=$(jget "$rep" \
    "find(r.workloads, 'name', 'fault-missing-symbol').error.message")
expect_match "missing symbol names symbol, library and script line" "$msg" \
    "faults.lua:[0-9]+: target library 'build/targets/c/libfaults.so' has no symbol 'no_such_op'"
msg=$(jget "$rep" \
    "find(r.workloads, 'name', 'tests/scripts/syntax_error.lua').error.message")
expect_match "syntax error names file:line" "$msg" "syntax_error.lua:4:"
expect_match "CRASH line printed" "$text" "^CRASH fault-crash .*signal 11"
expect_match "TIMEOUT line printed" "$text" "TIMEOUT fault-hang"

# Symbolization is not the workload's time: a diagnosis that outlasts the
# workload's timeout (its first addr2line made 8 s slower) still gives
# the verdict.
cat >"$out/addr2line" <<'SH'
#!/bin/sh
[ -e "$0.slept" ] || { touch "$0.slept"; sleep 8; }
exec addr2line "$@"
SH
chmod +x "$out/addr2line"
text=$(LEAKHOUND_ADDR2LINE=$out/addr2line "$LH" run \
    tests/scripts/slow_diag.lua --report-dir "$out/d" 2>&1)
rc=$?
echo "$text"
expect_eq "slow diagnosis: the leak's verdict, not a timeout" "$rc" 1
expect_eq "slow diagnosis: status fail" \
    "$(jget "$out/d/report.json" "r.workloads[1].status")" fail
check "slow diagnosis: with its sites, symbolized" \
    grep -q "leak16" <<<"$text"

# --expect turns the expectations into the exit status
"$LH" run lua/suites/faults.lua --report-dir "$out/x" --expect >/dev/null 2>&1
expect_eq "--expect: every fault workload shows what it expects" "$?" 0

# Output that is not UTF-8 still makes a report strict parsers load, with
# U+FFFD for the broken byte (issue 9, defect 3).
"$LH" run tests/scripts/bad_utf8.lua --report-dir "$out/u" >"$out/u.txt" 2>&1
expect_eq "the echoing target crashed" "$?" 3
tail=$(python3 - "$out/u/report.json" <<'PY' 2>&1
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
w = r["workloads"][0]
assert w["crash"]["signal"] == 6, w["crash"]
t = w["crash"]["output_tail"]
assert "caf\ufffd" in t, repr(t)
print("loads")
PY
)
expect_eq "report.json loads strictly, caf + U+FFFD in its tail" "$tail" \
    loads
"$LH" report "$out/u/report.json" --out "$out/u" >/dev/null 2>&1
expect_eq "and renders" "$?" 0

# A target that forks a helper (which holds the worker's pipes) and aborts:
# a crash with SIGABRT, seen at once, not a timeout; the helper is killed.
t0=$(date +%s)
text=$(LEAKHOUND_FAULTS_HELPER=$out/helper "$LH" run \
    tests/scripts/fork_abort.lua --report-dir "$out/fork" --expect 2>&1)
rc=$?
took=$(( $(date +%s) - t0 ))
echo "$text"
rep=$out/fork/report.json
expect_eq "--expect: fork-then-abort is crashed" "$rc" 0
expect_eq "fault-fork-abort is crashed" \
    "$(jget "$rep" "find(r.workloads, 'name', 'fault-fork-abort').status")" \
    crashed
expect_eq "fork-then-abort records signal 6" \
    "$(jget "$rep" \
        "find(r.workloads, 'name', 'fault-fork-abort').crash.signal")" 6
expect_match "CRASH line with signal 6" "$text" \
    "^CRASH fault-fork-abort .*signal 6"
check "judged within seconds, not at the timeout (${took}s)" \
    test "$took" -lt 10
helper=$(head -n 1 "$out/helper" 2>/dev/null)
check "the helper wrote its pid" test -n "$helper"
# gone, or a zombie waiting for whoever reaps orphans here
state=$(awk '{print $3}' "/proc/$helper/stat" 2>/dev/null)
check "the forked helper is gone afterwards (state '$state')" \
    test -z "$state" -o "$state" = Z
kept=$(sed -n 's/^kept://p' "$out/helper" 2>/dev/null)
check "the helper kept neither the protocol pipe nor the flight fd" \
    bash -c "! grep -Eqw '3|4' <<<'$kept'"

# A target that uses every fd (issue 10, item 12): proc.fds is a FAIL with
# the op's site, every /proc metric is still measured, and the harness's
# own writes (folded stacks, report) still work.
text=$(ulimit -n 256 && "$LH" run tests/scripts/fd_exhaust.lua \
    --report-dir "$out/fdx" --expect 2>&1)
rc=$?
echo "$text"
rep=$out/fdx/report.json
expect_eq "--expect: both fd exhaustions fail on proc.fds" "$rc" 0
for w in hoard flood; do
    W="find(r.workloads, 'name', 'fd-exhaust-$w')"
    F="find($W.invariants, 'metric', 'proc.fds')"
    expect_eq "fd-exhaust-$w is fail" "$(jget "$rep" "$W.status")" fail
    expect_eq "fd-exhaust-$w: proc.fds fails" "$(jget "$rep" "$F.status")" \
        fail
    # hoard is stopped near the limit (e2e_exhaust.sh), flood fills it
    expect_match "fd-exhaust-$w: the reason says the table filled" \
        "$(jget "$rep" "$F.reason")" \
        "(fd table full|stopped) at sample [0-9]+.*RLIMIT_NOFILE"
    expect_eq "fd-exhaust-$w: the site is fd_$w" \
        "$(jget "$rep" "$F.sites[1].func")" "fd_$w"
    expect_match "fd-exhaust-$w: with file:line" \
        "$(jget "$rep" "$F.sites[1].location")" "fdio\.c:[0-9]+"
    folded=$(jget "$rep" "$F.files[1]")
    check "fd-exhaust-$w: folded stacks written after exhaustion" \
        grep -q "fd_$w" "$folded"
    for m in proc.fds proc.threads proc.rss_bytes proc.maps; do
        expect_eq "fd-exhaust-$w: every $m sample is a number" \
            "$(jget "$rep" "count($W.metrics['$m'].series,
                function(p) return type(p[2]) ~= 'number' end)")" 0
    done
    T="find($W.invariants, 'metric', 'proc.threads')"
    expect_eq "fd-exhaust-$w: proc.threads passes" \
        "$(jget "$rep" "$T.status")" pass
done
expect_match "FAIL line says the fd table filled" "$text" \
    "^FAIL  fd-exhaust-flood  proc.fds .*fd table full"
expect_match "FAIL line says hoard stopped near the limit" "$text" \
    "^FAIL  fd-exhaust-hoard  proc.fds .*stopped at sample [0-9]+ of 20: proc.fds at [5-9][0-9]% of RLIMIT_NOFILE"

# A target that forks: only the worker comes back into the harness (one
# verdict line, not one per process); a daemon it starts (setsid, double
# fork) is gone when its workload ends, passes or times out (issue 10).
# dead PID: gone, or a zombie waiting for whoever reaps orphans here
dead() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)
    [ -z "$state" ] || [ "$state" = Z ]
}
text=$(LEAKHOUND_FAULTS_DAEMON=$out/daemons \
    LEAKHOUND_FAULTS_CALLERS=$out/callers "$LH" run tests/scripts/procs.lua \
    --report-dir "$out/procs" --expect 2>&1)
rc=$?
echo "$text"
rep=$out/procs/report.json
expect_eq "--expect: the forking workloads show what they expect" "$rc" 0
expect_eq "one verdict line for the workload whose target forked" \
    "$(grep -Ec '^(pass|FAIL|ERROR) +fault-fork-return ' <<<"$text")" 1
expect_eq "only the worker called the target again after it forked" \
    "$(wc -l <"$out/callers")" 1
expect_eq "3 workloads in the report" "$(jget "$rep" '#r.workloads')" 3
expect_eq "fault-fork-return passes" \
    "$(jget "$rep" "find(r.workloads, 'name', 'fault-fork-return').status")" \
    pass
expect_eq "two daemons were started" "$(wc -l <"$out/daemons")" 2
for pid in $(cat "$out/daemons"); do
    check "daemon $pid is gone after the run" dead "$pid"
done

# SIGKILL of the supervisor: the worker and the daemon go with it.
LEAKHOUND_FAULTS_DAEMON=$out/daemons2 "$LH" run tests/scripts/procs.lua \
    --workload fault-daemon-hang --timeout 60s --report-dir "$out/procs2" \
    >"$out/procs2.txt" 2>&1 &
sup=$!
for _ in $(seq 200); do
    [ -s "$out/daemons2" ] && break
    sleep 0.1
done
worker=$(ps -o pid= --ppid "$sup" | tr -d ' ')
daemon=$(head -n 1 "$out/daemons2" 2>/dev/null)
check "the daemon started (pid '$daemon') in the worker ('$worker')" \
    test -n "$daemon" -a -n "$worker"
kill -9 "$sup"
wait "$sup" 2>/dev/null
for _ in $(seq 50); do
    dead "$daemon" && dead "$worker" && break
    sleep 0.1
done
check "SIGKILL of the supervisor: the worker is gone" dead "$worker"
check "SIGKILL of the supervisor: the target's daemon is gone" dead "$daemon"

# ... and after a replay (`repro`, and `test`'s regression cases)
printf DAEMON >"$out/daemon.in"
LEAKHOUND_FAULTS_DAEMON=$out/daemons3 "$LH" repro tests/scripts/procs.lua \
    --workload fault-daemon "$out/daemon.in" --reps 4 >"$out/repro.txt" 2>&1
expect_eq "repro of the daemon-starting input: no leak (exit 0)" "$?" 0
daemon=$(head -n 1 "$out/daemons3" 2>/dev/null)
check "repro: the daemon started (pid '$daemon')" test -n "$daemon"
check "repro: the target's daemon is gone afterwards" dead "$daemon"

# A script whose top level never returns: loading is bounded, in the
# supervisor (run, list, test, nightly) and in the worker (issue 11).
export LEAKHOUND_LOAD_TIMEOUT=1
t0=$(date +%s)
text=$(timeout 60 "$LH" run tests/scripts/load_hang.lua \
    --report-dir "$out/lh" 2>&1)
rc=$?
echo "$text"
expect_eq "run: a script that never finishes loading is exit 2" "$rc" 2
expect_match "run: names script, line and limit" "$text" \
    "load_hang.lua:[0-9]+: the script did not finish loading within 1 s"
text=$(timeout 60 "$LH" run tests/scripts/load_hang_pcall.lua \
    --report-dir "$out/lh" 2>&1)
expect_match "run: a pcall in the loop does not hold the error back" \
    "$text" "load_hang_pcall.lua:[0-9]+: the script did not finish loading"
text=$(timeout 60 "$LH" list tests/scripts/load_hang.lua 2>&1)
rc=$?
check "list: ends (exit $rc)" test "$rc" -ne 124
expect_match "list: says why" "$text" "did not finish loading within 1 s"
mkdir -p "$out/nocorp"     # an explicit --corpora must exist
text=$(timeout 60 "$LH" test tests/scripts/load_hang.lua \
    --corpora "$out/nocorp" --report-dir "$out/lt" 2>&1)
rc=$?
check "test: ends with an error (exit $rc)" test "$rc" -ne 124 -a "$rc" -ne 0
expect_match "test: says why" "$text" "did not finish loading within 1 s"
text=$(timeout 60 "$LH" nightly tests/scripts/load_hang.lua --budget 5s \
    --corpora "$out/nocorp" --work "$out/nw" --report-dir "$out/ln" 2>&1)
rc=$?
check "nightly: ends with an error (exit $rc)" test "$rc" -ne 124 -a "$rc" -ne 0
expect_match "nightly: says why" "$text" "did not finish loading within 1 s"
text=$(timeout 60 "$LH" run tests/scripts/load_hang_worker.lua \
    --report-dir "$out/lw" 2>&1)
echo "$text"
expect_eq "worker: a load that never ends is an error, not a timeout" \
    "$(jget "$out/lw/report.json" 'r.workloads[1].status')" error
expect_match "worker: says why" \
    "$(jget "$out/lw/report.json" 'r.workloads[1].error.message')" \
    "load_hang_worker.lua:[0-9]+: the script did not finish loading within 1 s"
took=$(( $(date +%s) - t0 ))
check "every bounded load ended within seconds (${took}s)" test "$took" -lt 40
unset LEAKHOUND_LOAD_TIMEOUT
text=$(LEAKHOUND_LOAD_TIMEOUT=soon "$LH" run tests/scripts/procs.lua \
    --report-dir "$out/lb" 2>&1)
rc=$?
expect_eq "a malformed LEAKHOUND_LOAD_TIMEOUT is an error (exit 2)" "$rc" 2
expect_match "which names the variable" "$text" \
    "LEAKHOUND_LOAD_TIMEOUT='soon' is not a number of seconds"

finish
