#!/usr/bin/env bash
# Fds leaked from Go code (tests/scripts/go_fds.lua): the *os.File kept on
# an error path is blamed on the Go function that opened it (its file:line
# in the target), through the Go heap profile, since Go opens fds without
# the libc calls leakhound records; a raw syscall.Open's fds stay
# unrecorded, named so and blamed on no function; the clean twins (closed,
# or dropped and closed by the finalizer) pass.
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "kept: $out" || trap 'rm -rf "$out"' EXIT

"$LH" run tests/scripts/go_fds.lua --expect --report-dir "$out/r" \
    >"$out/run.txt" 2>&1
rc=$?
expect_eq "every workload as expected (--expect)" "$rc" 0
rep=$out/r/report.json
site() {
    jget "$rep" "(function() local w = find(r.workloads, 'name', '$1')
        for _, i in ipairs(w.invariants) do
          if i.metric == 'proc.fds' and i.status == 'fail' and i.sites[1]
          then local s = i.sites[1]
            return s.func .. ' @ ' .. s.location .. ' | ' .. s.detail ..
                   ' | ' .. #i.sites .. ' sites, ' .. s.count .. ' fds'
          end
        end return 'no site' end)()"
}
held=$(site go-file-held-leak)
expect_match "held *os.File: blamed on the function that opened it" \
    "$held" '^main[.]watchLeaky @ gofiles/files[.]go:[0-9]+ [|] /dev/null x 500; held by Go objects allocated in os[.]Open'
expect_match "held *os.File: every leaked fd in that one site" \
    "$held" ' 1 sites, 500([.]0)? fds$'
raw=$(site go-raw-fd-leak)
expect_match "raw syscall.Open: unrecorded, blamed on no function" \
    "$raw" '^[(]opened before recording or by a raw syscall[)] @  [|] /dev/null x 500 [|]'
check "no '(?)' for a site without a location" \
    bash -c "! grep -F '(?)' '$out/run.txt'"
[ "$rc" = 0 ] || cat "$out/run.txt"
finish
