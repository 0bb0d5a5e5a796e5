# lib.sh - assertions for the end-to-end tests (sourced).
#
# Each check prints "ok - ..." or "not ok - ...", and `finish` prints
# "N passed, N failed" and sets the exit status.

LH=${LEAKHOUND:-build/leakhound}
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PASSED=0
FAILED=0

ok()   { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds
check() {
    local what=$1; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

# jget FILE EXPR: value of a Lua expression over a JSON file
jget() { lua5.4 "$TESTS_DIR/jget.lua" "$1" "$2"; }

# expect_eq DESCRIPTION ACTUAL EXPECTED
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# expect_match DESCRIPTION TEXT REGEX
expect_match() {
    if grep -Eq -- "$3" <<<"$2"; then ok "$1"
    else fail "$1: no match for /$3/ in: $(printf '%s' "$2" | head -c 600)"
    fi
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
