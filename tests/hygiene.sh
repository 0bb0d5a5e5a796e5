#!/usr/bin/env bash
# hygiene.sh - harness/ uses no volatile as a flag between threads or
# processes (C11 atomics do that); allowed: volatile sig_atomic_t (signal
# handlers), asm volatile, and volatile function pointers that keep the
# compiler from folding calls (diag/heapsites.c's calibration,
# probe/interpose.c's self-check).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

bad=$(grep -rn --include='*.[ch]' -w volatile "$here/../harness" |
      grep -v 'volatile sig_atomic_t' | grep -v '__asm__ volatile' |
      grep -Ev '_fn volatile [a-z]+ = ' | grep -Ev '\(\*volatile [a-z_]+\)' |
      grep -Ev '^[^:]+:[0-9]+: +(\*|/\*)')
expect_eq "no volatile flags in harness/" "$bad" ""
finish
