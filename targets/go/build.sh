#!/bin/sh
# build.sh GO SRCDIR PKG OUT WORKDIR [MODE]
#
# Builds one Go target for meson. MODE is
#   c-shared    (default) the c-shared library the harness dlopens
#   fuzz        a c-archive instrumented for libFuzzer (-d=libfuzzer), linked
#               into a per-target fuzz driver; see fuzz/README.md
# Everything Go writes (build cache, module cache) goes under WORKDIR in the
# build directory, and the module proxy is off: the build never touches the
# network or $HOME. go also writes OUT's C header (lib<name>.h) next to OUT.
set -eu
if [ $# -ne 5 ] && [ $# -ne 6 ]; then
    echo "usage: $0 GO SRCDIR PKG OUT WORKDIR [c-shared|fuzz]" >&2
    exit 2
fi
go=$1 srcdir=$2 pkg=$3 out=$4 workdir=$5 mode=${6:-c-shared}

# Resolve OUT before cd'ing into the module: meson passes it relative to
# the build directory.
case $out in
/*) ;;
*) out=$(pwd)/$out ;;
esac
case $workdir in
/*) ;;
*) workdir=$(pwd)/$workdir ;;
esac

export GOPROXY=off GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=1
export GOCACHE="$workdir/cache" GOPATH="$workdir/path"

cd "$srcdir"
# -buildvcs=false: this is a git checkout, and stamping VCS info would run
# git on every build (and fail outright in a checkout owned by someone else).
case $mode in
c-shared)
    exec "$go" build -buildvcs=false -buildmode=c-shared -o "$out" "./$pkg"
    ;;
fuzz)
    # -tags libfuzzer compiles runtime/libfuzzer*.go, which registers the
    # counters with libFuzzer and forwards the compare hooks; -d=libfuzzer
    # instruments every package except those listed after it (later
    # -gcflags patterns win): the packages `go test -fuzz` leaves out
    # (runtime is never instrumented), and the probe with runtime/pprof,
    # which the driver calls while an input runs: their branches are not
    # the target's coverage.  harness/cli/buildgo.c (`leakhound build go`)
    # has the same list: keep them in step.
    skip=
    for p in context internal/fuzz reflect sync sync/atomic syscall time \
             testing runtime/pprof runtime/cgo leakhound.dev/probe; do
        skip="$skip -gcflags=$p="
    done
    # shellcheck disable=SC2086  # $skip is a list of words
    exec "$go" build -buildvcs=false -buildmode=c-archive -tags libfuzzer \
        -gcflags=all=-d=libfuzzer $skip -o "$out" "./$pkg"
    ;;
*)
    echo "$0: unknown mode '$mode' (c-shared or fuzz)" >&2
    exit 2
    ;;
esac
