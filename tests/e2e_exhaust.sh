#!/usr/bin/env bash
# A leak that runs out of what it leaks (issue 11, part 3): a run that
# times out or crashes after samples enough is judged on them, with the
# timeout or crash, and says which came first; a run nearing RLIMIT_NOFILE
# stops its measured phase early and fails naming the limit.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
S=tests/scripts/exhaust.lua

# The client's pool runs out at call 601: the next call blocks.
text=$("$LH" run $S --workload exhaust-pool-timeout --report-dir "$out/t" \
    2>&1)
rc=$?
echo "$text"
rep=$out/t/report.json
W="r.workloads[1]"
expect_eq "exit status 3: the worker timed out" "$rc" 3
expect_eq "status timeout" "$(jget "$rep" "$W.status")" timeout
expect_eq "the timeout is recorded, in measure" \
    "$(jget "$rep" "$W.timeout.phase")" measure
expect_eq "summary counts it as a timeout" \
    "$(jget "$rep" "r.summary.timeout")" 1
for m in proc.fds proc.threads heap.live_bytes; do
    I="find($W.invariants, 'metric', '$m')"
    expect_eq "timeout: $m fails on the samples taken" \
        "$(jget "$rep" "$I.status")" fail
    check "timeout: $m has its series" \
        test "$(jget "$rep" "#$I.series")" -ge 8
done
expect_eq "timeout: the failure came first" \
    "$(jget "$rep" "$W.partial.first")" fail
check "timeout: judged on at least 8 of the 20 samples" \
    test "$(jget "$rep" "$W.partial.samples")" -ge 8
expect_eq "timeout: of 20 planned" "$(jget "$rep" "$W.partial.of")" 20
expect_match "TIMEOUT line printed" "$text" "^TIMEOUT exhaust-pool-timeout"
expect_match "FAIL line for proc.fds printed" "$text" \
    "^FAIL  exhaust-pool-timeout  proc.fds  stable  \+2 fds/iter"
expect_match "which came first is said" "$text" \
    "judged on the [0-9]+ of 20 samples taken before the timeout .*failed first, from sample [0-9]+ .*then the timeout"
"$LH" run $S --workload exhaust-pool-timeout --report-dir "$out/te" \
    --expect >/dev/null 2>&1
expect_eq "--expect: a timeout judged failing shows its failure" "$?" 0
"$LH" report "$rep" --out "$out/t" >/dev/null 2>&1
expect_eq "the report renders" "$?" 0
check "summary.md names the failing metric" grep -q "proc.fds" \
    "$out/t/summary.md"
check "summary.md says it timed out" grep -qi "timed out" "$out/t/summary.md"

# A crash at call 500, after the same leak.
text=$("$LH" run $S --workload exhaust-then-crash --report-dir "$out/c" \
    2>&1)
rc=$?
echo "$text"
rep=$out/c/report.json
expect_eq "exit status 3: the worker crashed" "$rc" 3
expect_eq "status crashed" "$(jget "$rep" "$W.status")" crashed
expect_eq "the crash records signal 11" "$(jget "$rep" "$W.crash.signal")" 11
expect_eq "crash: proc.fds fails on the samples taken" \
    "$(jget "$rep" "find($W.invariants, 'metric', 'proc.fds').status")" fail
expect_eq "crash: the failure came first" \
    "$(jget "$rep" "$W.partial.first")" fail
expect_match "CRASH and FAIL lines printed" "$text" \
    "^FAIL  exhaust-then-crash  proc.threads"

# Near RLIMIT_NOFILE: stopped early and judged, with sites; the clean twin
# under the same limit passes.
text=$(ulimit -n 512 && "$LH" run $S --workload exhaust-fds-stop \
    --workload exhaust-clean --report-dir "$out/f" 2>&1)
rc=$?
echo "$text"
rep=$out/f/report.json
W="find(r.workloads, 'name', 'exhaust-fds-stop')"
F="find($W.invariants, 'metric', 'proc.fds')"
expect_eq "exit status 1: a failure, no timeout" "$rc" 1
expect_eq "exhaust-fds-stop is fail" "$(jget "$rep" "$W.status")" fail
expect_eq "stopped on proc.fds" "$(jget "$rep" "$W.stopped.resource")" \
    proc.fds
expect_eq "stopped by RLIMIT_NOFILE" \
    "$(jget "$rep" "$W.stopped.limit_name")" RLIMIT_NOFILE
check "stopped before the 40th sample" \
    test "$(jget "$rep" "$W.stopped.sample")" -lt 40
expect_eq "proc.fds fails" "$(jget "$rep" "$F.status")" fail
expect_match "the reason names the limit" "$(jget "$rep" "$F.reason")" \
    "stopped at sample [0-9]+ of 40: proc.fds at ([5-9][0-9])% of RLIMIT_NOFILE"
expect_eq "proc.fds site is the pipe in get" \
    "$(jget "$rep" "$F.sites[1].func")" get
expect_match "with file:line" "$(jget "$rep" "$F.sites[1].location")" \
    "conns\.c:[0-9]+"
expect_eq "proc.threads fails too" \
    "$(jget "$rep" "find($W.invariants, 'metric', 'proc.threads').status")" \
    fail
expect_match "the FAIL line says where it stopped" "$text" \
    "^FAIL  exhaust-fds-stop  proc.fds .*stopped at sample [0-9]+ of 40: proc.fds at [5-9][0-9]% of RLIMIT_NOFILE"
"$LH" report "$rep" --out "$out/f" >/dev/null 2>&1
check "summary.md says where it stopped" grep -q \
    "stopped at sample [0-9]* of 40: proc.fds at [5-9][0-9]% of RLIMIT" \
    "$out/f/summary.md"
check "index.html says where it stopped" grep -q "stopped at sample <b>" \
    "$out/f/index.html"
expect_eq "the clean twin passes under the same limit" \
    "$(jget "$rep" "find(r.workloads, 'name', 'exhaust-clean').status")" pass
expect_eq "and is not stopped" \
    "$(jget "$rep" "find(r.workloads, 'name', 'exhaust-clean').stopped")" nil

# A leak that would fill the fd table in the 5th of 20 phases, before
# samples enough: the phases shrink to fit, then it stops and is judged.
text=$(ulimit -n 512 && "$LH" run $S --workload exhaust-pool-timeout \
    --report-dir "$out/s" 2>&1)
rc=$?
echo "$text"
rep=$out/s/report.json
W="r.workloads[1]"
expect_eq "shrunk: exit status 1, not a timeout" "$rc" 1
expect_match "shrunk: says the phases were shortened" "$text" \
    "phases shortened from sample [0-9]+: proc.fds \([0-9]+ of RLIMIT_NOFILE 512\)"
expect_eq "shrunk: stopped by RLIMIT_NOFILE" \
    "$(jget "$rep" "$W.stopped.limit_name")" RLIMIT_NOFILE
expect_eq "shrunk: proc.fds fails" \
    "$(jget "$rep" "find($W.invariants, 'metric', 'proc.fds').status")" fail
expect_eq "shrunk: with its site" "$(jget "$rep" \
    "find($W.invariants, 'metric', 'proc.fds').sites[1].func")" get

# Near RLIMIT_AS: stopped early, the memory invariant judged and noted.
text=$(ulimit -v 400000 && "$LH" run $S --workload exhaust-memory-stop \
    --report-dir "$out/m" 2>&1)
rc=$?
echo "$text"
rep=$out/m/report.json
W="r.workloads[1]"
expect_eq "memory: exit status 1, not an error" "$rc" 1
expect_eq "memory: stopped by RLIMIT_AS" \
    "$(jget "$rep" "$W.stopped.limit_name")" RLIMIT_AS
expect_eq "memory: proc.rss_bytes fails" \
    "$(jget "$rep" "$W.invariants[1].status")" fail
expect_match "memory: the FAIL line says where it stopped" "$text" \
    "^FAIL  exhaust-memory-stop  proc.rss_bytes .*stopped at sample [0-9]+ of 40: memory at [5-9][0-9]% of RLIMIT_AS"

# Near RLIMIT_NPROC: as an unprivileged user (root is not held to it).
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null &&
    id nobody >/dev/null 2>&1; then
    mkdir -p "$out/n" && chmod 777 "$out" "$out/n"
    text=$(runuser -u nobody -- bash -c "ulimit -u 300 && '$LH' run $S \
        --workload exhaust-threads-stop --report-dir '$out/n/r'" 2>&1)
    rc=$?
    echo "$text"
    rep=$out/n/r/report.json
    W="r.workloads[1]"
    expect_eq "threads: exit status 1" "$rc" 1
    expect_eq "threads: stopped by RLIMIT_NPROC" \
        "$(jget "$rep" "$W.stopped.limit_name")" RLIMIT_NPROC
    expect_eq "threads: proc.threads fails" \
        "$(jget "$rep" "$W.invariants[1].status")" fail
    expect_match "threads: the FAIL line names the limit" "$text" \
        "^FAIL  exhaust-threads-stop  proc.threads .*stopped at sample [0-9]+ of 40: proc.threads at [5-9][0-9]% of RLIMIT_NPROC"
    expect_eq "threads: with its site" \
        "$(jget "$rep" "$W.invariants[1].sites[1].func")" get
else
    echo "# skip: RLIMIT_NPROC needs root to run as nobody"
fi

# Used up within the first phase: no sample, nothing judged, never a pass;
# the report says so and why.
text=$("$LH" run $S --workload exhaust-first-phase-timeout \
    --report-dir "$out/ft" 2>&1)
rc=$?
echo "$text"
rep=$out/ft/report.json
expect_eq "first phase: exit status 3 (timeout)" "$rc" 3
expect_eq "first phase: status timeout" \
    "$(jget "$rep" "r.workloads[1].status")" timeout
expect_eq "first phase: no verdicts" \
    "$(jget "$rep" "#r.workloads[1].invariants")" 0
expect_eq "first phase: the timeout record says 0 samples of 6 needed" \
    "$(jget "$rep" "string.format('%d/%d', r.workloads[1].timeout.samples,
        r.workloads[1].timeout.samples_needed)")" 0/6
expect_match "first phase: the output says why there is no verdict" \
    "$text" "no verdict: the timeout came after 0 of 20 samples, before the 6 needed to judge"
text=$(ulimit -v 400000 && "$LH" run $S \
    --workload exhaust-first-phase-memory --report-dir "$out/fm" 2>&1)
rc=$?
echo "$text"
rep=$out/fm/report.json
expect_eq "first phase, memory: exit status 2 (error)" "$rc" 2
expect_eq "first phase, memory: status error" \
    "$(jget "$rep" "r.workloads[1].status")" error
expect_match "first phase, memory: the cause and why nothing is judged" \
    "$(jget "$rep" "r.workloads[1].error.message")" \
    "not enough memory; no verdict: a step failed in the measured phase after 0 of 20 samples, before the 6 needed to judge"

# The same client in Go (issue 11's example), when the Go targets are built.
G=tests/scripts/exhaust_go.lua
if [ -f build/targets/go/libhttpbodies.so ]; then
    text=$(ulimit -n 512 && "$LH" run $G --workload exhaust-go-fds-stop \
        --workload exhaust-go-clean --report-dir "$out/g" 2>&1)
    rc=$?
    echo "$text"
    rep=$out/g/report.json
    W="find(r.workloads, 'name', 'exhaust-go-fds-stop')"
    expect_eq "go: exit status 1" "$rc" 1
    expect_eq "go: stopped by RLIMIT_NOFILE" \
        "$(jget "$rep" "$W.stopped.limit_name")" RLIMIT_NOFILE
    for m in proc.fds go.goroutines go.heap_live_bytes; do
        expect_eq "go: $m fails" "$(jget "$rep" \
            "find($W.invariants, 'metric', '$m').status")" fail
    done
    expect_match "go: the goroutines' site is the client's read loop" \
        "$(jget "$rep" "find($W.invariants, 'metric', 'go.goroutines')
            .sites[2].func") $(jget "$rep" "find($W.invariants, 'metric',
            'go.goroutines').sites[1].func")" "persistConn"
    expect_eq "go: the clean twin passes" "$(jget "$rep" \
        "find(r.workloads, 'name', 'exhaust-go-clean').status")" pass

    text=$("$LH" run $G --workload exhaust-go-timeout \
        --report-dir "$out/gt" --expect 2>&1)
    rc=$?
    echo "$text"
    rep=$out/gt/report.json
    expect_eq "go: --expect: the timeout judged failing shows its failure" \
        "$rc" 0
    expect_eq "go: status timeout" "$(jget "$rep" "r.workloads[1].status")" \
        timeout
    expect_eq "go: go.goroutines fails on the samples taken" "$(jget "$rep" \
        "find(r.workloads[1].invariants, 'metric', 'go.goroutines').status")" \
        fail
    expect_eq "go: the failure came first" \
        "$(jget "$rep" "r.workloads[1].partial.first")" fail
else
    echo "# skip: the Go targets are not built"
fi

finish
