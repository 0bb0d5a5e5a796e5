#!/usr/bin/env bash
# Bad scripts and bad configuration: clear errors naming what is at fault,
# exit status 2, and the other workloads still run.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

text=$("$LH" run tests/scripts/errors.lua tests/scripts/bad_field.lua \
    tests/scripts/bad_metric.lua --report-dir "$out" 2>&1)
rc=$?
echo "$text"
rep=$out/report.json
expect_eq "exit status 2 for script and configuration errors" "$rc" 2

m() { jget "$rep" "find(r.workloads, 'name', '$1').error.message"; }
expect_match "undefined global is an error with file:line" \
    "$(m typo-global)" "errors.lua:9: undefined global 'lbi'"
expect_match "creating a global inside a function is an error" \
    "$(m assign-undeclared-global)" "errors.lua:14: assignment to undeclared global 'counter'"
expect_match "Go metric on a C target is a configuration error" \
    "$(m go-metric-on-c-target)" "go.goroutines.*does not link the leakhound Go probe"
expect_match "missing gauge names the gauge function" \
    "$(m missing-gauge)" "leakhound_gauge_no_such_gauge"
expect_match "missing library names the library" \
    "$(m missing-library)" "cannot open target library 'build/targets/c/libnope.so'"
expect_match "error in setup keeps file:line" \
    "$(m error-in-setup)" "errors.lua:36: setup refused"
tb=$(jget "$rep" "find(r.workloads, 'name', 'error-in-setup').error.traceback")
expect_match "error comes with a traceback" "$tb" "stack traceback"
expect_match "error in the input generator" \
    "$(m error-in-generator)" "errors.lua:42: generator broke"
expect_eq "a good workload in the same script still passes" \
    "$(jget "$rep" "find(r.workloads, 'name', 'still-runs').status")" pass
expect_match "misspelt field: did you mean" \
    "$(m tests/scripts/bad_field.lua)" "bad_field.lua:4: .*unknown field 'iteration' \(did you mean 'iterations'\?\)"
expect_match "unknown metric names the line and the known metrics" \
    "$(m tests/scripts/bad_metric.lua)" "bad_metric.lua:8: unknown metric 'heap.live_byte'"

# usage errors
"$LH" run tests/scripts/errors.lua --workload nothing-like-this \
    --report-dir "$out/u" >"$out/u.txt" 2>&1
expect_eq "unknown --workload is a usage error" "$?" 2
expect_match "unknown --workload lists the workloads" "$(cat "$out/u.txt")" \
    "no workload matches --workload 'nothing-like-this' \(workloads: typo-global"
"$LH" run --seed x tests/scripts/errors.lua >/dev/null 2>&1
expect_eq "bad --seed is a usage error" "$?" 2
"$LH" run --bogus >/dev/null 2>&1
expect_eq "unknown option is a usage error" "$?" 2
help=$("$LH" --help)
expect_match "--help documents the exit statuses" "$help" \
    "3  a workload crashed or timed out"

# --workload selects by glob
"$LH" run tests/scripts/errors.lua --workload 'still-*' \
    --report-dir "$out/g" >/dev/null 2>&1
expect_eq "--workload glob runs only the matching workload" \
    "$(jget "$out/g/report.json" '#r.workloads')" 1

# A tab or a newline in a workload name survives the worker protocol and
# every report file (issue 9, defect 2).
text=$("$LH" run tests/scripts/names.lua --report-dir "$out/n" 2>&1)
echo "$text"
check "a step error prints the whole name with its tab" \
    grep -qF $'ERROR multi\tline  ' <<<"$text"
check "... and the whole name with its newline" \
    python3 -c 'import sys; assert sys.argv[2] in sys.argv[1]' "$text" \
    $'ERROR multi\nline  '
"$LH" report "$out/n/report.json" --out "$out/n" >/dev/null 2>&1
expect_eq "leakhound report renders the names" "$?" 0
names=$(python3 - "$out/n" <<'PY' 2>&1
import json, os, sys
d = sys.argv[1]
r = json.load(open(os.path.join(d, "report.json"), encoding="utf-8"))
names = [w["name"] for w in r["workloads"]]
assert names == ["multi\tline", "multi\nline", "leaky\nname"], names
for w in r["workloads"][:2]:
    assert w["status"] == "error", w["status"]
leaky = r["workloads"][2]
files = [f for inv in leaky["invariants"] for f in inv["files"]]
assert files, "no files listed"
for f in files:
    assert os.path.isfile(f), "listed but missing: %r" % f
    assert f.startswith(os.path.join(d, "leaky\nname") + "/"), f
print("exact")
PY
)
expect_eq "report.json (strict parser): exact names, real files" \
    "$names" exact
junit=$(cat "$out/n/junit.xml")
check "junit.xml: the tab as a character reference" \
    grep -qF 'multi&#9;line' <<<"$junit"
check "junit.xml: the newline as a character reference" \
    grep -qF 'multi&#10;line' <<<"$junit"
md=$(cat "$out/n/summary.md")
check "summary.md: the tab as a character reference" \
    grep -qF 'multi&#9;line' <<<"$md"
check "summary.md: the newline as a character reference" \
    grep -qF 'multi&#10;line' <<<"$md"
check "summary.md: no table row split by a name" \
    python3 -c 'import sys
rows = [l for l in open(sys.argv[1], encoding="utf-8") if l.startswith("|")]
assert all(l.rstrip("\n").endswith("|") for l in rows)' "$out/n/summary.md"
check "index.html: the names whole, as text" \
    python3 -c 'import sys
h = open(sys.argv[1], encoding="utf-8").read()
assert ">multi\tline<" in h and ">multi\nline<" in h' "$out/n/index.html"

finish
