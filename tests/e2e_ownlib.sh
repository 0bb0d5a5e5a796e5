#!/usr/bin/env bash
# Your own library, end to end, as README's "Your own library" says, from a
# directory outside the tree:
#   c   a small C library built with `leakhound build c`: `run` finds its
#       leak at the user's function (its clean op passes), libFuzzer and
#       AFL++ reach its gated leak from a harmless seed; a compile error is
#       exit 2 with the command and the compiler's output
#   go  a Go package in its own module importing GOPATH-style packages,
#       built with `leakhound build go` without touching its files: one
#       without go.mod, with C of its own behind #cgo LDFLAGS, #cgo
#       pkg-config and $CGO_LDFLAGS; one whose go.mod
#       requires a version that is nowhere (as Debian's protobuf requires
#       go-cmp), uses generics (its go version kept) and imports a /v2
#       module kept under its v1 path (as Debian installs xxhash/v2,
#       imported by prometheus' client); and Debian's own
#       go-cache from /usr/share/gocode (ci/deps).  `fuzz` reaches its
#       gated leak from a harmless seed, the site in the user's package;
#       the same package without go.mod (GOPATH mode, Debian's tree
#       searched too) builds and runs with the probe; a compile error is
#       exit 2 with the command and go's output
# go uses the build's own cache (build/targets/go/go-work/cache), warm
# from the bundled targets.
source "$(dirname "$0")/lib.sh"
LH=$(cd "$(dirname "$LH")" && pwd)/$(basename "$LH")
build=$(dirname "$LH")
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $work" || trap 'rm -rf "$work"' EXIT
cd "$work" || exit 2

case $1 in
c)
    mkdir -p src seeds
    # A session table: logins of ADMN users are kept forever (the leak,
    # behind a magic prefix); lookups allocate and free.
    cat > src/users.c <<'EOF'
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct session {
    struct session *next;
    size_t len;
    char name[];
};

static struct session *admins;

int users_login(const uint8_t *data, size_t size)
{
    if (size < 4 || memcmp(data, "ADMN", 4) != 0)
        return 0;
    struct session *s = malloc(sizeof *s + size);
    if (!s)
        return -1;
    memcpy(s->name, data, size);
    s->len = size;
    s->next = admins;           /* never freed: the leak */
    admins = s;
    return 1;
}

int users_lookup(const uint8_t *data, size_t size)
{
    char *key = malloc(size + 1);
    if (!key)
        return -1;
    memcpy(key, data, size);
    key[size] = '\0';
    int found = strchr(key, '@') != NULL;
    free(key);
    return found;
}
EOF
    printf 'guest' > seeds/01-guest
    cat > users.lua <<'EOF'
local users = leak.target "leakhound-build/libusers.so"

leak.workload "users-login" {
  target = users, warmup = 50, iterations = 2000, samples = 20,
  inputs = { "guest", "ADMN-root" },
  step = users:fn "users_login",
  invariants = { leak.stable "heap.live_bytes" },
}

leak.workload "users-lookup" {
  target = users, warmup = 50, iterations = 2000, samples = 20,
  inputs = { "guest", "ann@example.com" },
  step = users:fn "users_lookup",
  invariants = { leak.stable "heap.live_bytes" },
}
EOF
    "$LH" build c src/users.c -o leakhound-build >build.txt 2>&1
    rc=$?
    tail -n 4 build.txt
    expect_eq "build c: exit 0" "$rc" 0
    for f in libusers.so fuzz/leakhound-fuzz-users fuzz/libusers.so \
             afl/leakhound-afl-users; do
        check "build c made leakhound-build/$f" test -f "leakhound-build/$f"
    done
    expect_match "build c says it built the linked libFuzzer driver" \
        "$(cat build.txt)" \
        "leakhound-build/fuzz/leakhound-fuzz-users \(libFuzzer driver, the library linked in\)"
    check "the AFL++ dictionary has the magic prefix" \
        grep -q ADMN leakhound-build/afl/leakhound-afl-users.dict
    expect_match "the commands are shown" "$(cat build.txt)" \
        '^\$ .*AFL_LLVM_LAF_ALL=1 .*afl-clang-fast .*src/users.c'

    # The README's commands as they are: init, run, fuzz from init's seed.
    "$LH" init leakhound-build/libusers.so -o start.lua >init.txt 2>&1
    expect_eq "init: exit 0" "$?" 0
    "$LH" run start.lua --report-dir rs >run-start.txt 2>&1
    rc=$?
    tail -n 3 run-start.txt
    expect_eq "run of init's script as written: exit 0 (its seed is harmless)" \
        "$rc" 0
    "$LH" fuzz start.lua --workload users-users_login --time 90s --seed 1 \
        --out f-start >fuzz-start.txt 2>&1
    rc=$?
    tail -n 4 fuzz-start.txt
    expect_eq "fuzz of init's workload from init's seed: exit 1 (a leak)" \
        "$rc" 1
    json=$(ls f-start/artifacts/leak-*.json 2>/dev/null | head -n 1)
    expect_match "... its site is the user's function" \
        "$(jget "${json:-/dev/null}" 'r.site' 2>/dev/null)" 'users_login'

    "$LH" run users.lua --report-dir r >run.txt 2>&1
    rc=$?
    tail -n 8 run.txt
    expect_eq "run: exit 1 (a leak)" "$rc" 1
    rep=r/report.json
    verdict() {
        jget "$rep" "find(r.workloads, 'name', '$1').invariants[1].status"
    }
    expect_eq "run: users-login fails" "$(verdict users-login)" fail
    expect_eq "run: its clean twin users-lookup passes" \
        "$(verdict users-lookup)" pass
    expect_match "run: the site is the user's function" \
        "$(jget "$rep" "find(r.workloads, 'name', 'users-login')
            .invariants[1].sites[1].func")" '^users_login'

    for engine in libfuzzer afl; do
        "$LH" fuzz users.lua --workload users-login --engine $engine \
            --corpus seeds --time 90s --seed 1 --out "f-$engine" \
            >"fuzz-$engine.txt" 2>&1
        rc=$?
        tail -n 6 "fuzz-$engine.txt"
        expect_eq "fuzz $engine from a harmless seed: exit 1 (a leak)" \
            "$rc" 1
        [ $engine = afl ] || expect_match "fuzz $engine: the driver build c linked" \
            "$(grep '^ *driver ' "fuzz-$engine.txt")" \
            "driver ([^ ]*/)?leakhound-build/fuzz/leakhound-fuzz-users \(libusers\.so linked in\)$"
        json=$(ls "f-$engine"/artifacts/leak-*.json 2>/dev/null | head -n 1)
        check "fuzz $engine: a leak artifact" test -n "$json"
        [ -n "$json" ] || continue
        expect_match "fuzz $engine: the input has the magic prefix" \
            "$(head -c 4 "${json%.json}")" '^ADMN'
        expect_match "fuzz $engine: the site is the user's function" \
            "$(jget "$json" 'r.site')" 'users_login'
    done

    # NAME is the source's name as it is: library.c is liblibrary.so
    # (lh_target_name, which reads NAME back, would make it "rary")
    cp src/users.c src/library.c
    "$LH" build c src/library.c --no-afl -o named >named.txt 2>&1
    expect_eq "build c src/library.c: exit 0" "$?" 0
    check "... made named/liblibrary.so and its coverage copy" \
        test -f named/liblibrary.so -a -f named/fuzz/liblibrary.so

    # an archive from the user's own build: its ops are in the library
    # and the AFL++ driver (linked whole: nothing refers to them by name)
    cc -c -fPIC -g src/users.c -o users.o && ar rcs libown.a users.o
    printf 'int extra_op(const char *d, unsigned long n) { return n > 0; }\n' \
        > src/extra.c
    "$LH" build c src/extra.c libown.a --name mixed -o mixed >mixed.txt 2>&1
    expect_eq "build c with an archive: exit 0" "$?" 0
    check "... the library exports the archive's ops" \
        bash -c "nm -D --defined-only mixed/libmixed.so | grep -q users_login"
    check "... and so does the AFL++ driver" \
        bash -c "nm -D --defined-only mixed/afl/leakhound-afl-mixed |
                 grep -q users_login"
    check "... and the libFuzzer driver" \
        bash -c "nm -D --defined-only mixed/fuzz/leakhound-fuzz-mixed |
                 grep -q users_login"

    # a library of the user's own linked with -L: loads without
    # LD_LIBRARY_PATH (the -L directory is also an rpath)
    mkdir -p lib
    printf 'int base_twice(int n) { return 2 * n; }\n' > lib/base.c
    cc -shared -fPIC lib/base.c -o lib/libbase.so
    printf '%s\n' '#include <stddef.h>' 'int base_twice(int n);' \
        'int twice_op(const char *d, size_t n) { return base_twice((int)n); }' \
        > src/twice.c
    "$LH" build c src/twice.c --libs "-Llib -lbase" --no-afl -o tw \
        >twice.txt 2>&1
    expect_eq "build c --libs '-Llib -lbase': exit 0" "$?" 0
    cat > twice.lua <<'EOF'
local t = leak.target "tw/libtwice.so"
leak.workload "twice" {
  target = t, warmup = 10, iterations = 200, samples = 10,
  inputs = { "ab" }, step = t:fn "twice_op",
  invariants = { leak.stable "heap.live_bytes" },
}
EOF
    (unset LD_LIBRARY_PATH; "$LH" run twice.lua --report-dir rt >rt.txt 2>&1)
    rc=$?
    tail -n 2 rt.txt
    expect_eq "... and the library loads from lib/: run exit 0" "$rc" 0

    # an existing libFuzzer target: no AFL++ driver (that driver defines
    # LLVMFuzzerTestOneInput itself), said; the rest is built
    cat > src/entry.c <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return size > 0 && data[0] == 'x';
}
EOF
    "$LH" build c src/entry.c -o entry >entry.txt 2>&1
    expect_eq "build c of a libFuzzer target: exit 0" "$?" 0
    check "... made entry/libentry.so and entry/fuzz/libentry.so" \
        test -f entry/libentry.so -a -f entry/fuzz/libentry.so
    check "... and no AFL++ driver" test ! -e entry/afl/leakhound-afl-entry
    check "... nor linked libFuzzer driver" \
        test ! -e entry/fuzz/leakhound-fuzz-entry
    expect_match "... saying fuzz dlopens the copy instead" \
        "$(cat entry.txt)" \
        'no linked libFuzzer driver: the library defines LLVMFuzzerTestOneInput'
    expect_match "... saying why" "$(cat entry.txt)" \
        'no AFL\+\+ driver: src/entry.c defines LLVMFuzzerTestOneInput'

    # code that clashes with the driver's own (here a harness symbol):
    # no linked driver, said; the coverage copy is there for the generic
    # driver, and the build succeeds
    printf '%s\n' 'int lh_target_call(void) { return 0; }' \
        'int clash_op(const char *d, unsigned long n) { return n > 0; }' \
        > src/clash.c
    "$LH" build c src/clash.c --no-afl -o clash >clash.txt 2>&1
    expect_eq "build c of code clashing with the driver: exit 0" "$?" 0
    check "... no linked driver, the coverage copy" \
        test ! -e clash/fuzz/leakhound-fuzz-clash -a -f clash/fuzz/libclash.so
    expect_match "... saying fuzz dlopens the copy" "$(cat clash.txt)" \
        'no linked libFuzzer driver \(the link above failed\); `leakhound fuzz`'

    # a tool that fails: exit 2, the command and its output; what the
    # earlier build made is gone, so no old driver is fuzzed
    printf 'int broken(void) { return }\n' > src/broken.c
    "$LH" build c src/broken.c --name users -o leakhound-build >bad.txt 2>&1
    rc=$?
    expect_eq "a compile error: exit 2" "$rc" 2
    expect_match "... showing the command" "$(cat bad.txt)" \
        '^\$ .*clang .*src/broken.c'
    expect_match "... and the compiler's message" "$(cat bad.txt)" \
        'broken.c:1:.*error'
    check "... and the old builds are gone" bash -c '! ls leakhound-build/libusers.so \
        leakhound-build/fuzz/libusers.so leakhound-build/afl/leakhound-afl-users \
        leakhound-build/fuzz/leakhound-fuzz-users 2>/dev/null'
    ;;
go)
    export GOCACHE=$build/targets/go/go-work/cache
    export GOPATH=$work/gopath
    unset GOFLAGS GO111MODULE GOWORK
    # a GOPATH-style dependency: no go.mod
    mkdir -p gopath/src/example.com/tally shop seeds
    # with C of its own behind #cgo LDFLAGS, which the driver's static
    # link must be given
    cat > gopath/src/example.com/tally/weight.c <<'EOF'
int tally_weight(int n) { return 2 * n; }
EOF
    (cd gopath/src/example.com/tally && cc -c -fPIC weight.c -o weight.o &&
        ar rcs libweight.a weight.o && rm weight.c weight.o)
    # and C behind #cgo pkg-config, whose libraries the link needs too
    mkdir -p pc
    printf 'int tally_bonus(void) { return 0; }\n' > pc/bonus.c
    (cd pc && cc -c -fPIC bonus.c -o bonus.o && ar rcs libbonus.a bonus.o)
    printf 'Name: bonus\nDescription: t\nVersion: 1\nLibs: -L%s -lbonus\n' \
        "$work/pc" > pc/bonus.pc
    export PKG_CONFIG_PATH=$work/pc
    # and C found through $CGO_LDFLAGS only
    printf 'int tally_extra(void) { return 0; }\n' > pc/extra.c
    (cd pc && cc -c -fPIC extra.c -o extra.o && ar rcs libextra.a extra.o)
    export CGO_LDFLAGS="-g -O2 -L$work/pc -lextra"
    cat > gopath/src/example.com/tally/tally.go <<'EOF'
// Package tally counts orders.
package tally

/*
#cgo LDFLAGS: -L${SRCDIR} -lweight
#cgo pkg-config: bonus
int tally_weight(int n);
int tally_bonus(void);
int tally_extra(void);
*/
import "C"

import "sync/atomic"

var orders int64

// Add counts one order.
func Add() int64 {
	n := C.tally_weight(1) + C.tally_bonus() + C.tally_extra()
	return atomic.AddInt64(&orders, int64(n))
}
EOF
    # a go.mod requiring what no one has, and generics (go 1.18, written
    # as newer go does: go 1.19 refuses a third part)
    mkdir -p gopath/src/example.com/ledger gopath/src/example.com/hash
    cat > gopath/src/example.com/ledger/go.mod <<'EOF'
module example.com/ledger

go 1.18.0

require example.com/nowhere v1.2.3
EOF
    cat > gopath/src/example.com/ledger/ledger.go <<'EOF'
// Package ledger sums amounts.
package ledger

import "example.com/hash/v2"

// Receipt numbers a receipt.
func Receipt(b []byte) uint32 { return hash.Of(b) }

// Sum adds up xs.
func Sum[T int | int64](xs ...T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}
EOF
    # a v2 module under its v1 path, imported by ledger (go.mod: GOPATH
    # mode's "minimal module compatibility") as example.com/hash/v2
    cat > gopath/src/example.com/hash/go.mod <<'EOF'
module example.com/hash/v2

go 1.17
EOF
    cat > gopath/src/example.com/hash/hash.go <<'EOF'
// Package hash hashes receipts.
package hash

// Of is FNV-1a of b.
func Of(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}
EOF
    debian=/usr/share/gocode/src/github.com/patrickmn/go-cache
    check "Debian's go-cache is installed (ci/deps:\
 golang-github-patrickmn-go-cache-dev)" test -f "$debian/cache.go"
    # written with `go get` elsewhere: go-cache's version is in no module
    # cache here (go prints "go: downloading ..." among its answers)
    cat > shop/go.mod <<'EOF'
module example.com/shop

go 1.19

require github.com/patrickmn/go-cache v2.1.0+incompatible
EOF
    cat > shop/go.sum <<'EOF'
github.com/patrickmn/go-cache v2.1.0+incompatible h1:HRMgzkcYKYpi3C8ajMPV8OFXaaRUnok+kx1WdO15EQc=
github.com/patrickmn/go-cache v2.1.0+incompatible/go.mod h1:3Qf8kWWT7OJRf34yqGsW8rFO1TiOPG9LRgBXwsCR5ZQ=
EOF
    # Gift orders hand the receipt to a goroutine nobody waits for: it
    # blocks forever (the leak, behind a magic prefix).
    cat > shop/main.go <<'EOF'
package main

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"unsafe"

	"example.com/ledger"
	"example.com/tally"
	"github.com/patrickmn/go-cache"
)

func main() {}

var seen = cache.New(cache.NoExpiration, 0)

func isGift(in []byte) bool {
	return len(in) >= 4 && string(in[:4]) == "GIFT"
}

//export ShopOrder
func ShopOrder(data *C.uint8_t, size C.size_t) C.int {
	in := C.GoBytes(unsafe.Pointer(data), C.int(size))
	seen.Set("last", ledger.Receipt(in), cache.NoExpiration)
	receipt := make(chan int64)
	go func() { receipt <- ledger.Sum(tally.Add(), 0) }()
	if isGift(in) {
		return 1
	}
	return C.int(<-receipt)
}
EOF
    printf 'order-1' > seeds/01-order
    cat > shop.lua <<'EOF'
local shop = leak.target "leakhound-build/libshop.so"

leak.workload "shop-order" {
  target = shop, warmup = 50, iterations = 1000, samples = 20,
  inputs = leak.corpus "seeds",
  step = shop:fn "ShopOrder",
  invariants = { leak.stable "go.goroutines" { slack = 2 } },
}
EOF
    before=$(cd shop && ls -A && sha1sum -- *)
    "$LH" build go ./shop -o leakhound-build >build.txt 2>&1
    rc=$?
    tail -n 6 build.txt
    expect_eq "build go (module with a GOPATH-style import): exit 0" "$rc" 0
    for f in libshop.so fuzz/leakhound-fuzz-shop; do
        check "build go made leakhound-build/$f" test -f "leakhound-build/$f"
    done
    expect_eq "build go stamped the library and its driver" \
        "$(cd leakhound-build && sha1sum -c leakhound-shop.sha1 2>&1)" \
        "$(printf 'libshop.so: OK\nfuzz/leakhound-fuzz-shop: OK')"
    expect_match "module mode" "$(cat build.txt)" 'in module mode'
    expect_eq "the package's files are untouched" \
        "$(cd shop && ls -A && sha1sum -- *)" "$before"
    # DIR may be inside the user's module: a .go file there would be a
    # package of theirs to `go build ./...`
    expect_eq "no .go file in leakhound-build/go-work" \
        "$(find leakhound-build/go-work -name '*.go')" ""
    check "the probe is linked into the library" \
        bash -c "nm -D leakhound-build/libshop.so | grep -q leakhound_go_goroutines"

    "$LH" fuzz shop.lua --workload shop-order --corpus seeds --time 90s \
        --seed 1 --out f >fuzz.txt 2>&1
    rc=$?
    tail -n 6 fuzz.txt
    expect_eq "fuzz from a harmless seed: exit 1 (a leak)" "$rc" 1
    json=$(ls f/artifacts/leak-*.json 2>/dev/null | head -n 1)
    check "a leak artifact" test -n "$json"
    if [ -n "$json" ]; then
        expect_match "on go.goroutines" "$(jget "$json" 'r.metric')" \
            'go[.]goroutines'
        expect_match "the site is in the user's package" \
            "$(jget "$json" 'r.site')" 'main[.]ShopOrder'
    fi

    # GOPATH mode: the same package in a GOPATH, without go.mod
    mkdir -p gopath/src/example.com/shop2
    cp shop/main.go gopath/src/example.com/shop2/
    "$LH" build go gopath/src/example.com/shop2 -o leakhound-build \
        >build2.txt 2>&1
    rc=$?
    tail -n 3 build2.txt
    expect_eq "build go in GOPATH mode: exit 0" "$rc" 0
    expect_match "GOPATH mode" "$(cat build2.txt)" 'GOPATH mode'
    sed 's/libshop.so/libshop2.so/; s/"shop-order"/"shop2-order"/' \
        shop.lua > shop2.lua
    "$LH" run shop2.lua --report-dir r2 >run2.txt 2>&1
    rc=$?
    tail -n 4 run2.txt
    expect_eq "run on the GOPATH-mode build (harmless inputs): exit 0" \
        "$rc" 0
    expect_match "... measured go.goroutines through the probe" \
        "$(jget r2/report.json "r.workloads[1].invariants[1].metric")" \
        'go[.]goroutines'

    # a package that is not main: said before go fails on the probe's
    # added file; a directory "lib" is NAME "lib", not ""
    mkdir -p lib
    printf 'module example.com/lib\n\ngo 1.19\n' > lib/go.mod
    printf 'package lib\n\nfunc Add(a, b int) int { return a + b }\n' \
        > lib/lib.go
    "$LH" build go ./lib -o bad >notmain.txt 2>&1
    rc=$?
    expect_eq "build go on a package that is not main: exit 2" "$rc" 2
    expect_match "... saying so" "$(cat notmain.txt)" \
        '\./lib is package lib: .*package main that //exports'

    # a package exporting LLVMFuzzerTestOneInput: the driver defines it
    # (a multiple-definition link error before): said, exit 2, the
    # library for `run` built
    mkdir -p entry
    printf 'module example.com/entry\n\ngo 1.19\n' > entry/go.mod
    cat > entry/main.go <<'EOF'
package main

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

func main() {}

//export LLVMFuzzerTestOneInput
func LLVMFuzzerTestOneInput(data *C.uint8_t, size C.size_t) C.int { return 0 }
EOF
    "$LH" build go ./entry -o entryb >entry.txt 2>&1
    rc=$?
    expect_eq "build go exporting LLVMFuzzerTestOneInput: exit 2" "$rc" 2
    check "... entryb/libentry.so built for run" test -f entryb/libentry.so
    expect_match "... saying why" "$(cat entry.txt)" \
        'no libFuzzer driver: \./entry exports LLVMFuzzerTestOneInput'

    # an import found nowhere, by a GOPATH package: noted (once the
    # package is added), then go's error
    mkdir -p far gopath/src/example.com/relay
    printf 'package relay\n\nimport "example.com/gone"\n\nvar X = gone.X\n' \
        > gopath/src/example.com/relay/relay.go
    printf 'module example.com/far\n\ngo 1.19\n' > far/go.mod
    printf 'package main\n\nimport "C"\nimport "example.com/relay"\n\nfunc main() {}\n\n//export Op\nfunc Op() C.int { return C.int(relay.X) }\n' \
        > far/main.go
    "$LH" build go ./far -o bad >far.txt 2>&1
    rc=$?
    expect_eq "build go, a GOPATH package importing what is nowhere: exit 2" \
        "$rc" 2
    expect_match "... noted" "$(cat far.txt)" \
        'note: no module provides example.com/gone and no GOPATH tree'

    # a vendored module: vendor/ cannot take the probe (go reads
    # modules.txt past -overlay): said, the modules come from the cache
    mkdir -p vend/vendor/example.com/x
    printf 'module example.com/vend\n\ngo 1.19\n\nrequire example.com/x v1.0.0\n' \
        > vend/go.mod
    printf '# example.com/x v1.0.0\n## explicit\nexample.com/x\n' \
        > vend/vendor/modules.txt
    printf 'package x\n\nvar X = 1\n' > vend/vendor/example.com/x/x.go
    printf 'package main\n\nimport "C"\nimport "example.com/x"\n\nfunc main() {}\n\n//export Op\nfunc Op() C.int { return C.int(x.X) }\n' \
        > vend/main.go
    "$LH" build go ./vend -o bad >vend.txt 2>&1
    rc=$?
    expect_eq "build go of a vendored module, its cache empty: exit 2" "$rc" 2
    expect_match "... saying vendor/ is not used" "$(cat vend.txt)" \
        'vend/vendor/modules.txt is not used .*module cache'

    # go failing: exit 2, the command and go's output
    mkdir -p broken
    printf 'package main\n\nfunc broken( {\n' > broken/main.go
    "$LH" build go ./broken -o bad >bad.txt 2>&1
    rc=$?
    expect_eq "a Go compile error: exit 2" "$rc" 2
    expect_match "... showing the command" "$(cat bad.txt)" \
        '^\$ .*go build .*-buildmode=c-shared'
    expect_match "... and go's message" "$(cat bad.txt)" 'syntax error'
    ;;
*)
    echo "usage: $0 c|go" >&2
    exit 2
    ;;
esac
finish
