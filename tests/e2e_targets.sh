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

# A name without a slash is a file relative to the current directory (then
# the script's): loaded as that file, never searched for on the library
# path, and its real path recorded in the report.
lh_abs=$(cd "$(dirname "$LH")" && pwd)/$(basename "$LH")
init=${LH_INITCOUNT:-build/tests/libinitcount.so}
names=$out/names
mkdir -p "$names"
cp "$init" "$names/libfoo.so"
cp "$init" "$names/libm.so.6"
script=$TESTS_DIR/scripts/target_names.lua
run_names() {
    (cd "$names" && "$lh_abs" run "$script" --report-dir "$names/r$1" \
        --workload "$1") >"$names/$1.txt" 2>&1
}
for w in bare-name-in-cwd system-name-in-cwd; do
    run_names "$w"
    rc=$?
    cat "$names/$w.txt"
    expect_eq "$w: the file in the current directory is loaded" "$rc" 0
    expect_eq "$w: report.json names the real path of what was loaded" \
        "$(jget "$names/r$w/report.json" "r.workloads[1].target_file")" \
        "$(realpath "$names/$( [ "$w" = bare-name-in-cwd ] && echo libfoo.so \
            || echo libm.so.6)")"
done
run_names bare-name-missing
rc=$?
cat "$names/bare-name-missing.txt"
expect_eq "a name that is no file: exit 2" "$rc" 2
expect_match "a name that is no file: the error says where it looked" \
    "$(cat "$names/bare-name-missing.txt")" \
    "libnope-not-here.so.*current directory.*library path is not searched"

# Allocators the interposer cannot see: heap.* on such a target is an
# error naming the allocator and the library, not a flat line that passes.
fa=$TESTS_DIR/scripts/foreign_alloc.lua
run_fa() {
    "$LH" run "$fa" --report-dir "$out/fa-$1" --workload "$1" \
        >"$out/fa-$1.txt" 2>&1
}
run_fa prefixed-heap-invariant
rc=$?
cat "$out/fa-prefixed-heap-invariant.txt"
expect_eq "heap.* on a target embedding je_malloc: exit 2" "$rc" 2
expect_match "the error names the allocator, the library and the symbol" \
    "$(cat "$out/fa-prefixed-heap-invariant.txt")" \
    "heap.live_bytes.*jemalloc \(.*libprefixalloc.so exports je_malloc\)"
expect_eq "report.json: the workload is an error" \
    "$(jget "$out/fa-prefixed-heap-invariant/report.json" \
        "r.workloads[1].status")" error
run_fa prefixed-gauge-invariant
rc=$?
cat "$out/fa-prefixed-gauge-invariant.txt"
expect_eq "the allocator's own gauge catches the leak heap.* missed" "$rc" 1
run_fa needs-jemalloc-defaults
rc=$?
cat "$out/fa-needs-jemalloc-defaults.txt"
expect_eq "default invariants on a target linked with libjemalloc*: exit 2" \
    "$rc" 2
expect_match "the error names the loaded jemalloc library" \
    "$(cat "$out/fa-needs-jemalloc-defaults.txt")" \
    "heap.live_bytes.*jemalloc \(.*libjemalloc-fake.so is loaded\).*default invariant"

run_fa foreign-opened-in-step
rc=$?
cat "$out/fa-foreign-opened-in-step.txt"
expect_eq "heap.* when a step opened a je_malloc target: exit 2" "$rc" 2
expect_match "the error names the allocator and the library" \
    "$(cat "$out/fa-foreign-opened-in-step.txt")" \
    "ERROR.*heap.live_bytes.*libprefixalloc.so' runs with jemalloc"
expect_eq "the other invariants are still judged" \
    "$(jget "$out/fa-foreign-opened-in-step/report.json" \
        "r.workloads[1].invariants[2].status")" pass

if [ -n "${LH_JEMALLOC:-}" ]; then
    # Debian's libjemalloc.so.2 uses initial-exec TLS: dlopen needs room
    GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536 \
        run_fa linked-with-jemalloc
    rc=$?
    cat "$out/fa-linked-with-jemalloc.txt"
    expect_eq "heap.* on a target linked with -ljemalloc: exit 2" "$rc" 2
    expect_match "the error names jemalloc and the loaded library" \
        "$(cat "$out/fa-linked-with-jemalloc.txt")" \
        "heap.live_bytes.*jemalloc \(/.*libjemalloc.so[.0-9]* is loaded\)"
else
    echo "# skip: no libjemalloc-dev (ci/deps installs it)"
fi

"$LH" run tests/scripts/gauges.lua --report-dir "$out/g" >"$out/g.txt" 2>&1
rc=$?
cat "$out/g.txt"
expect_eq "a gauge read only with the stepping threads parked" "$rc" 0
expect_eq "... never while a step ran (peak of target.racing_reads)" \
    "$(jget "$out/g/report.json" "string.format('%d', \
find(r.workloads, 'name', 'gauge-read-parked').invariants[1].peak)")" 0

finish
