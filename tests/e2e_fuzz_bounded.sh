#!/usr/bin/env bash
# Fuzzing a clean twin whose bounded structure outgrows a confirmation
# (tests/targets/pagecache.c: a page cache of 512 pages, full only past
# the replays).  The driver's oracle takes it for a leak; `fuzz` verifies
# every finding with repro, whose long run sees it flatten: the finding is
# kept as unconfirmed-leak-*, the driver skips its signature from then on,
# and the verdict is "no leak found", exit 0 (it used to be a verified
# LEAK, exit 1).  The twin that never frees a page is still a leak.
source "$(dirname "$0")/lib.sh"
LH=$(cd "$(dirname "$LH")" && pwd)/$(basename "$LH")
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $work" || trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

"$LH" build c "$TESTS_DIR/targets/pagecache.c" --no-afl -o lhb \
    >build.txt 2>&1
expect_eq "build c: exit 0" "$?" 0
cat > pages.lua <<'LUA'
local lib = leak.target "lhb/libpagecache.so"
leak.workload "pages-clean" {
  target = lib, inputs = { "page" }, step = lib:fn "page_read",
}
leak.workload "pages-leaky" {
  target = lib, inputs = { "page" }, step = lib:fn "page_read_leaky",
}
LUA

"$LH" fuzz pages.lua --workload pages-clean --time 20s --seed 1 \
    --out f >clean.txt 2>&1
rc=$?
grep -E '^(LEAK|verifying|does not|no leak)' clean.txt
expect_eq "the bounded cache: exit 0" "$rc" 0
expect_match "... no leak found" "$(tail -n 3 clean.txt)" 'no leak found'
check "... no LEAK listed" bash -c "! grep -q '^LEAK' clean.txt"
check "... what the driver took for a leak is kept as unconfirmed" \
    bash -c "ls f/artifacts/unconfirmed-leak-* >/dev/null 2>&1"
expect_eq "... and verified once: its signature is skipped after" \
    "$(grep -c '^verifying' clean.txt)" 1
expect_match "... repro says why: it grew, then stopped" \
    "$(grep '^no leak' clean.txt)" \
    'heap[.]live_(bytes|allocs).* grew with the repetitions, then not over 4096 more'

"$LH" fuzz pages.lua --workload pages-leaky --time 20s --seed 1 \
    --out g >leaky.txt 2>&1
rc=$?
grep -E '^(LEAK|verifying|does not|no leak)' leaky.txt
expect_eq "the cache that never frees: exit 1" "$rc" 1
expect_match "... a heap leak at its load" \
    "$(grep '^LEAK' leaky.txt)" 'heap[.]live_(bytes|allocs).* at load pagecache[.]c'
finish
