#!/usr/bin/env bash
# check_layers.sh - harness/ is layered: a file includes headers only from
# its own layer and the layers below it, and only the Lua bindings, the run
# and fuzz layers and the commands include lua.h.  The meson build enforces
# the first rule by include paths; this check names the file and line.
# Usage: check_layers.sh [HARNESS_DIR]
set -uo pipefail
cd "${1:-$(dirname "$0")/../harness}"

declare -A may=(
    [base]="base"
    [probe]="base probe"
    [detect]="base detect"
    [diag]="base probe diag"
    [lua]="base probe detect diag lua"
    [run]="base probe detect diag lua run"
    [fuzz]="base probe detect diag lua run fuzz"
    [gate]="base gate"
    [report]="base report"
    [cli]="base probe detect diag lua run fuzz gate report cli"
)
lua_ok=" lua run fuzz cli "

# Which layer owns each header.
declare -A owner=()
for layer in "${!may[@]}"; do
    for h in "$layer"/*.h; do
        [ -e "$h" ] && owner[$(basename "$h")]=$layer
    done
done

# Headers meson generates in the build directory, and their layer.
owner[lh_buildkit.h]=cli    # meson.build: where `leakhound build` finds its pieces

bad=0
for layer in "${!may[@]}"; do
    for f in "$layer"/*.[ch]; do
        [ -e "$f" ] || continue
        while IFS=: read -r line text; do
            hdr=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]+)[>"].*/\1/' <<<"$text")
            if [[ "$hdr" == lua.h || "$hdr" == lauxlib.h || "$hdr" == lualib.h ]]; then
                if [[ "$lua_ok" != *" $layer "* ]]; then
                    echo "harness/$f:$line: layer '$layer' must not include $hdr"
                    bad=$((bad + 1))
                fi
                continue
            fi
            [[ "$text" == *'"'* ]] || continue
            o=${owner[$hdr]:-}
            if [ -z "$o" ]; then
                [ -e "$layer/$hdr" ] && continue
                echo "harness/$f:$line: $hdr is in no layer"
                bad=$((bad + 1))
            elif [[ " ${may[$layer]} " != *" $o "* ]]; then
                echo "harness/$f:$line: layer '$layer' includes $hdr from layer '$o' above or beside it"
                bad=$((bad + 1))
            fi
        done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$f")
    done
done
# Every source file belongs to a layer folder.
for f in *.c *.h; do
    [ -e "$f" ] || continue
    echo "harness/$f: not in a layer folder"
    bad=$((bad + 1))
done
if [ "$bad" -gt 0 ]; then
    echo "$bad layering violation(s)"
    exit 1
fi
echo "layers: every include points down"
