#!/usr/bin/env bash
# The harness passes its own leak test: `leakhound run` and its workers
# under valgrind memcheck end with no errors and no definite leaks (issue
# 10, item 19).  Skipped (exit 77) when valgrind is missing.
#
# How valgrind meets the interposer: by default memcheck also replaces a
# malloc and free the main executable defines, so the target's blocks
# would bypass the counters (heap.* reads flat) while calloc/realloc still
# count.  somalloc=nouserintercepts keeps valgrind's replacement to libc,
# where the interposer's __libc_* calls land.  The worker is /proc/self/exe
# re-executed (valgrind's readlink path under valgrind, base/child.c):
# --trace-children follows it; addr2line children are not ours.
source "$(dirname "$0")/lib.sh"
if ! command -v valgrind >/dev/null 2>&1; then
    echo "ok - skipped: valgrind not installed"
    exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

valgrind --log-file="$out/vg.%p" --trace-children=yes \
    --trace-children-skip='*/addr2line' \
    --soname-synonyms=somalloc=nouserintercepts \
    --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite \
    "$LH" run tests/scripts/memcheck.lua --expect \
    --report-dir "$out/r" >"$out/run.txt" 2>&1
rc=$?
cat "$out/run.txt"
expect_eq "exit status 0 under memcheck (expectations met, no errors)" \
    "$rc" 0

# One log per process; a forked copy that exec'd addr2line has no summary.
sup=0 workers=0 bad=""
for f in "$out"/vg.*; do
    grep -q "ERROR SUMMARY" "$f" || continue
    if grep -q "Command: .* __worker " "$f"; then
        workers=$((workers + 1))
    else
        sup=$((sup + 1))
    fi
    if ! grep -q "ERROR SUMMARY: 0 errors" "$f" ||
       grep -Eq "definitely lost: [1-9]" "$f"; then
        bad="$bad $f"
        cat "$f"
    fi
done
for f in "$out"/vg.*; do
    if grep -Eq "debuginfo reader|unhandled dwarf|Program aborting" "$f"
    then
        bad="$bad $f"
        grep -E "debuginfo|dwarf|aborting" "$f" | head -5
    fi
done
expect_eq "the supervisor ran to its leak summary" "$sup" 1
expect_eq "both workers ran to their leak summaries" "$workers" 2
expect_eq "no memcheck errors, no definite leaks, debug info read" \
    "$bad" ""

# Under valgrind the interposer still counts: the leak is found, with its
# site, and the clean twin passes.
rep=$out/r/report.json
st() { jget "$rep" "find(r.workloads, 'name', '$1').status"; }
expect_eq "the unbounded cache fails under valgrind" \
    "$(st memcheck-cache-unbounded)" fail
expect_eq "the LRU passes under valgrind" "$(st memcheck-cache-lru)" pass
expect_eq "the leak's site is found under valgrind" \
    "$(jget "$rep" "find(find(r.workloads, 'name', \
'memcheck-cache-unbounded').invariants, 'metric', \
'heap.live_bytes').sites[1].func")" unb_intern

# Without the option memcheck replaces the executable's malloc and free:
# heap.* is an error naming the cause, never a flat line that passes.
text=$(valgrind -q --trace-children=yes --trace-children-skip='*/addr2line' \
    "$LH" run tests/scripts/memcheck.lua --workload memcheck-cache-lru \
    --report-dir "$out/d" 2>&1)
rc=$?
expect_eq "default valgrind options: exit status 2" "$rc" 2
expect_match "heap.* names the replaced allocator and the option" "$text" \
    "live_bytes' is not available: malloc and free are not .*nouserintercepts"

finish
