#!/usr/bin/env bash
# Targets are opened once per process: with threads = 4, the target's
# LLVMFuzzerInitialize runs once and its gauges are looked up once.  A
# gauge is read only while the stepping threads are parked.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# LD_DEBUG=symbols logs every dlsym lookup, one line per library searched
# (the target is searched first and has the symbol): the count of lines
# is the count of lookups.
LD_DEBUG=symbols LD_DEBUG_OUTPUT=$out/ld "$LH" run tests/scripts/targets.lua \
    --report-dir "$out" >"$out/run.txt" 2>&1
rc=$?
cat "$out/run.txt"
rep=$out/report.json
expect_eq "threads = 4 on a once-initialised target passes" "$rc" 0
inv() { jget "$rep" "string.format('%d', find(r.workloads, 'name', \
'init-once-with-threads').invariants[1].$1)"; }
expect_eq "LLVMFuzzerInitialize ran once (peak of target.init_calls)" \
    "$(inv peak)" 1
lookups() { cat "$out"/ld.* | grep -c "symbol=$1;"; }
expect_eq "LLVMFuzzerInitialize was looked up once" \
    "$(lookups LLVMFuzzerInitialize)" 1
expect_eq "the gauge was looked up once" \
    "$(lookups leakhound_gauge_init_calls)" 1

"$LH" run tests/scripts/gauges.lua --report-dir "$out/g" >"$out/g.txt" 2>&1
rc=$?
cat "$out/g.txt"
expect_eq "a gauge read only with the stepping threads parked" "$rc" 0
expect_eq "... never while a step ran (peak of target.racing_reads)" \
    "$(jget "$out/g/report.json" "string.format('%d', \
find(r.workloads, 'name', 'gauge-read-parked').invariants[1].peak)")" 0

finish
