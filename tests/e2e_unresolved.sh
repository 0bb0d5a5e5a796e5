#!/usr/bin/env bash
# e2e_unresolved.sh - a step that the run may not go far enough to tell
# from growth in steps is judged `unresolved`, never `pass`: the console
# says what was needed, report.json, summary.md, junit.xml and
# index.html say unresolved, the exit status is 2 (could not judge), the
# gate does not pass it, and `expect = "unresolved"` can say so; past a
# small `horizon`, past what the timeout leaves, and in a duration run.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
script=tests/scripts/unresolved.lua

text=$("$LH" run "$script" --workload ring4-capped --report-dir "$out/r" 2>&1)
rc=$?
expect_eq "unresolved: exit status 2" "$rc" 2
expect_match "the console line is UNRESOLVED, with what was needed" "$text" \
    "^UNRESOLVED ring4-capped  heap.live_bytes  stable .*unresolved: stepped \+196608 by iteration [0-9]+, a plateau is told only at 2[0-9]{4} .*raise iterations to at least 2[0-9]{4}, or set a plateau bound"
expect_match "it says why the run was not extended" "$text" \
    "past horizon = 2 \(20100\): not extended"
expect_match "the summary counts it" "$text" \
    "1 workload: 0 pass, 0 fail, 0 error, 0 crashed, 0 timeout, 1 unresolved"
r=$out/r/report.json
expect_eq "report.json: workload and invariant unresolved, exit_code 2" \
    "$(jget "$r" "string.format('%s %s %d %d %d', r.workloads[1].status, r.workloads[1].invariants[1].status, r.summary.unresolved, r.summary.pass, r.exit_code)")" \
    "unresolved unresolved 1 0 2"
expect_eq "report.json: not extended, 10000 iterations" \
    "$(jget "$r" "string.format('%d', r.workloads[1].iterations)")" "10000"
md=$(cat "$out/r/summary.md")
expect_match "summary.md counts it" "$md" "1 unresolved"
expect_match "summary.md shows the reason" "$md" "raise iterations to at least"
junit=$(cat "$out/r/junit.xml")
expect_match "junit.xml: an error of type unresolved" "$junit" \
    '<error message="unresolved: [^"]*raise iterations to at least 2[0-9]{4}, or set a plateau bound[^"]*" type="unresolved">'
expect_match "junit.xml: counted as an error" "$junit" 'errors="1"'
html=$(cat "$out/r/index.html")
expect_match "index.html: the workload's badge says unresolved" "$html" \
    '<span class="badge b-warn">unresolved</span>'
expect_match "index.html: the count chip" "$html" '<b>1</b>unresolved<'
expect_match "index.html: the reason" "$html" \
    "unresolved: stepped \+196608 by iteration 4000"

text=$("$LH" run "$script" --workload ring8-slow --report-dir "$out/s" 2>&1)
rc=$?
expect_eq "past what the timeout leaves: exit status 2" "$rc" 2
expect_match "the timeout is named, the run not extended" "$text" \
    "iteration 927[0-9]{2} would tell a plateau from growth in steps, but the timeout \(12s\) leaves time for about [0-9]+ more: not extended"
expect_match "UNRESOLVED, with what was needed" "$text" \
    "^UNRESOLVED ring8-slow  heap.live_bytes  stable .*raise iterations to at least 927[0-9]{2}, or set a plateau bound"

text=$("$LH" run "$script" --workload ring8-duration --report-dir "$out/d" 2>&1)
rc=$?
expect_eq "a duration run: exit status 2" "$rc" 2
expect_match "a duration run is not extended, and says so" "$text" \
    "a duration run is not extended to iteration [0-9]+ to tell a plateau"
expect_match "a duration run: UNRESOLVED" "$text" \
    "^UNRESOLVED ring8-duration  heap.live_bytes  stable .*raise iterations to at least [0-9]+, or set a plateau bound"

"$LH" run "$script" --workload ring4-capped-expected --expect \
    --report-dir "$out/e" >"$out/e.txt" 2>&1
expect_eq "expect = \"unresolved\": met, exit 0 with --expect" "$?" 0

text=$("$LH" run "$script" --workload ring4-fails-and-unresolved --expect \
    --report-dir "$out/f" 2>&1)
expect_eq "expected to fail on one metric, another unresolved: not met" \
    "$?" 1
expect_match "it fails, as expected, and the other is unresolved" "$text" \
    "^UNRESOLVED ring4-fails-and-unresolved  heap.live_bytes"
expect_eq "report.json: status fail, expectation not met" \
    "$(jget "$out/f/report.json" "r.workloads[1].status .. ' ' .. tostring(r.workloads[1].expect.met)")" \
    "fail false"

"$LH" test "$script" --workload ring4-capped --report-dir "$out/g" \
    >"$out/g.txt" 2>&1
rc=$?
check "the gate does not pass it (exit $rc)" test "$rc" -ne 0
expect_match "the gate says why" "$(cat "$out/g.txt")" "unresolved"
finish
