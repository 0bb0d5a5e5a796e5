#!/usr/bin/env bash
# Diagnosis: for every bundled leaky workload the top reported site is the
# one that leaks (by function name): for Go, the target's own code -- the Go
# caller of a C.CString, the caller of a dependency module that holds the
# memory; passing invariants carry no sites; the folded stacks and Go heap
# profiles are written for viewers.
#
#     tests/e2e_diag.sh c|go
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# workload | metric | regex the top site's "func detail" must match
c_cases='c-record-error-path-leak|heap.live_bytes|record_parse_leaky
c-record-error-path-leak|heap.live_allocs|record_parse_leaky
c-cache-unbounded|heap.live_bytes|^unb_intern .*called from cache_put_unbounded
c-fd-leak|proc.fds|/dev/null x [0-9]+.*fd_sink_leaky
c-thread-leak|proc.threads|thread_spawn_leaky
c-leak16|heap.live_bytes|^leak16 
c-leak16-slow|heap.live_bytes|^leak16_slow 
c-render-mmap-leak|mmap.live_bytes|^render .*render_draw_leaky
c-users-stmt-leak|heap.live_bytes|^update_user → sqlite3_prepare_v2 → 
c-users-label-leak|heap.live_bytes|^label_user → sqlite3_mprintf → '
go_cases='go-goroutine-leak|go.goroutines|^main.lookupLeaky.func1 .*chan send.*created by main.lookupLeaky
go-goroutine-leak-always|go.goroutines|^main.OpGoroutineLeakAlways.func1
go-goroutine-leak-every100|go.goroutines|^main.OpGoroutineLeakEvery100.func1
go-ticker-leak|go.heap_live_bytes|^main.OpTickerLeak .*time.NewTicker
go-timer-leak|go.heap_live_bytes|^main.OpTimerLeak .*time.AfterFunc
go-after-leak|go.heap_live_bytes|^main.wait allocated in time.After → time.NewTimer sleep.go:[0-9]+ [(][0-9]+%[)]; time.NewTimer sleep.go:[0-9]+ [(][0-9]+%[)]
go-cache-unbounded|go.heap_live_bytes|^main.render
go-cache-pinned-leak|go.heap_live_bytes|^main.render
go-session-leak|go.heap_live_bytes|^main.\(\*sessions\).open
go-syncmap-leak|go.heap_live_bytes|^main.begin
go-finalizer-cycle-leak|go.heap_live_bytes|^main.pipe
go-cstring-leak|heap.live_bytes|^main.auditLeaky via C.CString [(]C: _cgo_[0-9a-f]+_Cfunc__Cmalloc[)]
go-cstring-leak|heap.live_allocs|^main.auditLeaky via C.CString
go-cfile-leak|proc.fds|^main.spoolLeaky /dev/null x [0-9]+; via C.fopen
go-http-labels-leak|go.heap_live_bytes|^main.observe allocated in example.com/metrics.[(][*]HistogramVec[)].With → example.com/metrics.newHistogram
go-http-tagged-leak|go.heap_live_bytes|^main.record allocated in example.com/metrics.[(][*]HistogramVec[)].With → example.com/metrics.newHistogram metrics.go:[0-9]+ [(][0-9]+%[)]; 
go-context-leak|go.heap_live_bytes|^main.newRequest
go-subslice-leak|go.heap_live_bytes|^main.readFrame'

case $1 in
c) suite=lua/suites/c.lua; cases=$c_cases ;;
go) suite=lua/suites/go.lua; cases=$go_cases ;;
*) echo "usage: $0 c|go"; exit 2 ;;
esac

"$LH" run "$suite" --report-dir "$out/r" >"$out/run.txt" 2>&1
rep=$out/r/report.json
while IFS='|' read -r w metric want; do
    [ -n "$w" ] || continue
    top=$(jget "$rep" "(function() local w = find(r.workloads, 'name', '$w')
        for _, i in ipairs(w.invariants) do
          if i.metric == '$metric' and i.status == 'fail' and i.sites[1] then
            return i.sites[1].func .. ' ' .. i.sites[1].detail
          end
        end return 'no site' end)()")
    expect_match "$w $metric: top site" "$top" "$want"
done <<<"$cases"

# clean verdicts carry no sites
n=$(jget "$rep" "(function() local n = 0
    for _, w in ipairs(r.workloads) do for _, i in ipairs(w.invariants) do
      if i.status == 'pass' then n = n + #i.sites end end end
    return n end)()")
expect_eq "no sites on passing invariants (clean workloads)" "$n" 0
clean_sites=$(jget "$rep" "(function() local n = 0
    for _, w in ipairs(r.workloads) do
      if w.expect and w.expect.status == 'clean' then
        for _, i in ipairs(w.invariants) do n = n + #i.sites end end end
    return n end)()")
expect_eq "clean workloads report no sites" "$clean_sites" 0

# files for viewers
first=$(echo "$cases" | head -n 1)
w=${first%%|*}; rest=${first#*|}; metric=${rest%%|*}
folded="$out/r/$w/$metric.folded"
check "folded stacks written ($w/$metric.folded)" test -s "$folded"
expect_match "folded format: frames;frames count" "$(head -n 1 "$folded")" \
    '^[^ ]+(;[^ ]+)* [0-9]+$'
if [ "$1" = go ]; then
    # a function of one's own that holds the growth through several library
    # allocations is one row, the sum of them
    for wf in go-after-leak:main.wait go-http-tagged-leak:main.record; do
        w=${wf%%:*} f=${wf#*:}
        expect_eq "$w: one row for $f, holding most of the growth" \
            "$(jget "$rep" "(function() local w = find(r.workloads, 'name',
                '$w') local n, share = 0, 0
                for _, i in ipairs(w.invariants) do
                  for _, s in ipairs(i.sites or {}) do
                    if s.func == '$f' then
                      n = n + 1 share = s.bytes / i.sites[1].bytes end
                  end end
                return n .. (share >= 1 and ' top' or ' not top') end)()")" \
            "1 top"
    done
    "$LH" run tests/scripts/go_ignore.lua --expect --report-dir "$out/ig" \
        >"$out/ig.txt" 2>&1
    expect_eq "ignore_goroutines: ignored by top function or creator, not \
by an unrelated rule" "$?" 0
    # threads > 1: steps run under pprof labels, and a goroutine site says
    # which thread's step started its goroutines
    "$LH" run tests/scripts/go_labels.lua --expect --report-dir "$out/lb" \
        >"$out/lb.txt" 2>&1
    expect_eq "labels: the labeled workloads fail as expected" "$?" 0
    site() {
        jget "$out/lb/report.json" "(function()
            local w = find(r.workloads, 'name', '$1')
            local s = w.invariants[1].sites[1] or {}
            local n = 0
            for _ in pairs(s.labels or {}) do n = n + 1 end
            return tostring(s.labels and s.labels['leakhound.thread']) ..
                '|' .. tostring(s.labels and
                                s.labels['leakhound.workload']) ..
                '|' .. n .. '|' .. tostring(s.detail) end)()"
    }
    expect_match "labels: only thread 2's step leaks, and the site says so" \
        "$(site labels-thread-2)" \
        '^2[|]labels-thread-2[|]2[|].*created by main.OpGoroutineLeakAlways main.go:37 [(]step of thread 2[)]$'
    expect_match "labels: every thread leaks at one line: one site, threads \
joined" "$(site labels-all-threads)" \
        '^0-2[|]labels-all-threads[|]2[|].*[(]steps of threads 0-2[)]$'
    expect_match "labels: goroutines started outside the steps: no labels, \
not attributable" "$(site labels-outside-steps)" \
        '^nil[|]nil[|]0[|].*[(]not attributable to a step[)]$'
    expect_match "labels: the verdict line names the thread" \
        "$(cat "$out/lb.txt")" 'main.go:37 [(]step of thread 2[)]'
    n=$(jget "$rep" "(function() local n = 0
        for _, w in ipairs(r.workloads) do for _, i in ipairs(w.invariants) do
          for _, s in ipairs(i.sites) do
            if s.labels and w.threads == 1 then n = n + 1 end
          end end end
        return n end)()")
    expect_eq "labels: single-thread workloads are not labeled" "$n" 0
    # goroutines with no frame of the target's own (a leaked connection's,
    # in net/http): under GODEBUG=tracebackancestors the stacks of the
    # goroutines that started them name the target's call
    GODEBUG=tracebackancestors=8 "$LH" run lua/suites/go.lua \
        --workload go-http-body-leak --report-dir "$out/an" >"$out/an.txt" 2>&1
    expect_match "ancestors: a connection's goroutines are blamed on \
main.get, with the library path" "$(jget "$out/an/report.json" "(function()
        for _, i in ipairs(r.workloads[1].invariants) do
          if i.metric == 'go.goroutines' then
            for _, s in ipairs(i.sites) do
              if s.detail:find('readLoop', 1, true) or
                 s.func == 'main.get' then
                return s.func .. ' ' .. s.detail end end end
        end return 'no site' end)()")" \
        '^main.get select; created by net/http.[(][*]Transport[)].dialConn .*started via net/http.[(][*]Client[)].Get → … → net/http.[(][*]Transport[)].dialConn$'
    expect_match "ancestors: the buffers made on those goroutines too" \
        "$(jget "$out/an/report.json" "(function()
        for _, i in ipairs(r.workloads[1].invariants) do
          if i.metric == 'go.heap_live_bytes' then
            for _, s in ipairs(i.sites) do
              if s.func == 'main.get' then
                return s.func .. ' ' .. s.detail end end end
        end return 'no site' end)()")" \
        '^main.get allocated in net/http.[(][*]Transport[)].dialConnFor → … → bufio.New(Reader|Writer)Size bufio.go:[0-9]+ on a goroutine started via net/http.[(][*]Client[)].Get'
    # the Go runtime's own mappings are not the target's mapped memory
    "$LH" run tests/scripts/go_mmap.lua --expect --report-dir "$out/mm" \
        >"$out/mm.txt" 2>&1
    expect_eq "mmap: the Go heap grows, as expected" "$?" 0
    expect_eq "mmap: none of the Go runtime's mappings count (peak 0 B)" \
        "$(jget "$out/mm/report.json" "(function()
            for _, i in ipairs(r.workloads[1].invariants) do
              if i.metric == 'mmap.live_bytes' then return i.peak end
            end return 'no invariant' end)()")" 0
    check "Go heap profiles written for go tool pprof -base" \
        test -s "$out/r/go-ticker-leak/go-heap-base.pb.gz" -a \
             -s "$out/r/go-ticker-leak/go-heap-end.pb.gz"
    if command -v go >/dev/null; then
        top=$(cd "$out/r/go-ticker-leak" && go tool pprof -top -base \
            go-heap-base.pb.gz go-heap-end.pb.gz 2>/dev/null)
        expect_match "go tool pprof -base names the ticker leak" "$top" \
            "main.OpTickerLeak|time.NewTicker"
    fi
fi
finish
