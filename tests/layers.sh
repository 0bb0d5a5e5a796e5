#!/usr/bin/env bash
# layers.sh - harness/ passes check_layers.sh, and the check catches an
# upward include and lua.h below the Lua bindings (on a planted copy).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

out=$("$here/check_layers.sh" 2>&1)
expect_eq "harness/ keeps its layers: $out" "$?" 0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$here/../harness" "$tmp/h"
echo '#include "worker.h"' >>"$tmp/h/diag/diag.h"
echo '#include <lua.h>' >>"$tmp/h/probe/probes.c"
touch "$tmp/h/stray.c"
out=$("$here/check_layers.sh" "$tmp/h" 2>&1)
check "a planted violation fails the check" test "$?" -ne 0
expect_match "the upward include is named with file and line" "$out" \
    "diag/diag.h:[0-9]+: layer 'diag' includes worker.h from layer 'run'"
expect_match "lua.h below the bindings is named" "$out" \
    "probe/probes.c:[0-9]+: layer 'probe' must not include lua.h"
expect_match "a file outside the layer folders is named" "$out" \
    "harness/stray.c: not in a layer folder"
finish
