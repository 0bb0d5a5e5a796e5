#!/bin/sh
# afl-compile.sh AFL_CC DICT [compiler args...]
#
# Compiles one C target for an AFL++ driver: runs AFL_CC (afl-clang-fast)
# with the remaining arguments, with compare splitting on
# (AFL_LLVM_LAF_ALL=1: a 4-byte magic compare becomes four 1-byte ones, which
# AFL's coverage can climb) and the compile-time dictionary written to DICT
# (AFL_LLVM_DICT2FILE: the string/memcmp constants of the target, for
# afl-fuzz -x).  AFL_LLVM_DICT2FILE needs an absolute path and appends, so
# DICT is made absolute and truncated first; a target without string
# compares gets an empty dictionary (afl-fuzz -x only warns about it).
set -eu
cc=$1
dict=$2
shift 2
case $dict in
    /*) ;;
    *) dict=$PWD/$dict ;;
esac
: > "$dict"
AFL_LLVM_LAF_ALL=1 AFL_LLVM_DICT2FILE="$dict" AFL_QUIET=1 exec "$cc" "$@"
