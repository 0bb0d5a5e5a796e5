#!/usr/bin/env bash
# The ClusterFuzzLite layout end to end, without docker: run
# .clusterfuzzlite/build.sh as the base-builder image would (CC, CFLAGS,
# LIB_FUZZING_ENGINE, OUT, WORK), then run the fuzzers in $OUT as its runner
# does: from another directory, with libFuzzer flags and none of leakhound's
# environment.
#
#   e2e_cfl.sh [SECONDS]    budget for finding the gated leak (default 120)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
budget=${1:-120}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$PWD

# What the runner's environment has of ours: nothing.
bare() { env -i PATH="$PATH" HOME="$tmp" "$@"; }

# The refusal comes before any build.
out=$(bare SANITIZER=address OUT="$tmp/x" WORK="$tmp/x" \
    .clusterfuzzlite/build.sh 2>&1)
rc=$?
expect_eq "build.sh with SANITIZER=address: exit 1" "$rc" 1
expect_match "it says why (malloc)" "$out" "SANITIZER=address replaces malloc"

mkdir -p "$tmp/out" "$tmp/work"
start=$(date +%s)
bare CC=clang CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only \
-fsanitize=fuzzer-no-link" CXX=clang++ LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
    FUZZING_ENGINE=libfuzzer SANITIZER=none SRC="$root" OUT="$tmp/out" \
    WORK="$tmp/work" .clusterfuzzlite/build.sh >"$tmp/build.txt" 2>&1
rc=$?
echo "build.sh: $(( $(date +%s) - start ))s"
tail -n 8 "$tmp/build.txt"
expect_eq "build.sh: exit 0" "$rc" 0
OUT=$tmp/out

# One fuzzer per fuzzable workload of the bundled suites.
mapfile -t want < <("$LH" list --fuzzable lua/suites/*.lua | cut -f1)
check "the suites have fuzzable workloads" test "${#want[@]}" -gt 0
for f in "${want[@]}"; do
    check "$f: an executable fuzzer in \$OUT" test -x "$OUT/$f"
    check "$f: its configuration" test -f "$OUT/$f.leakhound"
    check "$f: its options" grep -q '^\[libfuzzer\]' "$OUT/$f.options"
    check "$f: a seed corpus zip" test -s "$OUT/${f}_seed_corpus.zip"
done
got=$(find "$OUT" -maxdepth 1 -type f -perm -u+x -printf '%f\n' | sort)
expect_eq "nothing else executable in \$OUT" "$got" \
    "$(printf '%s\n' "${want[@]}" | sort)"
libs=$(ldd "$OUT/${want[0]}" 2>&1)
if grep -q liblua <<<"$libs"; then
    fail "${want[0]}: links liblua dynamically (the runner has no Lua)"
else
    ok "${want[0]}: Lua linked in"
fi

# Each runs from elsewhere, from its zipped seeds: the seeds alone are
# clean (exit 0), and a short fuzzing run ends in 0 or, when mutation
# reaches the gated leak, in libFuzzer's 77 with a leak artifact.
mkdir -p "$tmp/run"
cd "$tmp/run" || exit 1
for f in "${want[@]}"; do
    mkdir -p "seeds-$f" "art-$f"
    unzip -q -d "seeds-$f" "$OUT/${f}_seed_corpus.zip"
    bare "$OUT/$f" "seeds-$f"/* >"$f-seeds.txt" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || tail -n 5 "$f-seeds.txt"
    expect_eq "$f: every seed run once, no leak: exit 0" "$rc" 0
    bare "$OUT/$f" -runs=50 -seed=1 -artifact_prefix="art-$f/" \
        "seeds-$f" >"$f-runs.txt" 2>&1
    rc=$?
    tail -n 2 "$f-runs.txt"
    if [ "$rc" -eq 77 ] && ls "art-$f"/leak-* >/dev/null 2>&1; then
        ok "$f: -runs=50: the gated leak found early (exit 77, artifact)"
    else
        expect_eq "$f: -runs=50 on its seeds: exit 0" "$rc" 0
    fi
done

# The gated leak, from the seeds, within the budget: libFuzzer's leak exit
# status and a leak-* artifact with its JSON, in the current directory
# (the default artifact prefix).
f=c-record-leaky-on-seeds
mkdir -p "$tmp/find" && cd "$tmp/find" || exit 1
unzip -q -d corpus "$OUT/${f}_seed_corpus.zip"
start=$(date +%s)
bare "$OUT/$f" -max_total_time="$budget" -seed=1 corpus >find.txt 2>&1
rc=$?
echo "found in $(( $(date +%s) - start ))s"
tail -n 4 find.txt
expect_eq "$f: exit 77 (libFuzzer's leak status)" "$rc" 77
json=$(ls leak-*.json 2>/dev/null | head -n 1)
check "$f: a leak artifact in the current directory" test -f "${json%.json}"
expect_match "$f: its JSON names the workload and metric" \
    "$(cat "$json" 2>/dev/null)" "\"workload\":\"$f\".*heap[.]live"

# The bundle moves with $OUT (paths in the configuration are relative).
mv "$OUT" "$tmp/moved"
bare "$tmp/moved/$f" "$tmp/run/seeds-$f"/* >moved.txt 2>&1
expect_eq "$f: still runs after \$OUT is moved" "$?" 0
mv "$tmp/moved" "$OUT"

# Without its configuration, or with a bad one, the driver says which file.
mkdir -p "$tmp/bad"
cp "$OUT/$f" "$tmp/bad/$f"
out=$(bare "$tmp/bad/$f" -runs=1 2>&1)
rc=$?
expect_eq "no configuration: exit 2" "$rc" 2
expect_match "no configuration: names the file it looked for" "$out" \
    "no configuration file .*$tmp/bad/$f[.]leakhound"
printf 'LEAKHOUND_SCRIPT=x.lua\nLEAKHOUND_WORKLOADS=w\n' \
    >"$tmp/bad/$f.leakhound"
out=$(bare "$tmp/bad/$f" -runs=1 2>&1)
rc=$?
expect_eq "a misspelt variable: exit 2" "$rc" 2
expect_match "a misspelt variable: file:line and the name" "$out" \
    "$f[.]leakhound:2: unknown variable 'LEAKHOUND_WORKLOADS'"
printf 'LEAKHOUND_SCRIPT=x.lua\nLEAKHOUND_WORKLOAD=w\n' \
    >"$tmp/bad/$f.leakhound"
out=$(bare "$tmp/bad/$f" -runs=1 2>&1)
expect_match "a missing script: the error names the configuration" "$out" \
    "x[.]lua.*configured by $tmp/bad/$f[.]leakhound"

cd "$root" || exit 1
finish
