#!/usr/bin/env bash
# A Go map never pruned, one small key per call (tests/scripts/
# go_map_steps.lua): its heap steps only at the map's doublings, each under
# the Go heap slack in 10,000 iterations, and passed as "trend not robust".
# Steps never given back, doubling in height and interval: the run goes on
# to twice the last one's iteration, where the leak steps again (fail,
# blamed on its line) and the same map pruned at 8,000 keys, alike up to
# there, is a plateau (pass).  With horizon = 1 the leak's pass stands on
# the slack (as a trend under it does) and the output says why.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $out" || trap 'rm -rf "$out"' EXIT

"$LH" run tests/scripts/go_map_steps.lua --expect --report-dir "$out/r" \
    >"$out/run.txt" 2>&1
rc=$?
expect_eq "the map never pruned fails, the pruned one passes (--expect)" \
    "$rc" 0
rep=$out/r/report.json
inv() { jget "$rep" "find(find(r.workloads, 'name', '$1').invariants, \
'metric', 'go.heap_live_bytes').$2"; }
expect_match "the leak: measured on, failed in steps" \
    "$(inv go-seen-leak reason)" 'grows in steps: .*not a plateau'
expect_match "the leak: blamed on the map's insert" \
    "$(jget "$rep" "(function() local w = find(r.workloads, 'name',
        'go-seen-leak') local i = find(w.invariants, 'metric',
        'go.heap_live_bytes') return i.sites[1].func .. ' ' ..
        i.sites[1].location end)()")" \
    'seenSet[)][.]mark mapdelete/seen[.]go:[0-9]+'
expect_match "the bounded map: a plateau at twice its last step" \
    "$(inv go-seen-bounded reason)" '^plateau: last step .* none up to 1[3-9][0-9]{3}'
expect_match "both measured on past the planned 10,000" \
    "$(grep -c 'to tell a plateau from growth in steps (at most' \
       "$out/run.txt")" '^2$'
txt=$(cat "$out/run.txt")
expect_match "horizon = 1: not extended, said so" "$txt" \
    'stepped and may step again: iteration [0-9]+ would tell a plateau from growth in steps, past horizon = 1'
expect_match "horizon = 1: the pass stands on the slack, said so" \
    "$(inv go-seen-leak-no-room reason)" '^steps under the slack: '
[ "$rc" = 0 ] || cat "$out/run.txt"
finish
