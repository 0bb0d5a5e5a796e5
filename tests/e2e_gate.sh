#!/usr/bin/env bash
# e2e_gate.sh - `leakhound test` as a merge gate, on a library built with
# its leak in ($GATE_LEAKY) and with it fixed ($GATE_FIXED): a leaky
# workload fails the gate with a JUnit failure naming it; a regression case
# passes once the leak is fixed and fails when the leak comes back; a
# creeping peak is caught against a stored baseline; bad files are named.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S=tests/scripts/gate.lua
C=$T/corpora
mkdir -p "$C"    # an explicit --corpora must exist (issue 10, item 4)
export LH_GATE_TARGET=$GATE_FIXED

gate() {    # gate NAME [ENV=V...] -- ARGS...: runs leakhound test into $T/NAME
    local name=$1; shift
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" "$LH" test "$S" --report-dir "$T/$name" \
        --corpora "$C" "$@" >"$T/$name.out" 2>&1
}

# 1. Clean workloads pass; every report file is written.
gate clean LH_GATE_KEYS=100 --
expect_eq "clean suite: the gate passes" "$?" 0
for f in report.json junit.xml summary.md index.html; do
    check "clean suite: $f written" test -s "$T/clean/$f"
done
expect_eq "report says kind test, gate ok" \
    "$(jget "$T/clean/report.json" 'r.kind .. " " .. tostring(r.gate.ok)')" \
    "test true"

# 2. A leaky workload fails the gate, named in JUnit.
gate leaky LH_GATE_KEYS=0 --
expect_eq "unbounded cache: the gate fails with status 1" "$?" 1
expect_eq "its gate verdict is in the report" \
    "$(jget "$T/leaky/report.json" '(function() for _, w in ipairs(r.workloads) do if w.name == "gate-cache" then return tostring(w.gate.ok) end end end)()')" \
    "false"
expect_match "JUnit has a failure for gate-cache" \
    "$(tr '\n' ' ' < "$T/leaky/junit.xml")" \
    '<testcase[^>]*gate-cache[^>]*>[^<]*<failure'
expect_match "the run says which workload failed the gate" \
    "$(cat "$T/leaky.out")" 'GATE +gate-cache'

# 3. A regression case: found on the leaky build, filed once.
printf '!boom' > "$T/input"
LH_GATE_TARGET=$GATE_LEAKY "$LH" repro "$S" --workload gate-record \
    "$T/input" --artifact-dir "$T/art" > "$T/repro.out" 2>&1
expect_eq "the '!' input leaks on the leaky build" "$?" 1
art=$(ls "$T"/art/leak-* 2>/dev/null | grep -v '\.json$' | head -1)
out=$("$LH" file "$art" --corpora "$C" 2>&1)
expect_match "leakhound file files the artifact" "$out" '^filed .* as gate-record-[0-9a-f]{12}$'
out=$("$LH" file "$art" --corpora "$C" 2>&1)
expect_match "filing it again is a no-op" "$out" '^already filed'
case_dir=$(ls -d "$C"/gate-leaky/regressions/gate-record-* 2>/dev/null)
check "the case has its input" cmp -s "$case_dir/input" "$T/input"
expect_eq "case.json: workload, metric, how found" \
    "$(jget "$case_dir/case.json" 'r.workload .. " " .. r.metric .. " " .. r.found.by')" \
    "gate-record heap.live_bytes manual"
expect_match "case.json has the command that replays it" \
    "$(jget "$case_dir/case.json" 'r.repro')" \
    "^leakhound repro tests/scripts/gate.lua --workload gate-record .*/input$"

gate fixed --
expect_eq "fixed build: the case passes (a fixed leak stays fixed)" "$?" 0
expect_eq "the case is reported fixed" \
    "$(jget "$T/fixed/report.json" 'r.regressions[1].status .. " " .. tostring(r.regressions[1].gate.ok)')" \
    "fixed true"

gate back LH_GATE_TARGET="$GATE_LEAKY" --
expect_eq "leak re-introduced: the gate fails" "$?" 1
expect_eq "the case is reported as leaking again" \
    "$(jget "$T/back/report.json" 'r.regressions[1].status .. " " .. tostring(r.regressions[1].gate.ok)')" \
    "leaks false"
expect_match "JUnit has a failure for the case" \
    "$(tr '\n' ' ' < "$T/back/junit.xml")" \
    '<testcase[^>]*gate-record-[0-9a-f]{12}[^>]*>[^<]*<failure'
expect_match "the run prints the case and how to replay it" \
    "$(cat "$T/back.out")" 'FAIL +regression gate-record-.*still leaks'

# 4. Baselines: stored, matched, and a creeping peak caught.
B=$T/baseline.json
gate base LH_GATE_KEYS=100 -- --workload gate-cache --baseline "$B" \
    --update-baseline
expect_eq "--update-baseline: passes and writes the file" "$?:$(test -s "$B" && echo y)" "0:y"
gate same LH_GATE_KEYS=100 -- --workload gate-cache --baseline "$B"
expect_eq "same code against its baseline: passes" "$?" 0
expect_eq "every invariant compared and within" \
    "$(jget "$T/same/report.json" 'r.workloads[1].invariants[1].stored_baseline.status .. " " .. r.workloads[1].invariants[2].stored_baseline.status')" \
    "pass pass"
gate creep LH_GATE_KEYS=3000 -- --workload gate-cache --baseline "$B"
expect_eq "30x the keys: the gate fails on the baseline" "$?" 1
expect_eq "... while the invariants themselves pass" \
    "$(jget "$T/creep/report.json" 'r.workloads[1].status .. " " .. r.workloads[1].invariants[1].stored_baseline.status')" \
    "pass fail"
expect_match "the reason names the peak" \
    "$(jget "$T/creep/report.json" 'r.workloads[1].gate.reason')" \
    'exceeds the baseline: heap.live_bytes peak rose'
expect_match "JUnit carries the baseline failure" \
    "$(tr '\n' ' ' < "$T/creep/junit.xml")" '<failure[^>]*>[^<]*baseline'

# 5. Bad input is named.
printf '{"workloads": {,}}\n' > "$T/bad.json"
gate badbase -- --workload gate-cache --baseline "$T/bad.json"
expect_eq "a malformed baseline is an error (2)" "$?" 2
expect_match "... naming file:line:column" "$(cat "$T/badbase.out")" \
    "bad.json:1:16: expected a member name"
echo '{"workload": 1}' > "$case_dir/case.json"
gate badcase --
expect_eq "a malformed case file fails the gate" "$?" 2
expect_match "... naming the file and field" "$(cat "$T/badcase.out")" \
    "case.json: missing string field 'workload'"
out=$("$LH" test no/such/dir 2>&1)
expect_eq "a missing script path is a usage error" "$?" 2
expect_match "... naming it" "$out" 'no/such/dir: No such file'

finish
