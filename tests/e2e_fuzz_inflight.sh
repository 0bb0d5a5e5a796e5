#!/usr/bin/env bash
# In-flight goroutines under fuzz (tests/scripts/go_inflight_fuzz.lua):
# goroutines that end 300 ms after the call are not a go.goroutines or Go
# heap leak -- no finding, not even one `repro` then turns down; a
# goroutine parked forever every 10th call among them is found at its
# site, and its artifact reproduces.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $out" || trap 'rm -rf "$out"' EXIT
s=tests/scripts/go_inflight_fuzz.lua

"$LH" fuzz $s --workload inflight-fuzz-clean --time 20s --seed 1 \
    --out "$out/c" >"$out/clean.txt" 2>&1
rc=$?
expect_eq "clean twin: exit 0" "$rc" 0
expect_eq "clean twin: no finding, verified or not" \
    "$(ls "$out"/c/artifacts/ 2>/dev/null | grep -c 'leak-')" 0
expect_match "clean twin: the engine ran" "$(cat "$out/clean.txt")" \
    "(cov:|exec/s)"
[ "$rc" = 0 ] || tail -n 30 "$out/clean.txt"

"$LH" fuzz $s --workload inflight-fuzz-leak --time 20s --seed 1 \
    --out "$out/l" >"$out/leak.txt" 2>&1
rc=$?
expect_eq "leaky twin: exit 1 (a leak)" "$rc" 1
expect_match "leaky twin: the parked goroutine, at its site" \
    "$(cat "$out/leak.txt")" \
    'ERROR: leakhound: memory growth: go[.]goroutines .* at main[.]flushLaterLeaky[.]func1'
art=$(ls "$out"/l/artifacts/leak-* 2>/dev/null | grep -v '[.]json$' | head -n 1)
check "leaky twin: an artifact" test -n "$art"
if [ -n "$art" ]; then
    "$LH" repro $s --workload inflight-fuzz-leak "$art" >"$out/repro.txt" 2>&1
    expect_eq "its repro: exit 1 (reproduces)" "$?" 1
    expect_match "its repro: the goroutine, paced" "$(cat "$out/repro.txt")" \
        'go[.]goroutines after every 16 repetitions [(]paced[)]'
fi
[ "$rc" = 1 ] || tail -n 30 "$out/leak.txt"
finish
