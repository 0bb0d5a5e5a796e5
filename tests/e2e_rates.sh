#!/usr/bin/env bash
# e2e_rates.sh c|go - the allocation-rate gate on a bundled pair
# (targets/c/scratch.c, targets/go/escapes): a baseline recorded on the
# reusing twin passes that twin across seeds, and fails the allocating
# op, whose every leak invariant passes, with before/after per iteration
# and the site whose allocation count grew.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

LANG_=${1:?usage: e2e_rates.sh c|go}
W=$LANG_-rates-gate
if [ "$LANG_" = c ]; then M=heap.allocs; MB=heap.alloc_bytes
else M=go.allocs; MB=go.alloc_bytes; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
S=tests/scripts/rates_gate.lua
B=$T/baseline.json

gate() {    # gate NAME OP ARGS...: leakhound test into $T/NAME
    local name=$1 op=$2; shift 2
    LH_RATES_OP=$op "$LH" test "$S" --workload "$W" --corpora "$T" \
        --report-dir "$T/$name" --baseline "$B" "$@" >"$T/$name.out" 2>&1
}
inv() {     # inv NAME METRIC FIELD: a field of the workload's invariant
    jget "$T/$1/report.json" "(function() for _, i in ipairs(r.workloads[1].invariants) do if i.metric == '$2' then return tostring($3) end end end)()"
}

gate base reuse --update-baseline --seed 1
expect_eq "reusing twin: passes and records the baseline" "$?:$(test -s "$B" && echo y)" "0:y"
expect_eq "the baseline holds the rate and its interval" \
    "$(jget "$B" "tostring(r.workloads['$W'].invariants['$M rate'].rate_lo ~= nil)")" true

for seed in 2 3 4; do
    gate clean$seed reuse --seed $seed
    rc=$?
    expect_eq "reusing twin, seed $seed: passes against its baseline" "$rc" 0
    [ "$rc" -eq 0 ] || grep -E '^(GATE|FAIL|ERROR)' "$T/clean$seed.out"
done
expect_eq "its rate was compared and passed" \
    "$(inv clean2 "$M" i.stored_baseline.status)" pass

gate alloc alloc --seed 2
expect_eq "allocating op: the gate fails (1)" "$?" 1
expect_eq "its own invariants pass: nothing leaks" \
    "$(jget "$T/alloc/report.json" 'r.workloads[1].status')" pass
expect_eq "the rate fails against the baseline" \
    "$(inv alloc "$M" i.stored_baseline.status)" fail
expect_eq "so do the bytes" "$(inv alloc "$MB" i.stored_baseline.status)" fail
expect_match "the verdict says before and after per iteration" \
    "$(inv alloc "$M" i.stored_baseline.reason)" \
    "^$M per iteration: before 0(\\.0[0-9]*)? \\(CI [0-9.e-]+\\.\\.[0-9.e-]+\\), after 1(\\.0[0-9]*)? \\(CI "
expect_match "the run prints it" "$(cat "$T/alloc.out")" \
    "GATE +$W .*$M per iteration: before"
expect_eq "report.json carries the rate fields" \
    "$(inv alloc "$M" "i.rate_per_iter >= 1 and i.rate_lo <= i.rate_per_iter and i.rate_hi >= i.rate_per_iter and i.rate_level == 0.99")" true
if [ "$LANG_" = c ]; then site=scratch_parse_alloc; else site=parseNew; fi
expect_match "the site whose allocation count grew is named" \
    "$(inv alloc "$M" "(i.stored_baseline.grew_sites[1] or {}).func")" "$site"

# Misuse is an error naming the line (exit 2), never a silent pass.
bad() {     # bad NAME INVARIANT [FIELDS]: a one-workload script into $T
    cat > "$T/$1.lua" <<LUA
local lib = leak.target "build/targets/c/libscratch.so"
leak.workload "$1" {
  target = lib, iterations = 600, ${3:-}
  step = lib:fn "scratch_parse_alloc",
  invariants = { $2 },
}
LUA
    "$LH" run "$T/$1.lua" --report-dir "$T/$1" >"$T/$1.out" 2>&1
}
if [ "$LANG_" = c ]; then
    bad stable_counter 'leak.stable "heap.allocs"'
    expect_eq "stable on a counter: exit 2" "$?" 2
    expect_match "... naming the line and leak.rate" "$(cat "$T/stable_counter.out")" \
        "stable_counter.lua:5: 'heap.allocs' counts work done since start .*leak.rate"
    bad rate_level 'leak.rate "heap.live_bytes" { max = 1 }'
    expect_eq "rate on a level metric: exit 2" "$?" 2
    expect_match "... saying it needs a counter" "$(cat "$T/rate_level.out")" \
        "rate_level.lua:5: leak.rate needs a counter metric .*leak.max_growth"
    bad rate_nomax 'leak.rate "heap.allocs"'
    expect_eq "rate without max: exit 2" "$?" 2
    bad rate_go 'leak.rate "go.allocs" { max = 1 }'
    expect_eq "a Go counter on a C target: an error verdict (2)" "$?" 2
    expect_match "... saying why" "$(cat "$T/rate_go.out")" \
        "ERROR .*go.allocs.*not available.*Go probe"
    if [ -n "${LH_OLDPROBE:-}" ]; then
        cat > "$T/old.lua" <<LUA
local lib = leak.target "$LH_OLDPROBE"
leak.workload "old-probe" {
  target = lib, iterations = 600, settle = false,
  step = lib:fn "oldprobe_nop",
  invariants = { leak.rate "go.allocs" { max = 1 } },
}
LUA
        "$LH" run "$T/old.lua" --report-dir "$T/old" >"$T/old.out" 2>&1
        expect_eq "a Go probe without counters: an error (2)" "$?" 2
        expect_match "... saying the probe is older" "$(cat "$T/old.out")" \
            "ERROR .*go.allocs.*older leakhound Go probe without allocation counters"
    fi
    bad rate_few 'leak.rate "heap.allocs" { max = 1 }' 'samples = 6,'
    expect_eq "too few phases for the 99% interval: exit 2" "$?" 2
    expect_match "... saying the minimum" "$(cat "$T/rate_few.out")" \
        "interval of the median rate needs at least 8 samples"
fi
finish
