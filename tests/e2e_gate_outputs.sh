#!/usr/bin/env bash
# e2e_gate_outputs.sh - what `leakhound test` reads and writes (issue 10,
# items 1-4 and 7): the gate judges only what this run produced; the
# report dir, the baseline and the corpora are checked before any workload
# runs; regression cases never vanish; two runs never share a report dir
# (or two nights a corpora).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; chmod -R u+w "$T"; rm -rf "$T"' EXIT
S=tests/scripts/gate_outputs.lua
export LH_GATE_TARGET=$GATE_FIXED
mkdir -p "$T/corpora"

lht() {     # lht NAME [ARGS...]: leakhound test, output in $T/NAME.out
    local name=$1; shift
    "$LH" test "$S" --workload outputs-cache --corpora "$T/corpora" "$@" \
        >"$T/$name.out" 2>&1
}
idle() { ! grep -q 'workload.*pass' "$T/$1.out"; }   # idle NAME: none ran

# 1. A report.json that cannot be written: exit 2 naming it, never the
# previous run's verdict.
lht one --report-dir "$T/r1"
expect_eq "a clean run passes" "$?" 0
LH_OUTPUTS_KEYS=0 LH_OUTPUTS_BLOCK="$T/r1" lht two --report-dir "$T/r1"
expect_eq "report.json unwritable midway: exit 2 (not the old pass)" "$?" 2
expect_match "... naming the file" "$(cat "$T/two.out")" \
    "cannot write $T/r1/report.json"
check "... and no 'gate: PASSED'" bash -c "! grep -q 'gate: PASSED' $T/two.out"
check "... the previous run's report.json is not left to gate on" \
    test ! -e "$T/r1/report.json"
LH_OUTPUTS_BLOCK_FILE=index.html LH_OUTPUTS_BLOCK="$T/r1" lht three \
    --report-dir "$T/r1"
expect_eq "index.html unwritable: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$T/three.out")" "$T/r1/index.html"
expect_eq "... and report.json's exit_code is the exit status" \
    "$(jget "$T/r1/report.json" 'r.exit_code')" 2
check "... the previous run's index.html removed" test ! -e "$T/r1/index.html"

# 2. The report dir is checked before the work.
touch "$T/file"
lht file --report-dir "$T/file"
expect_eq "a regular file as the report dir: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$T/file.out")" "$T/file: not a directory"
check "... before any workload ran" idle file
long=$T/d
while [ ${#long} -lt 3900 ]; do long=$long/$(printf 'x%.0s' {1..200}); done
long=$long/$(printf 'y%.0s' $(seq $((4089 - ${#long}))))
mkdir -p "$T/r6/junit.xml/x"
lht inway --report-dir "$T/r6"
expect_eq "a directory where junit.xml goes: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$T/inway.out")" "$T/r6/junit.xml: a dir"
check "... before any workload ran" idle inway
lht long --report-dir "$long"
expect_eq "a 4,090-character report dir: exit 2" "$?:${#long}" "2:4090"
expect_match "... path too long" "$(cat "$T/long.out")" "path too long"
check "... before any workload ran" idle long
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$T/ro" && chmod 555 "$T/ro"
    lht ro --report-dir "$T/ro"
    expect_eq "a read-only report dir: exit 2" "$?" 2
    check "... before any workload ran" idle ro
fi
LH_OUTPUTS_CRASH=1 LH_OUTPUTS_BLOCK="$T/r2" "$LH" test "$S" \
    --workload outputs-crash --corpora "$T/corpora" --report-dir "$T/r2" \
    >"$T/crash.out" 2>&1
expect_eq "a crash: exit 3" "$?" 3
check "... its input is not announced as saved when it was not" \
    bash -c "! grep -q 'saved to' '$T/crash.out'"
expect_match "... the failed write is named" "$(cat "$T/crash.out")" \
    "NOT saved: cannot write $T/r2/inputs/"
mkdir -p "$T/r5" && touch "$T/r5/outputs-cache"
LH_OUTPUTS_KEYS=0 lht stacks --report-dir "$T/r5"
expect_match "folded stacks that cannot be written are reported" \
    "$(cat "$T/stacks.out")" \
    "NOT WRITTEN \(sites\): $T/r5/outputs-cache/heap.live_bytes.folded: Not a"
expect_match "... and listed in the report" \
    "$(jget "$T/r5/report.json" \
        'r.workloads[1].invariants[1].file_errors[1]')" \
    "heap.live_bytes.folded: Not a directory"
"$LH" run "$S" --workload outputs-cache --report-dir "$T/file" \
    >"$T/runfile.out" 2>&1
expect_eq "run: a regular file as the report dir: exit 2" "$?" 2
check "... before any workload ran" idle runfile

# 3. A bad baseline is refused before the work, leaving the dir untouched.
echo '{"schema":99,"workloads":{}}' > "$T/b99.json"
lht b99 --report-dir "$T/rb" --baseline "$T/b99.json"
expect_eq "baseline schema 99: exit 2" "$?" 2
expect_match "... naming file and field" "$(cat "$T/b99.out")" \
    "b99.json: \"schema\": version 99"
cat > "$T/big.json" <<'EOF'
{"schema":1,"workloads":{"outputs-cache":{"script":"x","invariants":{
"heap.live_bytes stable":{"growth_per_iter":0,"peak":"big"}}}}}
EOF
lht big --report-dir "$T/rb" --baseline "$T/big.json"
expect_eq "baseline \"peak\": \"big\": exit 2" "$?" 2
expect_match "... naming file and field" "$(cat "$T/big.out")" \
    "big.json: workloads.\"outputs-cache\".invariants.\"heap.live_bytes \
stable\".\"peak\": expected a number or null, got a string"
check "... the report dir untouched" test ! -e "$T/rb"
lht upd --report-dir "$T/rb" --baseline "$T/file/base.json" --update-baseline
expect_eq "--update-baseline where it cannot be written: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$T/upd.out")" "$T/file: not a directory"
check "... before any workload ran" idle upd

# 4. Regression cases never vanish.
lht nocorp --report-dir "$T/r4" --corpora "$T/no/such"
expect_eq "--corpora that does not exist: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$T/nocorp.out")" "$T/no/such"
check "... before any workload ran" idle nocorp
case4=$T/c4/gate-fixed/regressions/outputs-cache-000000000000
mkdir -p "$case4" && printf 'x' > "$case4/input"
printf '{"workload":"outputs-cache","script":"tests/scripts/renamed.lua",%s\n' \
    '"signature":"s","metric":"heap.live_bytes"}' > "$case4/case.json"
lht renamed --report-dir "$T/r4" --corpora "$T/c4"
expect_eq "a case whose script was renamed: exit 2" "$?" 2
expect_match "... naming the case and the script" "$(cat "$T/renamed.out")" \
    "ERROR regression outputs-cache-0{12} .*'tests/scripts/renamed.lua', \
which does not exist"
mkdir -p "$T/c5/gate-fixed/regressions"
echo stray > "$T/c5/gate-fixed/regressions/stray"
lht stray --report-dir "$T/r4" --corpora "$T/c5"
expect_eq "a file where a case should be: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$T/stray.out")" \
    "regressions/stray: not a regression case"

# 7. Two runs at once on one report dir; an interrupted run says so.
wait_lock() {   # wait_lock DIR: until a run holds DIR's lock
    for _ in $(seq 100); do
        [ -s "$1/.leakhound.lock" ] && return 0
        sleep 0.1
    done
    return 1
}
LH_OUTPUTS_SLEEP=6 "$LH" test "$S" --workload outputs-cache \
    --corpora "$T/corpora" --report-dir "$T/r7" >"$T/a.out" 2>&1 &
a=$!
wait_lock "$T/r7"
lht b --report-dir "$T/r7"
expect_eq "a second run on the same report dir: exit 2 at once" "$?" 2
expect_match "... naming the dir and the other run's pid" \
    "$(cat "$T/b.out")" "$T/r7 is in use by another leakhound run \(pid $a;"
wait $a
expect_eq "the first run is unharmed" "$?" 0
LH_OUTPUTS_SLEEP=6 "$LH" test "$S" --workload outputs-cache \
    --corpora "$T/corpora" --report-dir "$T/r8" >"$T/int.out" 2>&1 &
a=$!
wait_lock "$T/r8"
sleep 1
kill -TERM $a
wait $a
expect_eq "SIGTERM: exit 143" "$?" 143
expect_eq "... and report.json's exit_code says the same" \
    "$(jget "$T/r8/report.json" 'r.exit_code')" 143
mkdir -p "$T/c9"
echo 99999 > "$T/c9/.leakhound.lock"
flock "$T/c9/.leakhound.lock" sleep 20 &
sleep 0.5
"$LH" nightly tests/scripts/gate.lua --corpora "$T/c9" --budget 1s \
    --work "$T/w9" --report-dir "$T/n9" >"$T/n9.out" 2>&1
expect_eq "nightly on a corpora in use: exit 2" "$?" 2
expect_match "... naming it and the other run's pid" "$(cat "$T/n9.out")" \
    "$T/c9 is in use by another leakhound run \(pid 99999;"

finish
