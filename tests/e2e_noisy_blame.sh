#!/usr/bin/env bash
# Slow leaks beside noise (tests/targets/noisyleaks.c): 1 KiB every 500th
# call, or 16 bytes a call, next to a ring of scratch buffers that may
# hold 256 KiB at the end of the run.  The blame names the leaking line,
# never the ring's (it used to: sampled sites of a few samples, and a
# second look of one phase, held the ring's last buffers); the clean twin
# passes.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

src=$TESTS_DIR/targets/noisyleaks.c
line() { grep -n "$1" "$src" | head -n 1 | cut -d: -f1; }
rare=$(line 'the rare leak')
small=$(line 'the small leak')

"$LH" run "$TESTS_DIR/scripts/noisy_blame.lua" --expect \
    --report-dir "$out/r" >"$out/run.txt" 2>&1
rc=$?
cat "$out/run.txt"
expect_eq "run: the leaks fail, the clean twin passes" "$rc" 0
top() { jget "$out/r/report.json" "find(find(r.workloads, 'name', \
'$1').invariants, 'metric', 'heap.live_bytes').sites[1].$2"; }
expect_eq "1 KiB every 500th call: the top site is record_event" \
    "$(top noisy-request_rare func)" record_event
expect_match "... at its malloc's line" \
    "$(top noisy-request_rare location)" "noisyleaks\.c:$rare\$"
expect_eq "16 bytes a call: the top site is request_small" \
    "$(top noisy-request_small func)" request_small
expect_match "... at its malloc's line" \
    "$(top noisy-request_small location)" "noisyleaks\.c:$small\$"
# the second look's steps (up to iterations more) are the diagnosis's:
# not in the report's iterations, which say how far the run measured
expect_eq "the report's iterations leave out the second look's steps" \
    "$(jget "$out/r/report.json" "find(r.workloads, 'name', \
'noisy-request_small').iterations")" 10000
finish
