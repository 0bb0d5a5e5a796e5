#!/usr/bin/env bash
# e2e_nightly.sh - ci/nightly with a tiny budget on the bundled targets:
# the gated leaks are found from harmless seeds and filed as regression
# cases once and only once, across an interrupted run and two full runs.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d)
trap 'kill -- -$bg 2>/dev/null; rm -rf "$T"' EXIT
budget=${NIGHTLY_BUDGET:-20s}
export LEAKHOUND=${LEAKHOUND:-build/leakhound}
common=(--corpora "$T/corpora" --work "$T/work" --minimize-time 10s)
gated=(--workload c-record-leaky-on-seeds --workload c-fd-leaky-on-seeds
       --workload go-goroutine-leaky-on-seeds
       --workload go-cache-pinned-on-seeds)

cases() { find "$T/corpora" -name case.json 2>/dev/null | sort; }
# Exit 2 is a job or a replay that could not be judged: say which, with
# the end of the fuzz log of a job that could not fuzz.
why() {
    grep -iE 'error|unresolved|crash|timeout|could not|cannot|new' "$1" |
        head -30
    for log in $(grep -o 'see [^ ]*fuzz[.]log' "$1" | cut -c5-); do
        echo "--- $log"
        grep -iE 'leakhound|error|cannot|exit' "$log" | tail -10
    done
}
exists() { ls "$@" >/dev/null 2>&1; }

# 1. Interrupted while fuzzing, after a finding, before filing it.
set -m
LEAKHOUND_NIGHTLY_BUDGET=120s ci/nightly lua/suites/c.lua \
    --workload c-record-leaky-on-seeds "${common[@]}" \
    --report-dir "$T/r0" > "$T/run0.out" 2>&1 &
bg=$!
set +m
for _ in $(seq 1 240); do
    ls "$T"/work/c-record-leaky-on-seeds/artifacts/leak-*.json \
        >/dev/null 2>&1 && break
    sleep 0.5
done
kill -TERM -- -$bg 2>/dev/null
wait $bg
rc=$?
check "interrupted run: stopped with a status that is not success" \
    test "$rc" -ne 0
check "interrupted run: the finding is kept in the work directory" \
    exists "$T"/work/c-record-leaky-on-seeds/artifacts/leak-*.json
expect_eq "interrupted run: nothing filed yet" "$(cases | wc -l)" 0

# 2. A full run: the interrupted finding is filed first, the rest found.
LEAKHOUND_NIGHTLY_BUDGET=$budget ci/nightly "${gated[@]}" "${common[@]}" \
    --report-dir "$T/r1" > "$T/run1.out" 2>&1
rc=$?
expect_eq "first run: exit 1 (new leaks filed)" "$rc" 1
[ "$rc" -eq 1 ] || why "$T/run1.out"
for w in c-record-leaky-on-seeds c-fd-leaky-on-seeds \
         go-goroutine-leaky-on-seeds go-cache-pinned-on-seeds; do
    expect_eq "first run: $w filed once" \
        "$(cases | grep -c "/regressions/$w-[0-9a-f]\{12\}/")" 1
done
expect_eq "first run: the report lists 4 new leaks" \
    "$(jget "$T/r1/report.json" '#r.nightly.new .. " " .. r.kind')" \
    "4 nightly"
rec=$(cases | grep c-record-leaky-on-seeds)
expect_eq "a case knows how it was found" \
    "$(jget "$rec" 'r.found.by .. " " .. r.found.engine .. " " .. r.metric')" \
    "nightly libfuzzer heap.live_bytes"
check "a case's input starts with the gated tag (GROW)" \
    grep -q '^GROW' "$(dirname "$rec")/input"
for f in report.json junit.xml summary.md index.html; do
    check "first run: $f written" test -s "$T/r1/$f"
done

# 3. Again: the same leaks are found and known, nothing is filed twice.
LEAKHOUND_NIGHTLY_BUDGET=$budget ci/nightly "${gated[@]}" "${common[@]}" \
    --report-dir "$T/r2" > "$T/run2.out" 2>&1
rc=$?
expect_eq "second run: exit 0 (nothing new)" "$rc" 0
[ "$rc" -eq 0 ] || why "$T/run2.out"
expect_eq "second run: still 4 cases" "$(cases | wc -l)" 4
expect_eq "second run: 0 new, 4 known, 0 fixed" \
    "$(jget "$T/r2/report.json" '#r.nightly.new .. " " .. #r.nightly.known .. " " .. #r.nightly.fixed')" \
    "0 4 0"
expect_match "the run says so" "$(tail -1 "$T/run2.out")" \
    '^nightly: 0 new, 4 known, 0 fixed'

# 4. A fresh work directory (another machine): the filed leak is handed to
# the fuzzer as known, so it is neither reported nor filed again.
LEAKHOUND_NIGHTLY_BUDGET=$budget ci/nightly lua/suites/c.lua \
    --workload c-record-leaky-on-seeds --corpora "$T/corpora" \
    --work "$T/work2" --minimize-time 10s --report-dir "$T/r3" \
    > "$T/run3.out" 2>&1
expect_eq "fresh work dir: exit 0, still 4 cases" "$?:$(cases | wc -l)" "0:4"
check "the fuzzer was told the filed signature" \
    grep -q 'record_parse_leaky' "$T/work2/c-record-leaky-on-seeds/known-signatures"
check "... and reported no leak again" \
    bash -c "! ls '$T'/work2/c-record-leaky-on-seeds/artifacts/leak-* >/dev/null 2>&1"

finish
