#!/usr/bin/env bash
# e2e_fuzz_saved.sh - a leak found while fuzzing is never lost, nor
# announced as saved when it was not: an input left without its record (a
# run killed between the two writes) is verified and recorded by the next
# run; an artifact the full disk refused is said NOT saved, with the input
# in the log, and the run exits 2; a new leak nightly cannot file is an
# error of the night, not "0 new".  Nor is a target that ends the process
# or crashes "no leak found": an engine that stopped before its budget
# (the target's _exit(0)) is an error; exit(0) in a step and AFL++'s own
# crashes are crash artifacts, as libFuzzer's are; a seed that crashes
# stops AFL++ (an error), it is not skipped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
small=
cleanup() {
    [ -n "$small" ] && umount "$small" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
REC=c-record-leaky-on-seeds

# 1. An input without its record, as a run killed between writing the
# input and its .json leaves it: the next fuzz verifies it, records it
# and lists it (main skipped it: the finding was lost).
mkdir -p "$T/o/artifacts"
printf 'GROW\004abcd' >"$T/grow.in"
sha=$(sha1sum <"$T/grow.in" | cut -c1-40)
cp "$T/grow.in" "$T/o/artifacts/leak-$sha"
"$LH" fuzz lua/suites/c.lua --workload "$REC" --time 3s --out "$T/o" \
    >"$T/o.out" 2>&1
rc=$?
grep -v '^#\|INFO\|NEW\|REDUCE\|pulse\|^stat\|^   ' "$T/o.out" | tail -n 12
expect_eq "orphan input: exit 1 (leaks found)" "$rc" 1
check "orphan input: its record is written" test -f "$T/o/artifacts/leak-$sha.json"
expect_eq "orphan input: recorded as a leak" \
    "$(jget "$T/o/artifacts/leak-$sha.json" r.kind)" leak
expect_eq "orphan input: verified" \
    "$(jget "$T/o/artifacts/leak-$sha.json" r.verified)" true
check "orphan input: listed among the findings" \
    grep -q "artifact: $T/o/artifacts/leak-$sha\$" "$T/o.out"

# 1b. _exit(0) on a seed ends libFuzzer quietly (main: "no leak found",
# exit 0, after 0 s of the budget).
"$LH" fuzz tests/scripts/exits.lua --workload fuzz-quit --time 20s \
    --out "$T/q" >"$T/q.out" 2>&1
rc=$?
tail -n 2 "$T/q.out"
expect_eq "_exit(0) under libFuzzer: exit 2 (was 0)" "$rc" 2
expect_match "_exit(0) under libFuzzer: the budget is not spent, says why" \
    "$(cat "$T/q.out")" "exited with status 0 after [0-9.]+s of the 20s budget, before its end"
check "_exit(0) under libFuzzer: not 'no leak found'" \
    bash -c "! grep -q '^no leak found' '$T/q.out'"

# 1c. AFL++: its crashes are crash artifacts (main: "no leak found", exit
# 0, the crash left in afl/default/crashes), and so is exit(0) in a step.
if [ -x /usr/bin/afl-fuzz ] && [ -x build/targets/c/afl/leakhound-afl-faults ]
then
    for w in fuzz-crash fuzz-exit; do
        s=tests/scripts/exits.lua
        [ "$w" = fuzz-crash ] && s=tests/scripts/fuzz_faults.lua
        "$LH" fuzz "$s" --workload "$w" --engine afl --time 30s \
            --timeout 2s --out "$T/a-$w" >"$T/a-$w.out" 2>&1
        rc=$?
        tail -n 2 "$T/a-$w.out"
        expect_eq "AFL++, $w: exit 3 (was 0)" "$rc" 3
        check "AFL++, $w: a crash- artifact" \
            bash -c "ls '$T/a-$w/artifacts' | grep -q '^crash-'"
        check "AFL++, $w: listed as a crash" grep -q "^CRASH  " "$T/a-$w.out"
    done
    # a seed that crashes is not skipped quietly (AFL_EXIT_ON_SEED_ISSUES)
    "$LH" fuzz tests/scripts/exits.lua --workload fuzz-exit-seed \
        --engine afl --time 30s --timeout 2s --out "$T/a-seed" \
        >"$T/a-seed.out" 2>&1
    rc=$?
    tail -n 2 "$T/a-seed.out"
    expect_eq "AFL++, a seed that crashes: exit 2 (was 0)" "$rc" 2
    check "AFL++, a seed that crashes: afl-fuzz says which" \
        grep -q "results in a crash" "$T/a-seed.out"
    check "AFL++, a seed that crashes: not 'no leak found'" \
        bash -c "! grep -q '^no leak found' '$T/a-seed.out'"
else
    echo "ok - # SKIP AFL++: no afl-fuzz or no AFL++ driver of libfaults"
fi

# 2. A full disk when the driver saves the artifact (a 64 KiB tmpfs; the
# seeds and corpus fit, the artifact does not).
small=$T/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=64k tmpfs "$small" 2>/dev/null; then
    small=
    echo "ok - # SKIP disk full: not root (cannot mount a tmpfs)"
    finish
    exit $?
fi
avail=$(df -k --output=avail "$small" | tail -n 1)
dd if=/dev/zero of="$small/fill" bs=1k count=$((avail - 48)) 2>/dev/null
"$LH" fuzz lua/suites/c.lua --workload "$REC" --time 20s \
    --out "$small/f" >"$T/df.out" 2>&1
rc=$?
text=$(grep -v '^#\|INFO\|NEW\|REDUCE\|pulse\|^stat' "$T/df.out")
echo "$text" | tail -n 6
if grep -q "cannot copy" <<<"$text"; then
    echo "ok - # SKIP disk full: the seeds did not fit"
    finish
    exit $?
fi
expect_eq "disk full: exit 2" "$rc" 2
expect_match "disk full: says the leak's artifact was NOT saved, and why" \
    "$text" "a leak was found but its artifact was NOT saved: cannot write $small/f/artifacts/leak-[0-9a-f]{40}: No space left on device"
check "disk full: no 'artifact: PATH' for a file not written" \
    bash -c "! grep -q '^artifact: ' '$T/df.out'"
expect_match "disk full: the input is in the log, in hex" "$text" \
    "^its input \([0-9]+ bytes, hex\):"
expect_match "disk full: fuzz quotes the reason" "$text" \
    "^leakhound fuzz: .*NOT saved"

# 3. nightly with its cases on the full disk (one page left: the lock's).
rm -rf "${small:?}"/*
mkdir -p "$small/cases"
avail=$(df -k --output=avail "$small" | tail -n 1)
dd if=/dev/zero of="$small/fill" bs=1k count=$((avail - 4)) 2>/dev/null
"$LH" nightly lua/suites/c.lua --workload "$REC" --corpora "$small/cases" \
    --work "$T/nw" --report-dir "$T/nr" --budget 3s --minimize-time 3s \
    >"$T/n.out" 2>&1
rc=$?
tail -n 5 "$T/n.out"
expect_eq "nightly, cases on a full disk: exit 2 (was 0, '0 new')" "$rc" 2
expect_match "nightly: says the new leak was NOT filed, and where it is" \
    "$(cat "$T/n.out")" "1 new leak NOT filed \(see above\): kept in $T/nw/"
expect_match "nightly: names the file and ENOSPC" "$(cat "$T/n.out")" \
    "cannot file .*: No space left on device"
expect_eq "nightly: report.json says the workload erred, 1 not filed" \
    "$(jget "$T/nr/report.json" 'r.nightly.workloads[1].status .. " " ..
        math.tointeger(r.nightly.workloads[1].not_filed)')" "error 1"
check "nightly: the finding is kept in the work dir" \
    bash -c "ls '$T/nw/$REC/artifacts/' | grep -Eq '^leak-[0-9a-f]{40}$'"

finish
