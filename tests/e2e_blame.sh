#!/usr/bin/env bash
# Blame your code (issue 12): leaks whose every allocation happens inside
# the stripped system libsqlite3 (targets/c/users.c) are blamed on the
# wrapper's functions, with the way through libsqlite3 as detail; their
# clean twin passes; the two leaks behind one op are two signatures and,
# filed, two regression cases; not_mine moves the blame.
#
#     tests/e2e_blame.sh          run, repro, file, not_mine
#     tests/e2e_blame.sh fuzz     libFuzzer with --keep-going from harmless
#                                 seeds: two findings, filed as two cases
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ "${1:-}" = fuzz ]; then
    mkdir -p "$out/seeds"
    printf 'S\001bob' >"$out/seeds/a"
    printf 'S\002carol' >"$out/seeds/b"
    "$LH" fuzz lua/suites/c.lua --workload c-users-requests-leaky \
        --corpus "$out/seeds" --keep-going --time 40s --seed 1 \
        --out "$out/f" >"$out/fuzz.txt" 2>&1
    rc=$?
    grep -E '^(LEAK|      artifact)' "$out/fuzz.txt"
    expect_eq "fuzz --keep-going: exit 1 (leaks)" "$rc" 1
    sigs=$(for j in "$out"/f/artifacts/leak-*.json; do
               jget "$j" 'r.signature'; done | sort)
    expect_eq "two findings through libsqlite3, told apart by the \
wrapper's function and the library function" "$sigs" \
"heap.live_bytes @ label_user users.c → sqlite3_mprintf
heap.live_bytes @ update_user users.c → sqlite3_prepare_v2"
    "$LH" file "$out"/f/artifacts/leak-???????????????????????????????????????? \
        --corpora "$out/corpora" >"$out/file.txt" 2>&1
    expect_eq "file: both filed" "$?" 0
    expect_eq "two regression cases" \
        "$(ls "$out/corpora/users/regressions" 2>/dev/null | wc -l)" 2
    # not_mine naming the library by its file, fuzzed by the driver it is
    # linked into: the rule names the driver's own code too, so the
    # finding is blamed as run and repro blame it (no frame of the user's
    # left: libsqlite3's), never on a harness or engine function
    mkdir -p "$out/seeds-nm"
    printf 'U\001abcdefgh' >"$out/seeds-nm/a"
    "$LH" fuzz tests/scripts/blame_not_mine.lua \
        --workload not-mine-library --corpus "$out/seeds-nm" --time 30s \
        --seed 1 --out "$out/fnm" >"$out/fuzz-nm.txt" 2>&1
    expect_eq "fuzz not-mine-library: exit 1 (a leak)" "$?" 1
    expect_match "... by the driver with libusers linked in" \
        "$(grep '^ *driver ' "$out/fuzz-nm.txt")" '\(libusers\.so linked in\)$'
    j=$(ls "$out"/fnm/artifacts/leak-*.json 2>/dev/null | head -n 1)
    expect_match "... blamed as run blames it: libsqlite3's frame" \
        "$(jget "${j:-/dev/null}" 'r.signature' 2>/dev/null)" \
        '^heap[.]live_bytes @ libsqlite3[.]so[.]0$'
    finish
    exit
fi

"$LH" run lua/suites/c.lua --workload 'c-users-*' --expect \
    --report-dir "$out/r" >"$out/run.txt" 2>&1
rc=$?
expect_eq "run c-users-*: every expectation met (4 leaks fail, the twin \
passes)" "$rc" 0
[ "$rc" -eq 0 ] || cat "$out/run.txt"
rep=$out/r/report.json

# workload | metric | top site "func|via|location" must match.  The three
# blocks of open_session are about the same size, so any may be on top;
# sqlite3_malloc tail-calls sqlite3Malloc, which is then the frame below
# open_session.
cases='c-users-stmt-leak|heap.live_bytes|^update_user[|]sqlite3_prepare_v2[|].*users[.]c:[0-9]+$
c-users-stmt-leak|heap.live_allocs|^update_user[|]sqlite3_prepare_v2[|]
c-users-label-leak|heap.live_bytes|^label_user[|]sqlite3_mprintf[|].*users[.]c:[0-9]+$
c-users-label-leak|heap.live_allocs|^label_user[|]sqlite3_mprintf[|]
c-users-requests-leaky|heap.live_bytes|^update_user[|]sqlite3_prepare_v2[|]
c-users-session-leak|heap.live_bytes|^open_session[|]sqlite3(_|Malloc[|])'
while IFS='|' read -r w metric want; do
    top=$(jget "$rep" "(function() local w = find(r.workloads, 'name', '$w')
        for _, i in ipairs(w.invariants) do
          if i.metric == '$metric' and i.sites[1] then
            local s = i.sites[1]
            return s.func .. '|' .. tostring(s.via) .. '|' .. s.location
          end
        end return 'no site' end)()")
    expect_match "$w $metric: the wrapper's function is blamed, via the \
libsqlite3 function it called" "$top" "$want"
done <<<"$cases"

# both leaks of the one op are sites of their own
both=$(jget "$rep" "(function() local w = find(r.workloads, 'name',
        'c-users-requests-leaky')
    local i = find(w.invariants, 'metric', 'heap.live_bytes')
    local got = {}
    for _, s in ipairs(i.sites) do got[#got + 1] = s.func .. '>' .. tostring(s.via) end
    table.sort(got) return table.concat(got, ' ') end)()")
expect_match "c-users-requests-leaky: update_user and label_user are two \
sites" "$both" 'label_user>sqlite3_mprintf.*update_user>sqlite3_prepare_v2'

# no site of these workloads is a bare offset in libsqlite3
n=$(jget "$rep" "(function() local n = 0
    for _, w in ipairs(r.workloads) do for _, i in ipairs(w.invariants) do
      for _, s in ipairs(i.sites) do
        if s.func:find('libsqlite3', 1, true) then n = n + 1 end
      end end end
    return n end)()")
expect_eq "no site is named by an offset in libsqlite3" "$n" 0
expect_match "the detail is the way through libsqlite3" \
    "$(jget "$rep" "find(find(r.workloads, 'name', 'c-users-stmt-leak').invariants, 'metric', 'heap.live_bytes').sites[1].detail")" \
    '^→ sqlite3_prepare_v2 → .* [(]libsqlite3[.]so[.]0[)]$'
expect_match "the FAIL line names the wrapper's function and line" \
    "$(cat "$out/run.txt")" \
    'update_user [(]targets/c/users[.]c:[0-9]+[)]  → sqlite3_prepare_v2 → '
expect_eq "the clean twin passes, with no sites" \
    "$(jget "$rep" "(function() local w = find(r.workloads, 'name',
        'c-users-requests-clean') local n = 0
      for _, i in ipairs(w.invariants) do n = n + #i.sites end
      return w.status .. ' ' .. n end)()")" "pass 0"

# Two leaks through one stripped library: two signatures, two cases.
printf 'U\007alice' >"$out/update"
printf 'L\007alice' >"$out/label"
for k in update label; do
    "$LH" repro lua/suites/c.lua --workload c-users-requests-leaky \
        "$out/$k" --artifact-dir "$out/art-$k" >"$out/repro-$k.txt" 2>&1
    expect_eq "repro of the $k request: a leak" "$?" 1
done
sig() { jget "$(ls "$out"/art-$1/leak-*.json | head -n 1)" 'r.signature'; }
sig_u=$(sig update)
sig_l=$(sig label)
expect_eq "the update leak's signature: its function and the library \
function, no line, no offset" "$sig_u" \
    'heap.live_bytes @ update_user users.c → sqlite3_prepare_v2'
expect_eq "the label leak's signature" "$sig_l" \
    'heap.live_bytes @ label_user users.c → sqlite3_mprintf'
"$LH" file "$out"/art-update/leak-????????????????????????????????????????\
 "$out"/art-label/leak-???????????????????????????????????????? \
    --corpora "$out/corpora" >"$out/file.txt" 2>&1
expect_eq "file: both filed" "$?" 0
cases_n=$(ls "$out/corpora/users/regressions" 2>/dev/null | wc -l)
expect_eq "two leaks through libsqlite3 are two regression cases" \
    "$cases_n" 2
"$LH" file "$out"/art-label/leak-???????????????????????????????????????? \
    --corpora "$out/corpora" >/dev/null 2>&1
expect_eq "filing one again adds no case" \
    "$(ls "$out/corpora/users/regressions" | wc -l)" 2

# One function leaking through three sqlite3 functions, none holding half
# the growth: the function holds it all, and signs the leak.
printf 'S\007x' >"$out/session"
"$LH" repro lua/suites/c.lua --workload c-users-session-leak \
    "$out/session" --artifact-dir "$out/art-session" >"$out/repro-s.txt" 2>&1
expect_eq "repro of the session leak: a leak" "$?" 1
expect_match "a leak spread over three library calls of one function is \
signed by the function" "$(sig session)" \
    '^heap[.]live_bytes @ open_session users[.]c → sqlite3[A-Za-z0-9_]+$'

# not_mine: by function prefix the blame passes to the caller; naming the
# whole wrapper leaves no frame of the user's.
"$LH" run tests/scripts/blame_not_mine.lua --expect --report-dir "$out/nm" \
    >"$out/nm.txt" 2>&1
expect_eq "not_mine: both workloads fail as expected" "$?" 0
top() {
    jget "$out/nm/report.json" "(function()
        local s = find(r.workloads, 'name', '$1').invariants[1].sites[1]
        return s.func .. '|' .. tostring(s.via) end)()"
}
expect_eq "not_mine { \"update_\" }: the op that called update_user" \
    "$(top not-mine-function)" 'users_update_leaky|update_user'
expect_match "not_mine { \"libusers\" }: no own frame, the library's" \
    "$(top not-mine-library)" '^libsqlite3[.]so[.]0[+]0x[0-9a-f]+[|]nil$'
"$LH" repro tests/scripts/blame_not_mine.lua --workload not-mine-function \
    "$out/update" --artifact-dir "$out/art-nm" >"$out/repro-nm.txt" 2>&1
expect_eq "not_mine in repro (the fuzzer's session): the signature is the \
op's" "$(sig nm)" 'heap.live_bytes @ users_update_leaky users.c → update_user'
"$LH" run tests/scripts/bad_not_mine.lua --report-dir "$out/bad" \
    >"$out/bad.txt" 2>&1
expect_eq "not_mine = \"...\" (not a list): an error, exit 2" "$?" 2
expect_match "the error names the script, line and field" \
    "$(cat "$out/bad.txt")" \
    'bad_not_mine[.]lua:3: .*not_mine must be a list of at most 32 prefixes'
finish
