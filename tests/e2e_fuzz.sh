#!/usr/bin/env bash
# Fuzzing end to end.
#
#   e2e_fuzz.sh find SCRIPT WORKLOAD ENGINE SECONDS METRIC_REGEX [SITE_REGEX
#               [MODE [CORPUS]]]
#       the engine finds a leak from harmless seeds (CORPUS, else the
#       workload's own) within SECONDS (its
#       artifact's site matching SITE_REGEX when given, its "mode" -- same
#       or distinct -- being MODE when given), the artifact
#       reproduces with `repro`, and `minimize` keeps it reproducing
#       (libFuzzer)
#   e2e_fuzz.sh clean SCRIPT WORKLOAD SECONDS [CORPUS]
#       fuzzing a clean twin for SECONDS (from CORPUS, else the workload's
#       own seeds) reports no leak
#   e2e_fuzz.sh oom SCRIPT WORKLOAD INPUT METRIC_REGEX SITE_REGEX
#       an engine OOM artifact (oom-*) whose input grows a watched metric
#       is confirmed as that leak (leak artifact with its site, exit 1),
#       not reported as a crash
#   e2e_fuzz.sh faults
#       a target that crashes or hangs under fuzzing is reported as a
#       crash / timeout, not as a leak
#   e2e_fuzz.sh own c|go|afl
#       a library of one's own (a copy of a bundled one, elsewhere) without
#       the build the engine needs: exit 2 naming what is missing and the
#       commands that build it; those commands, run, give a driver that
#       finds the leak.  (c: an engine that stops without a finding is an
#       error with its reason.)
#   e2e_fuzz.sh counting
#       each artifact is verified once: not again at the end or on the next
#       run, and no other file is taken for one
#   e2e_fuzz.sh seeds
#       without --corpus, fuzz starts from the workload's leak.corpus(dir)
#       (a script elsewhere, run from another directory) and finds its
#       gated leak; a missing or empty seed set is exit 2 naming the path
#   e2e_fuzz.sh knownmem
#       a known leak that keeps leaking 256 KiB an input, fuzzed with
#       --keep-going: the driver's RSS stays near --known-budget (restarts),
#       the leak is listed, exit 1; seeds that all leak fill the budget at
#       every restart: exit 2 saying so, never "no leak found"
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mode=$1; shift

case $mode in
find)
    script=$1 workload=$2 engine=$3 seconds=$4 metric=$5 site=${6:-}
    want_mode=${7:-}
    corpus=()
    [ -n "${8:-}" ] && corpus=(--corpus "$8")
    seeds_before=$(find corpora -type f | sort | xargs sha1sum | sha1sum)
    start=$(date +%s)
    "$LH" fuzz "$script" --workload "$workload" --engine "$engine" \
        --time "${seconds}s" --seed 1 --out "$out/f" "${corpus[@]}" \
        >"$out/fuzz.txt" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    tail -n 30 "$out/fuzz.txt"
    expect_eq "$engine on $workload: exit status 1 (a leak)" "$rc" 1
    if [ "$engine" = libfuzzer ]; then
        # a bundled target is linked into its own driver (targets/*/fuzz/):
        # never the slower generic driver dlopening the coverage copy
        expect_match "libfuzzer: the driver with the target linked in" \
            "$(grep '^ *driver ' "$out/fuzz.txt")" \
            "driver [^ ]*/targets/(c|go)/fuzz/leakhound-fuzz-[^ ]* \(lib[^ ]*\.so linked in\)$"
    fi
    json=$(ls "$out"/f/artifacts/leak-*.json 2>/dev/null | head -n 1)
    check "a leak artifact with its JSON sidecar" test -n "$json"
    input=${json%.json}
    check "the artifact's input exists" test -f "$input"
    expect_match "the leak is on $metric" "$(jget "$json" 'r.metric')" \
        "$metric"
    if [ -n "$site" ]; then
        expect_match "the artifact names the site: $site" \
            "$(jget "$json" 'r.site')" "$site"
        expect_match "the signature names it too" \
            "$(jget "$json" 'r.signature')" "@ .*$site"
    fi
    if [ -n "$want_mode" ]; then
        expect_eq "the sidecar says how it grows: mode $want_mode" \
            "$(jget "$json" 'r.mode')" "$want_mode"
    fi
    # lh_shell_quote leaves plain words unquoted.
    expect_match "the sidecar has the repro command" \
        "$(jget "$json" 'r.repro')" "leakhound repro .* --workload '?$workload'?"
    expect_match "the summary prints the repro command" \
        "$(cat "$out/fuzz.txt")" "repro: +leakhound repro $script --workload '$workload'"
    echo "found in ${took}s"
    seeds_after=$(find corpora -type f | sort | xargs sha1sum | sha1sum)
    expect_eq "the checked-in corpus is not modified" "$seeds_after" \
        "$seeds_before"

    "$LH" repro "$script" --workload "$workload" "$input" >"$out/repro.txt" 2>&1
    rc=$?
    cat "$out/repro.txt"
    expect_eq "repro in a fresh worker: exit 1 (it leaks)" "$rc" 1
    expect_match "repro names the metric" "$(cat "$out/repro.txt")" \
        "LEAK  $metric"

    if [ "$engine" = libfuzzer ]; then
        "$LH" minimize "$script" --workload "$workload" "$input" \
            --time 30s >"$out/min.txt" 2>&1
        rc=$?
        tail -n 12 "$out/min.txt"
        expect_eq "minimize: the minimized input still reproduces" "$rc" 0
        check "minimized input written" \
            test -f "$(dirname "$input")/minimized-$(basename "$input")"
    fi
    ;;
clean)
    script=$1 workload=$2 seconds=$3 corpus=${4:-}
    "$LH" fuzz "$script" --workload "$workload" --time "${seconds}s" \
        --seed 1 --out "$out/f" ${corpus:+--corpus "$corpus"} \
        >"$out/fuzz.txt" 2>&1
    rc=$?
    tail -n 8 "$out/fuzz.txt"
    expect_eq "${seconds}s of fuzzing $workload: exit 0 (no leak)" "$rc" 0
    expect_eq "no leak artifact" \
        "$(ls "$out"/f/artifacts/leak-* 2>/dev/null | wc -l)" 0
    expect_match "the engine really ran" "$(cat "$out/fuzz.txt")" \
        "(cov:|exec/s)"
    ;;
oom)
    script=$1 workload=$2 input=$3 metric=$4 site=$5
    mkdir -p "$out/f/artifacts"
    printf '%s' "$input" >"$out/f/artifacts/oom-0000000000000000000000000000000000000000"
    "$LH" fuzz "$script" --workload "$workload" --time 5s --seed 1 \
        --out "$out/f" >"$out/fuzz.txt" 2>&1
    rc=$?
    tail -n 20 "$out/fuzz.txt"
    expect_eq "an OOM on a leaking input: exit status 1 (a leak, not a \
crash)" "$rc" 1
    check "the oom- input is kept as confirmed-oom-*" \
        test -f "$out/f/artifacts/confirmed-oom-0000000000000000000000000000000000000000"
    json=$(ls "$out"/f/artifacts/leak-*.json 2>/dev/null | head -n 1)
    check "a leak artifact with its JSON sidecar" test -n "$json"
    expect_match "the leak is on $metric" "$(jget "$json" 'r.metric')" \
        "$metric"
    expect_match "the artifact names the site: $site" \
        "$(jget "$json" 'r.site')" "$site"
    expect_eq "no CRASH line in the summary" \
        "$(grep -c '^CRASH ' "$out/fuzz.txt")" 0
    ;;
faults)
    for w in fuzz-crash fuzz-hang; do
        "$LH" fuzz tests/scripts/fuzz_faults.lua --workload "$w" \
            --time 60s --timeout 2s --seed 1 --out "$out/$w" \
            >"$out/$w.txt" 2>&1
        rc=$?
        tail -n 6 "$out/$w.txt"
        expect_eq "$w: exit status 3 (crash or hang, not a leak)" "$rc" 3
        expect_eq "$w: no leak artifact" \
            "$(ls "$out"/$w/artifacts/leak-* 2>/dev/null | wc -l)" 0
    done
    check "the crash is saved as a crash- artifact" \
        test -n "$(ls "$out"/fuzz-crash/artifacts/crash-* 2>/dev/null)"
    check "the hang is saved as a timeout- artifact" \
        test -n "$(ls "$out"/fuzz-hang/artifacts/timeout-* 2>/dev/null)"
    # fork() returning in both processes: the copy _exit()s at once and
    # never runs a fuzz loop of its own (issue 10)
    LEAKHOUND_FAULTS_CALLERS=$out/callers "$LH" fuzz \
        tests/scripts/fuzz_faults.lua --workload fuzz-fork --time 5s \
        --timeout 2s --seed 1 --out "$out/fuzz-fork" >"$out/fork.txt" 2>&1
    rc=$?
    tail -n 4 "$out/fork.txt"
    expect_eq "fuzz-fork: exit 0 (no leak)" "$rc" 0
    expect_eq "fuzz-fork: only the engine's process called the target" \
        "$(wc -l <"$out/callers" 2>/dev/null)" 1
    ;;
own)
    kind=$1
    mkdir -p "$out/lib"
    case $kind in
    c|afl) lib=librecord.so op=record_parse_leaky corpus=record
           metric='heap[.]live' src=targets/c/record.c dir=c ;;
    go) lib=libgoroutines.so op=OpGoroutineLeak corpus=goroutines
        metric='go[.]goroutines' src=$PWD/targets/go/goroutines dir=go ;;
    esac
    cp "build/targets/$dir/$lib" "$out/lib/"
    cat > "$out/own.lua" <<LUA
local lib = leak.target "$out/lib/$lib"
leak.workload "own" {
  target = lib, warmup = 10, iterations = 200, samples = 10,
  inputs = leak.corpus "corpora/$corpus",
  step = function(input) lib:call("$op", input) end,
}
LUA
    engine=libfuzzer
    [ "$kind" = afl ] && engine=afl
    t0=$(date +%s)
    "$LH" fuzz "$out/own.lua" --workload own --engine $engine --time 30s \
        --out "$out/f0" >"$out/f0.txt" 2>&1
    rc=$?
    cat "$out/f0.txt"
    expect_eq "$kind: no driver with coverage: exit 2" "$rc" 2
    check "$kind: said at once" test $(( $(date +%s) - t0 )) -lt 10
    check "$kind: never 'no leak found'" \
        bash -c "! grep -q 'no leak found' '$out/f0.txt'"
    case $kind in
    c) expect_match "c: names the missing coverage build" \
           "$(cat "$out/f0.txt")" "no coverage build of .*$out/lib/fuzz/$lib" ;;
    go) expect_match "go: names the missing Go driver" \
           "$(cat "$out/f0.txt")" "Go target .*leakhound-fuzz-goroutines" ;;
    afl) expect_match "afl: names the missing AFL++ driver" \
           "$(cat "$out/f0.txt")" "no AFL..? driver .*$out/lib/afl/leakhound-afl-record"
         check "afl: not the old 'built when afl-clang-fast is installed'" \
           bash -c "! grep -q 'built when afl-clang-fast' '$out/f0.txt'" ;;
    esac
    sed -n 's/^    \$ //p' "$out/f0.txt" |
        sed "s#YOUR_SOURCES*\.c#$src#; s#YOUR_PACKAGE_DIR#$src#" \
        > "$out/build.sh"
    check "$kind: the steps are printed" test -s "$out/build.sh"
    cat "$out/build.sh"
    w=$PWD/build/targets/go/go-work
    (export GOPROXY=off GOFLAGS=-mod=mod GOWORK=off GOCACHE=$w/cache \
        GOPATH=$w/path; sh -e "$out/build.sh")
    expect_eq "$kind: the printed steps build" "$?" 0
    "$LH" fuzz "$out/own.lua" --workload own --engine $engine --time 120s \
        --seed 1 --out "$out/f1" >"$out/f1.txt" 2>&1
    rc=$?
    tail -n 5 "$out/f1.txt"
    expect_eq "$kind: with them, the leak is found (exit 1)" "$rc" 1
    [ "$kind" = afl ] || expect_match "$kind: by the driver they linked" \
        "$(grep '^ *driver ' "$out/f1.txt")" \
        "driver $out/lib/fuzz/leakhound-fuzz-[^ ]* \(lib[^ ]* linked in\)$"
    expect_match "$kind: on $metric" "$(cat "$out/f1.txt")" "LEAK  $metric"
    if [ "$kind" = c ]; then
        # an engine that stops for another reason: an error, with it
        "$LH" fuzz "$out/own.lua" --workload own --time 30s \
            --out "$out/f2" -- -dict=/nonexistent >"$out/f2.txt" 2>&1
        rc=$?
        tail -n 2 "$out/f2.txt"
        expect_eq "c: an engine that cannot start fuzzing: exit 2" "$rc" 2
        expect_match "c: with the engine's reason" \
            "$(cat "$out/f2.txt")" \
            "stopped .*without a finding.*ParseDictionaryFile"
    fi
    ;;
seeds)
    p=$out/proj
    LH=$(cd "$(dirname "$LH")" && pwd)/$(basename "$LH")   # used from other dirs
    mkdir -p "$p/lib/fuzz" "$p/seeds" "$p/noseeds" "$out/elsewhere" \
        "$out/empty"
    cp build/targets/c/librecord.so "$p/lib/"
    cp build/targets/c/fuzz/librecord.so "$p/lib/fuzz/"
    cp corpora/record/* "$p/seeds/"
    cat > "$p/own.lua" <<'LUA'
local lib = leak.target "lib/librecord.so"
leak.workload "own" {
  target = lib, warmup = 10, iterations = 200, samples = 10,
  inputs = leak.corpus "seeds",
  step = function(input) lib:call("record_parse_leaky", input) end,
}
leak.workload "own-noseeds" {
  target = lib, warmup = 10, iterations = 200, samples = 10,
  inputs = leak.corpus "noseeds",
  step = function(input) lib:call("record_parse_leaky", input) end,
}
leak.workload "own-generated" {
  target = lib, warmup = 10, iterations = 200, samples = 10,
  inputs = function(rng, i) return "x" .. i end,
  step = function(input) lib:call("record_parse_leaky", input) end,
}
LUA
    (cd "$out/elsewhere" && "$LH" fuzz "$p/own.lua" --workload own \
        --time 45s --seed 1 --out "$out/f" >"$out/fuzz.txt" 2>&1)
    rc=$?
    tail -n 8 "$out/fuzz.txt"
    expect_eq "seeds from leak.corpus, from another directory: a leak (1)" \
        "$rc" 1
    expect_match "the seeds named are the workload's corpus" \
        "$(cat "$out/fuzz.txt")" "seeds from $p/seeds\)"
    # only the coverage copy is there: the generic driver, said
    expect_match "no linked driver: the generic one dlopens the copy" \
        "$(grep '^ *driver ' "$out/fuzz.txt")" \
        "leakhound-fuzz \(generic, dlopens $p/lib/fuzz/librecord.so: no "
    expect_match "the gated leak is found" "$(cat "$out/fuzz.txt")" \
        "LEAK  heap[.]live_bytes .*record_parse_leaky"
    for c in "--corpus $out/nope:$out/nope" "--corpus $out/empty:$out/empty"; do
        arg=${c%%:*} path=${c#*:}
        (cd "$out/elsewhere" && "$LH" fuzz "$p/own.lua" --workload own \
            --time 10s $arg --out "$out/g" >"$out/g.txt" 2>&1)
        rc=$?
        cat "$out/g.txt"
        expect_eq "$arg: exit 2" "$rc" 2
        expect_match "$arg: names the path" "$(cat "$out/g.txt")" \
            "seed corpus '$path'"
        check "$arg: never 'no leak found'" \
            bash -c "! grep -q 'no leak found' '$out/g.txt'"
    done
    (cd "$out/elsewhere" && "$LH" fuzz "$p/own.lua" --workload own-noseeds \
        --time 10s --out "$out/h" >"$out/h.txt" 2>&1)
    rc=$?
    cat "$out/h.txt"
    expect_eq "an empty leak.corpus: exit 2" "$rc" 2
    expect_match "... naming it" "$(cat "$out/h.txt")" \
        "seed corpus '$p/noseeds' has no input files"
    (cd "$out/elsewhere" && "$LH" fuzz "$p/own.lua" \
        --workload own-generated --time 10s --out "$out/i" >"$out/i.txt" 2>&1)
    rc=$?
    cat "$out/i.txt"
    expect_eq "generated inputs and no --corpus: exit 2" "$rc" 2
    expect_match "... saying it has no seeds" "$(cat "$out/i.txt")" \
        "workload 'own-generated' \($p/own.lua:[0-9]+\) has no seeds"
    # A seed that cannot be read (a regular file whose read fails, even
    # for root) is an error naming it, not a search from fewer seeds.
    mkdir -p "$out/badseeds"
    printf 'hello' > "$out/badseeds/01-ok"
    ln -s /proc/self/mem "$out/badseeds/02-unreadable"
    (cd "$out/elsewhere" && "$LH" fuzz "$p/own.lua" --workload own \
        --corpus "$out/badseeds" --time 10s --out "$out/j" >"$out/j.txt" 2>&1)
    rc=$?
    cat "$out/j.txt"
    expect_eq "an unreadable seed: exit 2" "$rc" 2
    expect_match "... naming it" "$(cat "$out/j.txt")" \
        "cannot copy $out/badseeds/02-unreadable"
    ;;
knownmem)
    p=$out/proj
    mkdir -p "$p/lib/fuzz" "$p/seeds" "$p/allleak"
    cat > "$p/bigleak.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A gated leak that is big: 256 KiB kept per input starting with LEAK. */
static void **kept;
static size_t nkept, capkept;

__attribute__((visibility("default")))
int big_leak(const uint8_t *d, size_t n)
{
    if (n < 4 || memcmp(d, "LEAK", 4) != 0)
        return 0;
    if (nkept == capkept) {
        capkept = capkept ? 2 * capkept : 64;
        kept = realloc(kept, capkept * sizeof *kept);
    }
    char *p = malloc(256 << 10);
    memset(p, d[n - 1], 256 << 10);
    kept[nkept++] = p;
    return 0;
}
C
    cc -O1 -g -fPIC -shared -o "$p/lib/libbigleak.so" "$p/bigleak.c" &&
    clang -fsanitize=fuzzer-no-link -O1 -g -fPIC -shared \
        -o "$p/lib/fuzz/libbigleak.so" "$p/bigleak.c"
    expect_eq "the leaking library builds" "$?" 0
    printf hello >"$p/seeds/a"
    printf LEA >"$p/seeds/b"
    for i in $(seq 1 200); do printf 'LEAK%03d' "$i" >"$p/allleak/s$i"; done
    cat > "$p/big.lua" <<'LUA'
local lib = leak.target "lib/libbigleak.so"
leak.workload "bigleak" {
  target = lib, warmup = 10, iterations = 200, samples = 10,
  inputs = leak.corpus "seeds",
  step = function(input) lib:call("big_leak", input) end,
}
LUA
    # the drivers' RSS (KiB), sampled while fuzz runs
    (while sleep 0.1; do
        for pid in $(pgrep -x leakhound-fuzz); do
            [ "$(tr '\0' '\n' </proc/$pid/environ 2>/dev/null |
                 grep -c "^LEAKHOUND_SCRIPT=$p/big.lua$")" = 1 ] || continue
            awk '/^VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null
        done
    done >>"$out/rss") &
    poller=$!
    "$LH" fuzz "$p/big.lua" --workload bigleak --keep-going --time 20s \
        --known-budget 32M --seed 1 --out "$out/f" >"$out/fuzz.txt" 2>&1
    rc=$?
    kill $poller
    grep -v '^#' "$out/fuzz.txt" | tail -n 12
    max=$(sort -n "$out/rss" | tail -n 1)
    echo "the drivers' peak RSS: ${max:-?} KiB ($(wc -l <"$out/rss") samples)"
    expect_eq "--keep-going on a big known leak: exit 1 (the leak)" "$rc" 1
    expect_match "the leak is listed" "$(cat "$out/fuzz.txt")" \
        "^LEAK  heap[.]live_bytes .*big_leak"
    expect_match "the engine was restarted for memory" \
        "$(cat "$out/fuzz.txt")" "restarted [0-9]+ times? because leaks already known"
    check "the RSS was sampled" test -n "$max"
    # 32 MiB budget + the driver's own ~30 MiB + one confirmation's
    # replays (up to 64 x 256 KiB); without the budget it reaches GiBs
    check "the drivers' RSS stayed under 160 MiB (peak ${max:-?} KiB)" \
        test "${max:-999999999}" -lt 163840
    "$LH" fuzz "$p/big.lua" --workload bigleak --keep-going --time 20s \
        --known-budget 32M --seed 1 --out "$out/f" --corpus "$p/allleak" \
        >"$out/barren.txt" 2>&1
    rc=$?
    grep -v '^#' "$out/barren.txt" | tail -n 6
    expect_eq "seeds that all leak past the budget: exit 2" "$rc" 2
    expect_match "... saying the search cannot go on" \
        "$(cat "$out/barren.txt")" \
        "fill the memory budget .* before the engine has re-run its corpus"
    check "... never 'no leak found'" \
        bash -c "! grep -q 'no leak found' '$out/barren.txt'"
    ;;
counting)
    w=c-record-leaky-on-seeds
    mkdir -p "$out/f/artifacts"
    log=leak-0123456789abcdef0123456789abcdef01234567.verify.log
    echo "not an artifact" > "$out/f/artifacts/$log"
    "$LH" fuzz lua/suites/c.lua --workload $w --time 120s --seed 1 \
        --out "$out/f" >"$out/fuzz.txt" 2>&1
    rc=$?
    grep '^verifying' "$out/fuzz.txt"
    expect_eq "a leak found: exit 1" "$rc" 1
    expect_eq "one leak, verified once" \
        "$(grep -c '^verifying' "$out/fuzz.txt")" 1
    check "a log named leak-*.verify.log is not taken for an artifact" \
        test -f "$out/f/artifacts/$log"
    "$LH" fuzz lua/suites/c.lua --workload $w --time 5s --seed 2 \
        --out "$out/f" >"$out/again.txt" 2>&1
    rc=$?
    tail -n 4 "$out/again.txt"
    expect_eq "the next run lists it (exit 1)" "$rc" 1
    expect_eq "... without verifying it again" \
        "$(grep -c '^verifying' "$out/again.txt")" 0
    expect_eq "... once" "$(grep -c '^LEAK' "$out/again.txt")" 1
    ;;
esac
finish
