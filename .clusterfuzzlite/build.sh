#!/bin/bash
# .clusterfuzzlite/build.sh - leakhound's fuzzers for ClusterFuzzLite (and
# OSS-Fuzz), one per fuzzable workload.
#
# Run by the base-builder image from the repository root (the Dockerfile's
# WORKDIR) with CC, CFLAGS, LIB_FUZZING_ENGINE, SANITIZER, OUT and WORK set;
# tests/e2e_cfl.sh runs it the same way on this machine.  A fuzzable
# workload has a target and a corpus (`leakhound list --fuzzable`), e.g.
# c-record-leaky-on-seeds in lua/suites/c.lua.  For each one, $OUT gets
#
#   NAME                    a copy of the workload's libFuzzer driver: the
#                           target's own, linked in (targets/go/fuzz/,
#                           targets/c/fuzz/), else the generic
#                           leakhound-fuzz, which dlopens the coverage
#                           build of the C target
#   NAME.leakhound          the driver's configuration (script, workload,
#                           target; paths relative to $OUT): the runner
#                           passes libFuzzer flags only, no environment
#   NAME_seed_corpus.zip    the corpus's files (not regressions/: those leak)
#   NAME.options            libFuzzer flags `leakhound fuzz` would pass
#
# and $OUT/leakhound-bundle/ holds what the drivers load at run time, laid
# out as in the repository (LEAKHOUND_ROOT points there): the scripts,
# corpora/ (warmup reads the corpus; a script opens all of its corpora when
# it loads) and the C targets' coverage builds.  Lua is linked statically:
# the runner image has only what is in $OUT.
#
# Variables besides the base-builder's: LEAKHOUND_SCRIPTS (default
# lua/suites/*.lua), LEAKHOUND_SRC (default: the current directory).
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }

src=${LEAKHOUND_SRC:-$PWD}
[ -f "$src/harness/fuzz/fuzz_driver.c" ] ||
    die "run from the leakhound repository root (or set LEAKHOUND_SRC)"
: "${OUT:?set OUT (where the fuzzers go)}"
: "${WORK:?set WORK (a scratch directory for the build)}"
CC=${CC:-clang}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}

case ${FUZZING_ENGINE:-libfuzzer} in
libfuzzer) ;;
*) die "only libFuzzer is supported (FUZZING_ENGINE=$FUZZING_ENGINE)" ;;
esac
# The harness counts the heap by defining malloc itself (interpose.c);
# ASan and MSan replace malloc too, and the two cannot share a process.
case ${SANITIZER:-none} in
address|memory)
    die "SANITIZER=$SANITIZER replaces malloc, which leakhound's heap" \
        "probe interposes: use sanitizer: undefined (or none)" ;;
esac

# The meson build compiles the targets (only) with -fsanitize=fuzzer-no-link:
# coverage of the harness itself would reward inputs for the harness's
# branches.  Every other flag (sanitizer, -O, -g) applies to everything,
# but for UBSan's unsigned-overflow check (OSS-Fuzz's "undefined" has it):
# the harness's hashes and generators wrap on purpose, which is defined.
cflags=()
for f in ${CFLAGS:-}; do
    [ "$f" = -fsanitize=fuzzer-no-link ] || cflags+=("$f")
done
cflags+=(-fno-sanitize=unsigned-integer-overflow)

# Always a fresh build: meson reads CFLAGS (also its link flags) only when
# it first sets up a build directory.
build=$WORK/leakhound-build
rm -rf "$build"
CC=$CC CFLAGS="${cflags[*]}" meson setup "$build" "$src" \
    -Dfuzzing_engine="$LIB_FUZZING_ENGINE" -Dstatic_lua=true
ninja -C "$build" leakhound leakhound-fuzz

cd "$src"
read -r -a scripts <<<"${LEAKHOUND_SCRIPTS:-$(echo lua/suites/*.lua)}"
listing=$("$build/leakhound" list --fuzzable "${scripts[@]}")
[ -n "$listing" ] || die "no fuzzable workload in ${scripts[*]}"
outputs=$(ninja -C "$build" -t targets all | cut -d: -f1)
has_output() { grep -qxF "$1" <<<"$outputs"; }

bundle=leakhound-bundle
mkdir -p "$OUT/$bundle"

# copy_corpus DIR: its files (not subdirectories) into the bundle.
copy_corpus() {
    mkdir -p "$OUT/$bundle/$1"
    find "$1" -maxdepth 1 -type f -exec cp {} "$OUT/$bundle/$1/" \;
}
for dir in corpora/*/; do
    [ -d "$dir" ] && copy_corpus "${dir%/}"
done

declare -A seen
count=0
while IFS=$'\t' read -r name script target corpus; do
    # Fuzzer names are file names in $OUT: keep [A-Za-z0-9_-].
    fuzzer=${name//[^A-Za-z0-9_-]/_}
    if [ -n "${seen[$fuzzer]:-}" ]; then
        echo "build.sh: skipping $name in $script: fuzzer $fuzzer" \
             "already made from ${seen[$fuzzer]}" >&2
        continue
    fi
    seen[$fuzzer]=$script
    # The suites name targets build/<path in the build directory>.
    case $target in
    build/*) rel=${target#build/} ;;
    *) echo "build.sh: skipping $name: target $target is not under" \
            "build/" >&2; continue ;;
    esac
    case $corpus in
    /*) echo "build.sh: skipping $name: corpus $corpus is not in the" \
             "repository" >&2; continue ;;
    esac
    dir=$(dirname "$rel")
    file=$(basename "$rel")
    short=${file#lib}
    short=${short%%.*}

    mkdir -p "$OUT/$bundle/$(dirname "$script")"
    cp "$script" "$OUT/$bundle/$script"
    copy_corpus "$corpus"
    conf="# $name ($script); written by .clusterfuzzlite/build.sh
LEAKHOUND_ROOT=$bundle
LEAKHOUND_SCRIPT=$bundle/$script
LEAKHOUND_WORKLOAD=$name"
    if has_output "$dir/fuzz/leakhound-fuzz-$short"; then
        # A bundled target's own driver, the target linked in.
        ninja -C "$build" "$dir/fuzz/leakhound-fuzz-$short"
        cp "$build/$dir/fuzz/leakhound-fuzz-$short" "$OUT/$fuzzer"
        conf+=$'\n'"LEAKHOUND_STATIC_TARGET=$file"
    elif has_output "$dir/fuzz/$file"; then
        ninja -C "$build" "$dir/fuzz/$file"
        mkdir -p "$OUT/$bundle/$dir/fuzz"
        cp "$build/$dir/fuzz/$file" "$OUT/$bundle/$dir/fuzz/$file"
        cp "$build/leakhound-fuzz" "$OUT/$fuzzer"
        conf+=$'\n'"LEAKHOUND_TARGET_OVERRIDE=$file=$bundle/$dir/fuzz/$file"
    else
        echo "build.sh: skipping $name: no coverage build of $target" \
             "(looked for $dir/fuzz/leakhound-fuzz-$short and" \
             "$dir/fuzz/$file in the build)" >&2
        continue
    fi
    printf '%s\n' "$conf" >"$OUT/$fuzzer.leakhound"
    printf '[libfuzzer]\ntimeout = 20\nrss_limit_mb = 4096\n' \
        >"$OUT/$fuzzer.options"
    rm -f "$OUT/${fuzzer}_seed_corpus.zip"
    find "$corpus" -maxdepth 1 -type f -print0 |
        xargs -0 -r zip -q -j "$OUT/${fuzzer}_seed_corpus.zip"
    echo "build.sh: $OUT/$fuzzer: $name ($script, $target)"
    count=$((count + 1))
done <<<"$listing"
[ "$count" -gt 0 ] || die "no fuzzer could be made"
echo "build.sh: $count fuzzer(s) in $OUT"
