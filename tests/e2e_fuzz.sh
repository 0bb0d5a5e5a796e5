#!/usr/bin/env bash
# Fuzzing end to end.
#
#   e2e_fuzz.sh find SCRIPT WORKLOAD ENGINE SECONDS METRIC_REGEX [SITE_REGEX
#               [MODE]]
#       the engine finds a leak from harmless seeds within SECONDS (its
#       artifact's site matching SITE_REGEX when given, its "mode" -- same
#       or distinct -- being MODE when given), the artifact
#       reproduces with `repro`, and `minimize` keeps it reproducing
#       (libFuzzer)
#   e2e_fuzz.sh clean SCRIPT WORKLOAD SECONDS
#       fuzzing a clean twin for SECONDS reports no leak
#   e2e_fuzz.sh oom SCRIPT WORKLOAD INPUT METRIC_REGEX SITE_REGEX
#       an engine OOM artifact (oom-*) whose input grows a watched metric
#       is confirmed as that leak (leak artifact with its site, exit 1),
#       not reported as a crash
#   e2e_fuzz.sh faults
#       a target that crashes or hangs under fuzzing is reported as a
#       crash / timeout, not as a leak
source "$(dirname "$0")/lib.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mode=$1; shift

case $mode in
find)
    script=$1 workload=$2 engine=$3 seconds=$4 metric=$5 site=${6:-}
    want_mode=${7:-}
    seeds_before=$(find corpora -type f | sort | xargs sha1sum | sha1sum)
    start=$(date +%s)
    "$LH" fuzz "$script" --workload "$workload" --engine "$engine" \
        --time "${seconds}s" --seed 1 --out "$out/f" >"$out/fuzz.txt" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    tail -n 30 "$out/fuzz.txt"
    expect_eq "$engine on $workload: exit status 1 (a leak)" "$rc" 1
    json=$(ls "$out"/f/artifacts/leak-*.json 2>/dev/null | head -n 1)
    check "a leak artifact with its JSON sidecar" test -n "$json"
    input=${json%.json}
    check "the artifact's input exists" test -f "$input"
    expect_match "the leak is on $metric" "$(jget "$json" 'r.metric')" \
        "$metric"
    if [ -n "$site" ]; then
        expect_match "the artifact names the site: $site" \
            "$(jget "$json" 'r.site')" "$site"
        expect_match "the signature names it too" \
            "$(jget "$json" 'r.signature')" "@ .*$site"
    fi
    if [ -n "$want_mode" ]; then
        expect_eq "the sidecar says how it grows: mode $want_mode" \
            "$(jget "$json" 'r.mode')" "$want_mode"
    fi
    # lh_shell_quote leaves plain words unquoted.
    expect_match "the sidecar has the repro command" \
        "$(jget "$json" 'r.repro')" "leakhound repro .* --workload '?$workload'?"
    expect_match "the summary prints the repro command" \
        "$(cat "$out/fuzz.txt")" "repro: +leakhound repro $script --workload '$workload'"
    echo "found in ${took}s"
    seeds_after=$(find corpora -type f | sort | xargs sha1sum | sha1sum)
    expect_eq "the checked-in corpus is not modified" "$seeds_after" \
        "$seeds_before"

    "$LH" repro "$script" --workload "$workload" "$input" >"$out/repro.txt" 2>&1
    rc=$?
    cat "$out/repro.txt"
    expect_eq "repro in a fresh worker: exit 1 (it leaks)" "$rc" 1
    expect_match "repro names the metric" "$(cat "$out/repro.txt")" \
        "LEAK  $metric"

    if [ "$engine" = libfuzzer ]; then
        "$LH" minimize "$script" --workload "$workload" "$input" \
            --time 30s >"$out/min.txt" 2>&1
        rc=$?
        tail -n 12 "$out/min.txt"
        expect_eq "minimize: the minimized input still reproduces" "$rc" 0
        check "minimized input written" \
            test -f "$(dirname "$input")/minimized-$(basename "$input")"
    fi
    ;;
clean)
    script=$1 workload=$2 seconds=$3
    "$LH" fuzz "$script" --workload "$workload" --time "${seconds}s" \
        --seed 1 --out "$out/f" >"$out/fuzz.txt" 2>&1
    rc=$?
    tail -n 8 "$out/fuzz.txt"
    expect_eq "${seconds}s of fuzzing $workload: exit 0 (no leak)" "$rc" 0
    expect_eq "no leak artifact" \
        "$(ls "$out"/f/artifacts/leak-* 2>/dev/null | wc -l)" 0
    expect_match "the engine really ran" "$(cat "$out/fuzz.txt")" \
        "(cov:|exec/s)"
    ;;
oom)
    script=$1 workload=$2 input=$3 metric=$4 site=$5
    mkdir -p "$out/f/artifacts"
    printf '%s' "$input" >"$out/f/artifacts/oom-0000000000000000000000000000000000000000"
    "$LH" fuzz "$script" --workload "$workload" --time 5s --seed 1 \
        --out "$out/f" >"$out/fuzz.txt" 2>&1
    rc=$?
    tail -n 20 "$out/fuzz.txt"
    expect_eq "an OOM on a leaking input: exit status 1 (a leak, not a \
crash)" "$rc" 1
    check "the oom- input is kept as confirmed-oom-*" \
        test -f "$out/f/artifacts/confirmed-oom-0000000000000000000000000000000000000000"
    json=$(ls "$out"/f/artifacts/leak-*.json 2>/dev/null | head -n 1)
    check "a leak artifact with its JSON sidecar" test -n "$json"
    expect_match "the leak is on $metric" "$(jget "$json" 'r.metric')" \
        "$metric"
    expect_match "the artifact names the site: $site" \
        "$(jget "$json" 'r.site')" "$site"
    expect_eq "no CRASH line in the summary" \
        "$(grep -c '^CRASH ' "$out/fuzz.txt")" 0
    ;;
faults)
    for w in fuzz-crash fuzz-hang; do
        "$LH" fuzz tests/scripts/fuzz_faults.lua --workload "$w" \
            --time 60s --timeout 2s --seed 1 --out "$out/$w" \
            >"$out/$w.txt" 2>&1
        rc=$?
        tail -n 6 "$out/$w.txt"
        expect_eq "$w: exit status 3 (crash or hang, not a leak)" "$rc" 3
        expect_eq "$w: no leak artifact" \
            "$(ls "$out"/$w/artifacts/leak-* 2>/dev/null | wc -l)" 0
    done
    check "the crash is saved as a crash- artifact" \
        test -n "$(ls "$out"/fuzz-crash/artifacts/crash-* 2>/dev/null)"
    check "the hang is saved as a timeout- artifact" \
        test -n "$(ls "$out"/fuzz-hang/artifacts/timeout-* 2>/dev/null)"
    # fork() returning in both processes: the copy _exit()s at once and
    # never runs a fuzz loop of its own (issue 10)
    LEAKHOUND_FAULTS_CALLERS=$out/callers "$LH" fuzz \
        tests/scripts/fuzz_faults.lua --workload fuzz-fork --time 5s \
        --timeout 2s --seed 1 --out "$out/fuzz-fork" >"$out/fork.txt" 2>&1
    rc=$?
    tail -n 4 "$out/fork.txt"
    expect_eq "fuzz-fork: exit 0 (no leak)" "$rc" 0
    expect_eq "fuzz-fork: only the engine's process called the target" \
        "$(wc -l <"$out/callers" 2>/dev/null)" 1
    ;;
esac
finish
