#!/usr/bin/env bash
# `leakhound report` on fixture reports (tests/reports/): junit.xml is
# well-formed and counts the right testcases, failures and errors;
# summary.md has the rows and stays under 1 MiB for a huge run; index.html
# holds no external reference and one SVG plot per invariant; bad input
# exits 2 naming the file.
source "$(dirname "$0")/lib.sh"
fixtures="$TESTS_DIR/reports"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if ! command -v xmllint >/dev/null; then
    fail "xmllint is not installed (libxml2-utils; ci/deps installs it)"
    finish
    exit 1
fi

# xpath FILE EXPR: a string or number from an XML file
xpath() { xmllint --xpath "$2" "$1" 2>/dev/null; }

render() {   # render NAME: fixture NAME.json into $out/NAME
    "$LH" report "$fixtures/$1.json" --out "$out/$1" >/dev/null
}

# html_checks NAME FIXTURE: no external resources, a plot per invariant
html_checks() {
    local html=$out/$1/index.html
    if grep -Eiq '(src|href)[[:space:]]*=[[:space:]]*["'"'"']?[[:space:]]*(https?:)?//' \
            "$html" || grep -Eiq '@import|url[[:space:]]*\(' "$html"; then
        fail "$1: index.html references something external"
    else
        ok "$1: index.html is self-contained"
    fi
    expect_eq "$1: one SVG plot per invariant" \
        "$(grep -o '<svg class="plot"' "$html" | wc -l)" \
        "$(jget "$2" '(function() local n = 0
            for _, w in ipairs(r.workloads) do n = n + #w.invariants end
            return n end)()')"
    expect_eq "$1: summary.md under 1 MiB" \
        "$(( $(wc -c < "$out/$1/summary.md") < 1048576 ))" 1
}

# --- a schema-1 run: pass, fail with sites, expected fail, error, crash,
# --- expected timeout
render run
check "run: exit 0" test -s "$out/run/junit.xml"
check "run: junit.xml is well-formed" xmllint --noout "$out/run/junit.xml"
j=$out/run/junit.xml
expect_eq "run: testcases" "$(xpath "$j" 'count(//testcase)')" 10
expect_eq "run: failures" "$(xpath "$j" 'count(//testcase/failure)')" 2
expect_eq "run: errors" "$(xpath "$j" 'count(//testcase/error)')" 2
expect_eq "run: totals on testsuites" \
    "$(xpath "$j" 'concat(/testsuites/@tests, " ", /testsuites/@failures, " ", /testsuites/@errors)')" \
    "10 2 2"
expect_eq "run: one testsuite per script" \
    "$(xpath "$j" 'count(/testsuites/testsuite)') $(xpath "$j" 'string(/testsuites/testsuite[2]/@name)')" \
    "2 tests/scripts/other.lua"
expect_eq "run: suite counts add up" \
    "$(xpath "$j" 'concat(/testsuites/testsuite[1]/@tests, " ", /testsuites/testsuite[1]/@failures, " ", /testsuites/testsuite[2]/@errors)')" \
    "7 2 2"
expect_eq "run: the failing invariants are the failures" \
    "$(xpath "$j" '//testcase[failure]/@name' | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')" \
    'name="heap.live_bytes stable" name="heap.live_allocs max_growth"'
expect_eq "run: named by workload (classname, escaped markup intact)" \
    "$(xpath "$j" 'string(//testcase[failure][1]/@classname)')" \
    "cache <leaks> | badly"
f=$(xpath "$j" 'string(//testcase[@name="heap.live_bytes stable"]/failure)')
expect_match "run: the failure carries slope, threshold and p" "$f" \
    'growth_per_iter: \+160 B/iter.*p<0.001'
expect_match "run: ... and the sites" "$f" \
    'cache_put \(targets/c/cache\.c:97\)'
expect_match "run: ... and the repro command" "$f" \
    "repro: build/leakhound run tests/scripts/demo.lua --workload 'cache <leaks> \| badly'"
expect_match "run: expected failure passes with a note" \
    "$(xpath "$j" 'string(//testcase[@classname="fd-leak-expected"][1]/system-out)')" \
    '^failed as expected'
expect_eq "run: crash is an error with signal and phase" \
    "$(xpath "$j" 'string(//testcase[@classname="crasher"]/error/@message)')" \
    "crashed: Segmentation fault (signal 11) in measure"
expect_match "run: ... and the output tail" \
    "$(xpath "$j" 'string(//testcase[@classname="crasher"]/error)' |
       tr '\n' ' ')" 'output \(tail\): AddressSanitizer'
expect_eq "run: an expected timeout passes" \
    "$(xpath "$j" 'count(//testcase[@classname="hang-expected"]/*[self::error or self::failure])')" 0
if LC_ALL=C grep -q $'\x1b\|\x01' "$j"; then
    fail "run: control characters leaked into junit.xml"
else
    ok "run: control characters stripped from junit.xml"
fi

md=$out/run/summary.md
expect_match "run: summary headline" "$(head -1 "$md")" \
    '^## .* leakhound run: gate failed'
expect_eq "run: a row per workload" "$(grep -c '^| [^|]' "$md")" 6
expect_eq "run: three gate failures, listed first" \
    "$(grep '^| [^|]' "$md" | head -3 | grep -c '\*\*failed\*\*')" 3
expect_match "run: the failing row names metric, growth and why" \
    "$(grep 'cache &lt;leaks&gt; \\| badly' "$md" | head -1)" \
    '`heap.live_bytes` stable: fail \| \+160 B/iter \| — \| upward trend'
expect_match "run: the crash row says what crashed" "$(grep crasher "$md")" \
    'crashed: Segmentation fault'
expect_match "run: where it grows" "$(sed -n '/### Where it grows/,$p' "$md")" \
    '\+640 KiB in `cache_put`'
html_checks run "$fixtures/run.json"
h=$out/run/index.html
for name in 'cache &lt;leaks&gt; | badly' 'clean-pass' 'fd-leak-expected' \
            'crasher' 'hang-expected' 'tests/scripts/other.lua'; do
    check "run: index.html has $name" grep -qF "$name" "$h"
done
expect_eq "run: failing workloads first in the contents" \
    "$(grep -o '<h2>[^<]*</h2>' "$h" | head -1)" "<h2>Failing the gate</h2>"
check "run: sites, output tail and repro on the page" \
    grep -q 'grow_table.*\|AddressSanitizer' "$h"

# --- a test report: explicit gates, stored baselines, regression cases
render test
j=$out/test/junit.xml
check "test: junit.xml is well-formed" xmllint --noout "$j"
expect_eq "test: testcases (5 invariants + 4 cases)" \
    "$(xpath "$j" 'count(//testcase)')" 9
expect_eq "test: failures" "$(xpath "$j" 'count(//failure)')" 3
expect_eq "test: a baseline failure fails a passing invariant" \
    "$(xpath "$j" 'string(//testcase[@classname="creeping-cache"][1]/failure/@type)')" \
    baseline
expect_eq "test: regression suite" \
    "$(xpath "$j" 'concat(//testsuite[@name="regressions"]/@tests, " ", //testsuite[@name="regressions"]/@failures)')" \
    "4 2"
expect_eq "test: failing cases by id" \
    "$(xpath "$j" '//testcase[@classname="regressions"][failure]/@name' | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')" \
    'name="leak-0002" name="leak-0003"'
md=$out/test/summary.md
expect_match "test: headline carries the gate's reason" "$(head -1 "$md")" \
    'gate failed .* 1 workload and 2 regression cases'
expect_match "test: baseline line" "$(cat "$md")" \
    'Baseline `tests/baseline.json`: 4 invariants compared, 1 grew past it'
expect_match "test: baseline failure row" "$(grep creeping-cache "$md" | head -1)" \
    'baseline fail'
expect_eq "test: regression rows" \
    "$(sed -n '/### Regression cases/,/^$/p;/### Regression cases/,/^###/p' "$md" | grep -c '`leak-000')" 4
html_checks test "$fixtures/test.json"
check "test: regressions section" grep -q 'id="regressions"' "$out/test/index.html"
check "test: stored baseline drawn" grep -q 'class="stored"' "$out/test/index.html"

# --- a nightly report
render nightly
j=$out/nightly/junit.xml
check "nightly: junit.xml is well-formed" xmllint --noout "$j"
expect_eq "nightly: findings as cases, the new one failing" \
    "$(xpath "$j" 'concat(count(//testcase), " ", count(//testcase[@classname="nightly.new"]/failure))')" \
    "3 1"
expect_match "nightly: summary section" "$(cat "$out/nightly/summary.md")" \
    '### Nightly fuzzing.*'
expect_match "nightly: new findings table" "$(cat "$out/nightly/summary.md")" \
    '#### New findings'
check "nightly: page section" grep -q 'id="nightly"' "$out/nightly/index.html"

# --- a huge run: summary.md stays far under GitHub's 1 MiB limit
big=$out/big.json
awk 'BEGIN {
    reason = "upward trend +66.0/iter (p<0.001) over last 16 samples; "
    for (i = 0; i < 6; i++) reason = reason "floor +528112 > slack 0; "
    printf "{\"schema\":1,\"exit_code\":1,\"summary\":{\"workloads\":4000},"
    printf "\"workloads\":["
    for (i = 0; i < 4000; i++) {
        printf "%s{\"name\":\"workload-number-%05d-with-a-long-name\",", \
            (i ? "," : ""), i
        printf "\"script\":\"lua/suites/s%d.lua\",\"status\":\"fail\",", i % 7
        printf "\"expect\":null,\"invariants\":[{\"metric\":\"heap.live_bytes\","
        printf "\"kind\":\"stable\",\"status\":\"fail\",\"unit\":\"B\","
        printf "\"growth_per_iter\":66,\"threshold\":0,\"judged_samples\":3,"
        printf "\"reason\":\"%s\",\"sites\":[{\"func\":\"leak_%d\",", reason, i
        printf "\"location\":\"src/leak.c:%d\",\"detail\":\"\",\"bytes\":1000,", i
        printf "\"count\":10,\"stack\":\"main;leak\"}],"
        printf "\"series\":[[0,1],[10,661],[20,1321],[30,1981]]}]}"
    }
    printf "]}\n"
}' > "$big"
mkdir -p "$out/big"
if "$LH" report "$big" --out "$out/big" >/dev/null; then
    ok "big: renders"
else
    fail "big: renders"
fi
size=$(wc -c < "$out/big/summary.md")
check "big: summary.md is $size bytes, under 600 KiB" test "$size" -lt 614400
expect_match "big: says how many rows it left out" \
    "$(tail -5 "$out/big/summary.md")" '_[0-9]+ (workload rows|sites) omitted'
check "big: junit.xml is well-formed" xmllint --noout "$out/big/junit.xml"
expect_eq "big: every invariant is a testcase" \
    "$(xpath "$out/big/junit.xml" 'count(//testcase)')" 4000
expect_eq "big: every invariant has a plot" \
    "$(grep -o '<svg class="plot"' "$out/big/index.html" | wc -l)" 4000

# --- bad input: exit 2, the file named
printf '{\n  "schema": 1,\n  "workloads": [1,,]\n}\n' > "$out/bad.json"
msg=$("$LH" report "$out/bad.json" 2>&1); rc=$?
expect_eq "bad JSON: exit 2" "$rc" 2
expect_match "bad JSON: file:line:col" "$msg" "bad.json:3:[0-9]+: "
echo '{"hello": 1}' > "$out/notreport.json"
msg=$("$LH" report "$out/notreport.json" 2>&1); rc=$?
expect_eq "not a report: exit 2" "$rc" 2
expect_match "not a report: says so" "$msg" \
    "notreport.json: not a leakhound report"
msg=$("$LH" report "$out/missing.json" 2>&1); rc=$?
expect_eq "missing file: exit 2" "$rc" 2
expect_match "missing file: named" "$msg" "missing.json: No such file"
"$LH" report >/dev/null 2>&1; rc=$?
expect_eq "no argument: exit 2" "$rc" 2

# --- default output: next to the report, nothing else left there
mkdir -p "$out/here"
cp "$fixtures/run.json" "$out/here/report.json"
"$LH" report "$out/here/report.json" >/dev/null
expect_eq "default --out is the report's directory, written atomically" \
    "$(ls -A "$out/here" | tr '\n' ' ')" \
    "index.html junit.xml report.json summary.md "

finish
