#!/usr/bin/env bash
# leakhound on itself (issue 10, item 19): its detector, JSON reader and
# report renderers as a target are clean; their allocations are counted
# (the leaky twin fails, at the reader).
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

text=$("$LH" run tests/scripts/self.lua --expect --report-dir "$out" 2>&1)
rc=$?
echo "$text"
rep=$out/report.json
expect_eq "exit status 0: every expectation met" "$rc" 0
st() { jget "$rep" "find(r.workloads, 'name', '$1').status"; }
for w in self-json self-detect self-render; do
    expect_eq "$w is clean" "$(st "$w")" pass
done
expect_eq "self-json-leaky fails" "$(st self-json-leaky)" fail
expect_match "its site is in the JSON reader" "$text" \
    "lh_json|json[.]c"

finish
