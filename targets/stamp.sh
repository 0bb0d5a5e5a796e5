#!/bin/sh
# stamp.sh OUT FILE... - the stamp of a bundled target's fuzzing builds,
# as `leakhound build` writes it for a user's library (harness/cli/
# buildstamp.h): the sha1 of the library (first) and of each build made
# with it, named relative to OUT's directory, in sha1sum's format.  `fuzz`
# refuses a driver whose library has changed since: ninja runs this after
# the library and the drivers, so a library rebuilt alone is caught.
set -eu
out=$1
shift
dir=$(dirname "$out")
rels=
for f in "$@"; do
    rel=${f#"$dir"/}
    if [ "$rel" = "$f" ]; then
        echo "stamp.sh: $f is not under $dir" >&2
        exit 1
    fi
    rels="$rels $rel"
done
# shellcheck disable=SC2086 # names made by meson, without spaces
(cd "$dir" && sha1sum -- $rels) >"$out.tmp"
mv -f "$out.tmp" "$out"
