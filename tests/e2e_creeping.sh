#!/usr/bin/env bash
# A robust trend under the slack (tests/scripts/creeping.lua): the worker
# measures on to where its pace puts twice the slack on the run and judges
# again, so a slow leak the planned run was too short for fails, named at
# its site; the LRU twin passes; with horizon = 1 the pass stands and the
# output says the run was not extended and why.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $out" || trap 'rm -rf "$out"' EXIT

"$LH" run tests/scripts/creeping.lua --expect --report-dir "$out/r" \
    >"$out/run.txt" 2>&1
rc=$?
expect_eq "every workload as expected (--expect)" "$rc" 0
txt=$(cat "$out/run.txt")
expect_match "the slow leak: measured on past the planned run" "$txt" \
    'heap[.]live_bytes grows within its slack: measuring on to iteration [0-9]+ to tell a leak from a slow fill'
rep=$out/r/report.json
expect_match "the slow leak: failed at its site" \
    "$(jget "$rep" "(function() local w = find(r.workloads, 'name',
        'creep-leak') local i = w.invariants[1]
        return i.status .. ' ' .. (i.sites[1] and i.sites[1].func .. ' ' ..
        i.sites[1].location or 'no site') end)()")" \
    '^fail unb_intern targets/c/cache[.]c:[0-9]+$'
expect_eq "the slow leak: iterations beyond the planned 2000" \
    "$(jget "$rep" "(function() local w = find(r.workloads, 'name',
        'creep-leak') return (w.iterations > w.planned_iterations and
        w.planned_iterations == 2000) and 'extended' or
        (w.iterations .. ' of ' .. tostring(w.planned_iterations)) end)()")" \
    extended
# judged again on as many new samples as planned (30), not stopped at
# the first failing one: the old samples' slope over a longer window
expect_eq "the slow leak: judged on 30 new samples (61 in all)" \
    "$(jget "$rep" "(function() local w = find(r.workloads, 'name',
        'creep-leak') return #w.invariants[1].series end)()")" 61
expect_match "horizon = 1: not extended, said so" "$txt" \
    'grows within its slack: iteration [0-9]+ would tell a leak from a slow fill, past horizon = 1 [(]2100[)]: not extended'
[ "$rc" = 0 ] || cat "$out/run.txt"
finish
