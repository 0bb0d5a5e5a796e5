#!/usr/bin/env bash
# Your own library, end to end, as README's "Your own library" says, from a
# directory outside the tree:
#   c   a small C library built with `leakhound build c`: `run` finds its
#       leak at the user's function (its clean op passes), libFuzzer and
#       AFL++ reach its gated leak from a harmless seed; a compile error is
#       exit 2 with the command and the compiler's output
#   go  a Go package in its own module importing a GOPATH-style package (no
#       go.mod, with #cgo LDFLAGS of its own), built with `leakhound build go` without touching its
#       files: `fuzz` reaches its gated leak from a harmless seed, the site
#       in the user's package; the same package without go.mod (GOPATH
#       mode) builds and runs with the probe; a compile error is exit 2
#       with the command and go's output
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
    for f in libusers.so fuzz/libusers.so afl/leakhound-afl-users; do
        check "build c made leakhound-build/$f" test -f "leakhound-build/$f"
    done
    check "the AFL++ dictionary has the magic prefix" \
        grep -q ADMN leakhound-build/afl/leakhound-afl-users.dict
    expect_match "the commands are shown" "$(cat build.txt)" \
        '^\$ .*AFL_LLVM_LAF_ALL=1 .*afl-clang-fast .*src/users.c'

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
        json=$(ls "f-$engine"/artifacts/leak-*.json 2>/dev/null | head -n 1)
        check "fuzz $engine: a leak artifact" test -n "$json"
        [ -n "$json" ] || continue
        expect_match "fuzz $engine: the input has the magic prefix" \
            "$(head -c 4 "${json%.json}")" '^ADMN'
        expect_match "fuzz $engine: the site is the user's function" \
            "$(jget "$json" 'r.site')" 'users_login'
    done

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
        leakhound-build/fuzz/libusers.so leakhound-build/afl/leakhound-afl-users 2>/dev/null'
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
    cat > gopath/src/example.com/tally/tally.go <<'EOF'
// Package tally counts orders.
package tally

/*
#cgo LDFLAGS: -L${SRCDIR} -lweight
int tally_weight(int n);
*/
import "C"

import "sync/atomic"

var orders int64

// Add counts one order.
func Add() int64 { return atomic.AddInt64(&orders, int64(C.tally_weight(1))) }
EOF
    cat > shop/go.mod <<'EOF'
module example.com/shop

go 1.19
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

	"example.com/tally"
)

func main() {}

func isGift(in []byte) bool {
	return len(in) >= 4 && string(in[:4]) == "GIFT"
}

//export ShopOrder
func ShopOrder(data *C.uint8_t, size C.size_t) C.int {
	in := C.GoBytes(unsafe.Pointer(data), C.int(size))
	receipt := make(chan int64)
	go func() { receipt <- tally.Add() }()
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
    expect_match "module mode" "$(cat build.txt)" 'in module mode'
    expect_eq "the package's files are untouched" \
        "$(cd shop && ls -A && sha1sum -- *)" "$before"
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
