#!/usr/bin/env bash
# `leakhound init`: a starter script from a library's exported functions
# that runs as written (a verdict, exit 0 or 1, never 2), for a C library
# built here (with and without a header) and for a bundled Go library;
# an existing script is not overwritten; bad libraries are named.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/src" "$out/lib" "$out/elsewhere"
LH=$(cd "$(dirname "$LH")" && pwd)/$(basename "$LH")   # used from other dirs

cat > "$out/src/my.c" <<'C'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char **kept;
static size_t nkept;

/* keeps a copy of every input: a leak */
int my_parse(const uint8_t *data, size_t size)
{
    char **k = realloc(kept, (nkept + 1) * sizeof *k);
    if (!k)
        return 0;
    kept = k;
    kept[nkept] = malloc(size + 16);
    memcpy(kept[nkept++], data, size);
    return 0;
}

int my_clean(const unsigned char *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    free(copy);
    return 0;
}

int helper_add(int a, int b) { return a + b; }

static int unused_static(void) { return 3; }
int my_counter = 1;
int (*keep_static)(void) = unused_static;
C
cat > "$out/src/my.h" <<'H'
#include <stddef.h>
#include <stdint.h>
/* parses one request */
int my_parse(const uint8_t *data, size_t size);
int my_clean(const unsigned char *data,
             size_t size);
int helper_add(int a, int b);
H
cc -O1 -g -fPIC -shared -o "$out/lib/libmy.so" "$out/src/my.c"
expect_eq "the C library builds" "$?" 0

# 1. no header next to the library: every function, shape assumed
(cd "$out/elsewhere" && "$LH" init "$out/lib/libmy.so" -o "$out/s1/my.lua") \
    >"$out/i1.txt" 2>&1
expect_eq "init without a header: exit 0" "$?" 0
cat "$out/i1.txt"
s1=$(cat "$out/s1/my.lua")
for f in my_parse my_clean helper_add; do
    expect_match "... $f is a workload" "$s1" "^leak.workload \"my-$f\""
done
expect_match "... said to be assumed" "$s1" "my_parse: shape assumed"
check "... a corpus with one seed" \
    test "$(ls "$out/s1/corpus/my" | wc -l)" = 1
check "... no variable, no static function" \
    bash -c "! grep -qE 'my_counter|unused_static' '$out/s1/my.lua'"
(cd "$out/elsewhere" && "$LH" run "$out/s1/my.lua" \
    --report-dir "$out/r1") >"$out/r1.txt" 2>&1
rc=$?
tail -n 4 "$out/r1.txt"
check "the script runs as written: a verdict (exit $rc)" \
    test "$rc" = 0 -o "$rc" = 1
expect_eq "... 3 workloads judged" "$(jget "$out/r1/report.json" \
    '#r.workloads')" 3
expect_eq "... my_parse's leak found" "$(jget "$out/r1/report.json" \
    "find(r.workloads, 'name', 'my-my_parse').status")" fail
expect_eq "... my_clean clean" "$(jget "$out/r1/report.json" \
    "find(r.workloads, 'name', 'my-my_clean').status")" pass

# 2. --header: the shapes it confirms are workloads, the others listed
"$LH" init "$out/lib/libmy.so" --header "$out/src/my.h" \
    -o "$out/s2/my.lua" >"$out/i2.txt" 2>&1
expect_eq "init --header: exit 0" "$?" 0
s2=$(cat "$out/s2/my.lua")
expect_match "... my_parse enabled" "$s2" '^leak.workload "my-my_parse"'
expect_match "... my_clean (two-line declaration) enabled" "$s2" \
    '^leak.workload "my-my_clean"'
expect_match "... helper_add commented out with its prototype" "$s2" \
    "^-- int helper_add\(int a, int b\)"
expect_match "... and its workload too" "$s2" \
    '^-- leak.workload "my-helper_add"'
"$LH" run "$out/s2/my.lua" --report-dir "$out/r2" >"$out/r2.txt" 2>&1
rc=$?
tail -n 3 "$out/r2.txt"
expect_eq "... runs as written: my_parse leaks (exit 1)" "$rc" 1
expect_eq "... 2 workloads" "$(jget "$out/r2/report.json" '#r.workloads')" 2

# 3. not overwritten; --force; errors name the file
before=$(sha1sum <"$out/s2/my.lua")
"$LH" init "$out/lib/libmy.so" -o "$out/s2/my.lua" >"$out/i3.txt" 2>&1
expect_eq "an existing script: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$out/i3.txt")" \
    "'$out/s2/my.lua' exists: not overwritten"
expect_eq "... left as it was" "$(sha1sum <"$out/s2/my.lua")" "$before"
"$LH" init "$out/lib/libmy.so" -o "$out/s2/my.lua" --force \
    >"$out/i4.txt" 2>&1
expect_eq "--force replaces it" "$?" 0
"$LH" init "$out/src/my.h" -o "$out/x.lua" >"$out/i5.txt" 2>&1
expect_eq "a text file: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$out/i5.txt")" "'$out/src/my.h': not an ELF"
"$LH" init "$out/lib/libnope.so" -o "$out/x.lua" >"$out/i6.txt" 2>&1
expect_eq "a missing library: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$out/i6.txt")" "libnope.so"
"$LH" init "$out/lib/libmy.so" --header "$out/src/nope.h" \
    -o "$out/x.lua" >"$out/i7.txt" 2>&1
expect_eq "a missing --header: exit 2" "$?" 2
expect_match "... naming it" "$(cat "$out/i7.txt")" "nope.h"
check "... and nothing written" test ! -e "$out/x.lua"

# 4. a bundled Go library: its header's ops, not cgo's or the probe's
go=$PWD/build/targets/go/libcstrings.so
if [ -f "$go" ]; then
    (cd "$out/elsewhere" && "$LH" init "$go" -o "$out/g/cs.lua") \
        >"$out/g.txt" 2>&1
    expect_eq "init on a Go library: exit 0" "$?" 0
    g=$(cat "$out/g/cs.lua")
    expect_match "... shapes from the header go wrote" "$g" \
        "Shapes read from .*libcstrings.h"
    expect_match "... its ops are workloads" "$g" \
        '^leak.workload "cstrings-OpCStringLeak"'
    check "... no cgo or probe entry points" \
        bash -c "! grep -qE '_cgo|x_cgo|crosscall|leakhound_go' '$out/g/cs.lua'"
    (cd "$out/elsewhere" && "$LH" run "$out/g/cs.lua" \
        --report-dir "$out/rg") >"$out/rg.txt" 2>&1
    rc=$?
    tail -n 3 "$out/rg.txt"
    expect_eq "... runs as written: the C string leak (exit 1)" "$rc" 1
    expect_eq "... OpCStringLeak fails" "$(jget "$out/rg/report.json" \
        "find(r.workloads, 'name', 'cstrings-OpCStringLeak').status")" fail
else
    echo "ok - # SKIP Go targets not built"
fi
finish
