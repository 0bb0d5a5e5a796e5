#!/usr/bin/env bash
# e2e_bursts.sh - leaks the default invariants used to pass, each with its
# clean twin, over five seeds (fresh workers): the leak fails on the metric
# its workload expects, naming the function that holds the growth; the twin
# passes.  Issue 11: growth in bursts (lost nodes under contention), a
# buffer growing x4 or x8 per step, SysV shared memory never detached.
#
#     tests/e2e_bursts.sh [RUNS]
source "$(dirname "$0")/lib.sh"
runs=${1:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# pair LEAK TWIN METRIC SITE_FUNCTION
pair() {
    local leak=$1 twin=$2 metric=$3 site=$4 run rep
    for run in $(seq 1 "$runs"); do
        rep=$out/$leak.$run
        "$LH" run lua/suites/c.lua --workload "$leak" --workload "$twin" \
            --seed "$run" --report-dir "$rep" >"$rep.txt" 2>&1
        if [ ! -f "$rep/report.json" ]; then
            cat "$rep.txt"
            fail "seed $run: $leak, $twin: no report"
            continue
        fi
        local w="(function() for _, w in ipairs(r.workloads) do if w.name == '$leak' then return w end end end)()"
        local t="(function() for _, w in ipairs(r.workloads) do if w.name == '$twin' then return w end end end)()"
        local inv="(function() for _, i in ipairs($w.invariants) do if i.metric == '$metric' then return i end end end)()"
        expect_eq "seed $run: $leak fails $metric as it expects" \
            "$(jget "$rep/report.json" "$w.status .. ' ' .. $inv.status .. ' ' .. tostring($w.expect.met)")" \
            "fail fail true"
        expect_eq "seed $run: $leak names $site" \
            "$(jget "$rep/report.json" "$inv.sites ~= nil and $inv.sites[1] ~= nil and $inv.sites[1].func")" \
            "$site"
        expect_eq "seed $run: $twin passes" \
            "$(jget "$rep/report.json" "$t.status .. ' ' .. tostring($t.expect.met)")" \
            "pass true"
        [ "$FAILED" -eq 0 ] || grep -E "^(FAIL|ERROR|pass|fail) " "$rep.txt" | head
    done
}

pair c-lockfree-push-leak c-lockfree-push-clean heap.live_bytes \
    lockfree_push_leaky
pair c-steps-log4 c-steps-ring4 heap.live_bytes grow4
pair c-steps-log8 c-steps-ring8 heap.live_bytes grow8
pair c-sysvshm-leak c-sysvshm-ring mmap.live_bytes region_new
finish
