#!/usr/bin/env bash
# Fuzzing a cache whose entries expire 20 ms after insertion, lazily on
# later calls (tests/targets/ttlcache.c): replays of thousands of inputs
# within milliseconds see nothing expire.  Before a C heap growth is
# reported, the oracle idles and steps again: the growth is given back,
# no finding, not even one `repro` turns down.  The twin that never frees
# an entry is still a leak, at its site.
source "$(dirname "$0")/lib.sh"
LH=$(cd "$(dirname "$LH")" && pwd)/$(basename "$LH")
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $work" || trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

"$LH" build c "$TESTS_DIR/targets/ttlcache.c" --no-afl -o lhb \
    >build.txt 2>&1
expect_eq "build c: exit 0" "$?" 0
cat > ttl.lua <<'LUA'
local lib = leak.target "lhb/libttlcache.so"
leak.workload "ttl-clean" {
  target = lib, inputs = { "abc" }, step = lib:fn "ttl_put",
}
leak.workload "ttl-leaky" {
  target = lib, inputs = { "abc" }, step = lib:fn "ttl_put_leaky",
}
LUA

"$LH" fuzz ttl.lua --workload ttl-clean --time 20s --seed 1 \
    --out f >clean.txt 2>&1
rc=$?
grep -E '^(LEAK|verifying|does not|no leak)' clean.txt
expect_eq "the expiring cache: exit 0" "$rc" 0
expect_match "... no leak found" "$(tail -n 3 clean.txt)" 'no leak found'
expect_eq "... no finding, verified or not" \
    "$(ls f/artifacts/ 2>/dev/null | grep -c 'leak-')" 0
expect_match "... the engine ran" "$(cat clean.txt)" "(cov:|exec/s)"

"$LH" fuzz ttl.lua --workload ttl-leaky --time 20s --seed 1 \
    --out g >leaky.txt 2>&1
rc=$?
grep -E '^(LEAK|verifying|does not|no leak)' leaky.txt
expect_eq "the cache that never frees: exit 1" "$rc" 1
expect_match "... a heap leak at its put" \
    "$(grep '^LEAK' leaky.txt)" 'heap[.]live_(bytes|allocs).* at put ttlcache[.]c'
finish
