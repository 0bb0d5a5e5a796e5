#!/usr/bin/env bash
# Goroutines that end later than the step (tests/scripts/go_inflight.lua):
# a run shorter than their lifetime sees them all running; once the steps
# stop they end, and the run goes on with a wait before each sample:
# clean. A goroutine parked forever every 10th call among them still
# fails, named at its site.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $out" || trap 'rm -rf "$out"' EXIT

"$LH" run tests/scripts/go_inflight.lua --expect --report-dir "$out/r" \
    >"$out/run.txt" 2>&1
rc=$?
expect_eq "every workload as expected (--expect)" "$rc" 0
txt=$(cat "$out/run.txt")
expect_match "in-flight goroutines seen ending, the run paced" "$txt" \
    'go[.]goroutines: [0-9]+ of [0-9]+ goroutines ended within [0-9]+ ms of the last step [(]in flight[)]: measuring 30 more phases, each followed by a [0-9]+ ms wait'
rep=$out/r/report.json
expect_eq "the clean one judged on the paced phases too (61 samples)" \
    "$(jget "$rep" "(function() local w = find(r.workloads, 'name',
        'inflight-clean') return w.status .. ' ' .. #w.invariants[1].series
        end)()" 2>/dev/null || echo '?')" "pass 61"
expect_match "the parked goroutine: failed at its site" \
    "$(jget "$rep" "(function() local w = find(r.workloads, 'name',
        'inflight-with-leak') local i = w.invariants[1]
        return i.status .. ' ' .. (i.sites[1] and i.sites[1].func or '')
        end)()")" '^fail main[.]flushLaterLeaky[.]func1$'
[ "$rc" = 0 ] || cat "$out/run.txt"
finish
