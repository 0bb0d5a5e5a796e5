#!/usr/bin/env bash
# e2e_gate_replays.sh - `leakhound test` replays each regression case in
# one fresh process (`leakhound __repro`, what `repro` starts: one process
# start per case, issue 13), and judges it as `repro` would: a clean
# replay is fixed, a replay that crashes is crashed and one that hangs
# past --replay-timeout is a timeout, each with repro's one-line reason at
# the end of its log; the gate does not pass.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S=tests/scripts/replays.lua

case_of() {     # case_of ID INPUT
    local d=$T/corpora/faults/regressions/$1
    mkdir -p "$d"
    printf '%s' "$2" >"$d/input"
    printf '{"workload":"replay-faults","script":"%s","signature":"%s",%s\n' \
        "$S" "$1" '"metric":"heap.live_bytes"}' >"$d/case.json"
}
case_of replay-faults-000000000001 "fine"
case_of replay-faults-000000000002 "CRASH here"
case_of replay-faults-000000000003 "HANG here"

t0=$(date +%s)
"$LH" test "$S" --corpora "$T/corpora" --report-dir "$T/r" \
    --replay-timeout 2s >"$T/test.out" 2>&1
rc=$?
took=$(( $(date +%s) - t0 ))
cat "$T/test.out"
R=$T/r/report.json
check "the gate does not pass (exit $rc)" test "$rc" -ne 0
check "... and says so" bash -c "! grep -q 'gate: PASSED' '$T/test.out'"
expect_eq "a clean replay: fixed" "$(jget "$R" 'r.regressions[1].status')" \
    fixed
expect_eq "a replay that writes through NULL: crashed" \
    "$(jget "$R" 'r.regressions[2].status')" crashed
expect_match "... with the signal and the input in its reason" \
    "$(jget "$R" 'r.regressions[2].reason')" \
    "^CRASH  the worker died with signal 11 \(Segmentation fault\) replaying .*replay-faults-000000000002/input$"
expect_eq "a replay that hangs: timeout" \
    "$(jget "$R" 'r.regressions[3].status')" timeout
expect_match "... after --replay-timeout, in its reason" \
    "$(jget "$R" 'r.regressions[3].reason')" \
    "^TIMEOUT  no verdict after 2s replaying .*replay-faults-000000000003/input$"
check "... stopped at the timeout, not later (${took} s)" test "$took" -lt 30
log=$(ls "$T"/r/regressions/replay-faults-000000000003.log 2>/dev/null)
check "the timed-out replay's log is kept" test -n "$log"
expect_match "... ending with the reason" "$(tail -n 1 "$log" 2>/dev/null)" \
    "^TIMEOUT  no verdict after 2s"
expect_match "the clean replay's log is repro's output" \
    "$(cat "$T"/r/regressions/replay-faults-000000000001.log 2>/dev/null)" \
    "no leak: no watched metric grew"
finish
