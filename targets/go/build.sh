#!/bin/sh
# build.sh GO SRCDIR PKG OUT WORKDIR
#
# Builds one Go target as a c-shared library for meson. Everything Go writes
# (build cache, module cache) goes under WORKDIR in the build directory, and
# the module proxy is off: the build never touches the network or $HOME.
# go also writes OUT's C header (lib<name>.h) next to OUT.
set -eu
if [ $# -ne 5 ]; then
    echo "usage: $0 GO SRCDIR PKG OUT WORKDIR" >&2
    exit 2
fi
go=$1 srcdir=$2 pkg=$3 out=$4 workdir=$5

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
exec "$go" build -buildvcs=false -buildmode=c-shared -o "$out" "./$pkg"
