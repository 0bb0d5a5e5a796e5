#!/usr/bin/env bash
# e2e_gate_suites.sh - what ci/gate runs: the bundled suites pass the merge
# gate against the stored baseline (ci/baseline.json), every expected leak
# failing as expected and no clean workload creeping past its tolerance.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$LH" test lua/suites --baseline ci/baseline.json --report-dir "$T" \
    > "$T/out.txt" 2>&1
rc=$?
expect_eq "leakhound test lua/suites --baseline ci/baseline.json: passes" \
    "$rc" 0
# On failure, what the gate said and the workloads it did not pass (the
# many expected FAIL lines would hide them).
if [ "$rc" -ne 0 ]; then
    grep -E '^(gate|baseline|GATE|[0-9]+ workloads)' "$T/out.txt"
    jget "$T/report.json" '(function() local t = {}
        for _, w in ipairs(r.workloads) do
            if not (w.gate and w.gate.ok) then
                t[#t + 1] = w.name .. " " .. w.status
            end
        end
        return "not passed by the gate: " .. table.concat(t, "; ") end)()'
fi
expect_match "every stored invariant was compared" "$(cat "$T/out.txt")" \
    'baseline ci/baseline.json: [0-9]+ invariants compared, 0 beyond'
expect_eq "the leaky workloads failed, as they expect" \
    "$(jget "$T/report.json" 'count(r.workloads, function(w) return w.status == "fail" and w.gate.ok end) > 10')" \
    "true"
finish
