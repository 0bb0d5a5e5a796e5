#!/usr/bin/env bash
# A cache that fills past the middle of the run (tests/targets/latefill.c:
# an LRU of 8,000 entries in 10,000 iterations) used to fail `stable`.
# The fill stopped for the judged half's last quarter: the run goes on to
# twice the iteration it stopped at and passes as a plateau; the map never
# pruned fails; with no room to go on (horizon = 1) it is unresolved,
# never a pass.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$LH" run "$TESTS_DIR/scripts/late_fill.lua" --expect \
    --report-dir "$out/r" >"$out/run.txt" 2>&1
rc=$?
cat "$out/run.txt"
expect_eq "run: the LRU passes, the map fails, no room is unresolved" \
    "$rc" 0
inv() { jget "$out/r/report.json" "find(find(r.workloads, 'name', \
'$1').invariants, 'metric', 'heap.live_bytes').$2"; }
expect_match "the LRU: a plateau, filled at ~8,000, flat to twice that" \
    "$(inv late-fill-lru reason)" '^plateau: filled by iteration [0-9]+, flat to 1[6-9][0-9]{3}'
expect_match "the no-room LRU says what it needs" \
    "$(inv late-fill-lru-no-room reason)" 'raise iterations to at least 1[6-9][0-9]{3}'
expect_eq "the map never pruned fails without going on" \
    "$(jget "$out/r/report.json" "find(r.workloads, 'name', \
'late-fill-map-leak').iterations")" 10000
finish
