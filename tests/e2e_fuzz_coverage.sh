#!/usr/bin/env bash
# An input's coverage is its own run's (harness/fuzz/coverage.c): the
# confirmation that one long tokenizer input triggers (its arena grows:
# 16+ replays and 4096 distinct variants, which reach code the input does
# not) adds no feature.  Its features with the confirmation equal its
# features without one (a workload whose warm-up already grew the arena
# to it); growth feedback still adds its own.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
drv=$(dirname "$LH")/leakhound-fuzz
lib=$(dirname "$LH")/targets/c/fuzz/libtokenize.so

mkdir -p "$out/seed"
printf 'let alpha = call(beta, "gamma\\n", 12345, delta); if (x) { y = "zz"; }' \
    >"$out/seed/long"
cat >"$out/cov.lua" <<LUA
local tokenize = leak.target "build/targets/c/libtokenize.so"
leak.workload "cold" {
  target = tokenize, expect = "clean", inputs = { "x" },
  step = tokenize:fn "tokenize_clean",
}
leak.workload "warm" {
  target = tokenize, expect = "clean", inputs = leak.corpus "$out/seed",
  step = tokenize:fn "tokenize_clean",
}
LUA

# run WORKLOAD FEEDBACK: libFuzzer runs the seed only (-runs=0); prints
# "ft confirmations".
run() {
    rm -rf "$out/c"
    cp -r "$out/seed" "$out/c"
    env LEAKHOUND_SCRIPT="$out/cov.lua" LEAKHOUND_WORKLOAD="$1" \
        LEAKHOUND_FEEDBACK="$2" LEAKHOUND_ORACLE_STATS=1 \
        LEAKHOUND_TARGET_OVERRIDE="libtokenize.so=$lib" \
        "$drv" -runs=0 -seed=1 "$out/c" >"$out/$1-$2.txt" 2>&1
    printf '%s %s\n' \
        "$(sed -n 's/.*INITED .* ft: \([0-9]*\) .*/\1/p' "$out/$1-$2.txt")" \
        "$(sed -n 's/.* \([0-9]*\) confirmations.*/\1/p' "$out/$1-$2.txt")"
}

read -r cold_ft cold_conf <<<"$(run cold 0)"
read -r warm_ft warm_conf <<<"$(run warm 0)"
read -r fb_ft fb_conf <<<"$(run cold 1)"
cat "$out/cold-0.txt" | grep -E "INITED|oracle:"
expect_eq "the long input is confirmed in the cold workload" \
    "$([ "${cold_conf:-0}" -ge 1 ] && echo yes)" yes
expect_eq "... not in the warm one" "$warm_conf" 0
check "features were read" test -n "$cold_ft" -a -n "$warm_ft"
expect_eq "its features with the confirmation's replays are its own run's" \
    "$cold_ft" "$warm_ft"
expect_eq "growth feedback adds a feature of its own" \
    "$([ "${fb_ft:-0}" -gt "${cold_ft:-0}" ] && echo yes)" yes
finish
