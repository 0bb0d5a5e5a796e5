#!/usr/bin/env bash
# A library rebuilt without its fuzzing builds is never fuzzed as its old
# code (harness/cli/buildstamp.h).  A small C library, first clean
# (fuzzing finds nothing), then changed to leak on every input:
#   - `leakhound build c`: fuzz finds nothing in the clean code; the
#     library alone rebuilt from the leaky source: fuzz refuses (exit 2,
#     naming both files and the rebuild command) where it would have run
#     the clean driver and passed; `build c` again: the leak is found;
#   - by hand (README's two lines, no stamp): fuzz runs the generic driver;
#     the plain library rebuilt alone: the older coverage copy is refused;
#     `touch`ed, it runs; both lines again over a `build c` directory: the
#     stale linked driver gives way to the current coverage copy, saying so;
#   - AFL++ (when built): a stale AFL++ driver is refused too.
source "$(dirname "$0")/lib.sh"
LH=$(cd "$(dirname "$LH")" && pwd)/$(basename "$LH")
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $work" || trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2
mkdir -p src

cat > clean.c <<'EOF'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int kv_put(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return -1;
    memcpy(copy, data, size);
    free(copy);
    return 0;
}
EOF
cat > leaky.c <<'EOF'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *next;
    char data[64];
};
static struct entry *all;

int kv_put(const uint8_t *data, size_t size)
{
    struct entry *e = malloc(sizeof *e);  /* kept forever: the leak */
    if (!e)
        return -1;
    memcpy(e->data, data, size < 64 ? size : 64);
    e->next = all;
    all = e;
    return 0;
}
EOF
for d in kv hand mixed; do
    cat > $d.lua <<EOF
local kv = leak.target "$d/libkv.so"
leak.workload "kv" {
  target = kv, inputs = { "key=value" }, step = kv:fn "kv_put",
  invariants = { leak.stable "heap.live_bytes" },
}
EOF
done

# fuzz SCRIPT NAME [ARGS...]: fuzz the kv workload, output in NAME.txt
fuzz() {
    local script=$1 name=$2
    shift 2
    "$LH" fuzz "$script" --workload kv --time 3s --seed 1 --out "f-$name" \
        "$@" >"$name.txt" 2>&1
}
cc_lib() {  # cc_lib OUT SRC [FLAGS...]: README's by-hand line
    local out=$1 src=$2
    shift 2
    clang -shared -fPIC -g -O2 -fno-omit-frame-pointer "$@" -o "$out" "$src"
}
afl=--no-afl   # unless this build has AFL++ (its bundled drivers)
[ -x "$(dirname "$LH")/targets/c/afl/leakhound-afl-record" ] && afl=

# --- leakhound build c ----------------------------------------------------
cp clean.c src/kv.c
"$LH" build c src/kv.c $afl -o kv >build1.txt 2>&1
expect_eq "build c (clean code): exit 0" "$?" 0
check "build c wrote the stamp kv/leakhound-kv.sha1" test -f kv/leakhound-kv.sha1
check "the stamp is sha1sum's format and holds (sha1sum -c)" \
    bash -c "cd kv && sha1sum -c --quiet leakhound-kv.sha1"
expect_match "the stamp records the library and the linked driver" \
    "$(cat kv/leakhound-kv.sha1)" \
    "^[0-9a-f]{40}  fuzz/leakhound-fuzz-kv$"
fuzz kv.lua built-clean
rc=$?
tail -n 2 built-clean.txt
expect_eq "fuzz of the clean build: exit 0 (nothing found)" "$rc" 0

# the library alone rebuilt from the leaky source (README's first line)
cp leaky.c src/kv.c
cc_lib kv/libkv.so src/kv.c
fuzz kv.lua stale-stamp
rc=$?
cat stale-stamp.txt
expect_eq "fuzz with the library rebuilt alone: exit 2, not a pass" "$rc" 2
out=$(cat stale-stamp.txt)
expect_match "... names the driver and the library" "$out" \
    "kv/fuzz/leakhound-fuzz-kv is not built from the code of kv/libkv.so"
expect_match "... says the stamp told, with both sha1s" "$out" \
    "kv/leakhound-kv.sha1 records .* sha1 [0-9a-f]{12}, and kv/libkv.so is now [0-9a-f]{12}"
expect_match "... prints the command that rebuilds them" "$out" \
    '^    \$ .*leakhound build c YOUR_SOURCES.c --name kv -o (.*/)?kv$'
check "... and runs no engine" test ! -e f-stale-stamp/corpus

if [ -z "$afl" ]; then
    fuzz kv.lua stale-afl --engine afl
    expect_eq "fuzz --engine afl with the library rebuilt alone: exit 2" \
        "$?" 2
    expect_match "... names the AFL++ driver" "$(cat stale-afl.txt)" \
        "kv/afl/leakhound-afl-kv is not built from the code of kv/libkv.so"
fi

"$LH" build c src/kv.c $afl -o kv >build2.txt 2>&1
expect_eq "build c again (leaky code): exit 0" "$?" 0
fuzz kv.lua built-leaky --time 60s
rc=$?
tail -n 4 built-leaky.txt
expect_eq "fuzz after build c: exit 1, the leak is found" "$rc" 1

# --- by hand: README's two lines -----------------------------------------
mkdir -p hand/fuzz
cp clean.c src/kv.c
cc_lib hand/libkv.so src/kv.c
cc_lib hand/fuzz/libkv.so src/kv.c -fsanitize=fuzzer-no-link
fuzz hand.lua hand-clean
rc=$?
tail -n 2 hand-clean.txt
expect_eq "fuzz of the by-hand build: exit 0" "$rc" 0
expect_match "... through the generic driver and the coverage copy" \
    "$(grep '^ *driver ' hand-clean.txt)" "generic, dlopens hand/fuzz/libkv.so"

cp leaky.c src/kv.c
cc_lib hand/libkv.so src/kv.c
fuzz hand.lua hand-stale
rc=$?
cat hand-stale.txt
expect_eq "fuzz with an older coverage copy: exit 2" "$rc" 2
out=$(cat hand-stale.txt)
expect_match "... names the copy and the library" "$out" \
    "hand/fuzz/libkv.so is not built from the code of hand/libkv.so"
expect_match "... says it is older and no stamp vouches for it" "$out" \
    "hand/fuzz/libkv.so is older than hand/libkv.so \(by [0-9.]+ s\), and no stamp"
expect_match "... says how to proceed when built by hand" "$out" \
    'build hand/fuzz/libkv.so again after hand/libkv.so'

cc_lib hand/fuzz/libkv.so src/kv.c -fsanitize=fuzzer-no-link
fuzz hand.lua hand-leaky --time 60s
rc=$?
tail -n 2 hand-leaky.txt
expect_eq "the coverage copy rebuilt after it: fuzz finds the leak (1)" \
    "$rc" 1

# touch: the way to vouch for a copy that lost its times
cp -r hand copied
touch -d 2020-01-01 copied/fuzz/libkv.so    # its time lost: older
sed 's|"hand/|"copied/|' hand.lua > copied.lua
fuzz copied.lua copied
expect_eq "a copy whose library is newer: exit 2" "$?" 2
touch copied/fuzz/libkv.so
fuzz copied.lua copied-touched --time 60s
expect_eq "... its coverage copy touched: fuzz runs (the leak: 1)" "$?" 1

# both lines over a `build c` directory: its linked driver (clean code) is
# stale, the coverage copy (leaky) current: fuzz runs the copy, saying so
cp clean.c src/kv.c
"$LH" build c src/kv.c --no-afl -o mixed >build3.txt 2>&1
expect_eq "build c into mixed/: exit 0" "$?" 0
cp leaky.c src/kv.c
cc_lib mixed/libkv.so src/kv.c
cc_lib mixed/fuzz/libkv.so src/kv.c -fsanitize=fuzzer-no-link
fuzz mixed.lua mixed --time 60s
rc=$?
tail -n 2 mixed.txt
expect_eq "by hand over build c: fuzz runs the current copy, finds the leak" \
    "$rc" 1
expect_match "... saying why the linked driver is not run" "$(cat mixed.txt)" \
    "not running mixed/fuzz/leakhound-fuzz-kv, which is not built from the code of mixed/libkv.so"
finish
