#!/usr/bin/env bash
# Every bundled leaky workload fails on the metric it names and every clean
# one passes, in three independent runs (different seeds, fresh workers).
#
#     tests/e2e_suites.sh SUITE.lua [RUNS]
source "$(dirname "$0")/lib.sh"
suite=$1
runs=${2:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for run in $(seq 1 "$runs"); do
    "$LH" run "$suite" --seed "$run" --report-dir "$out/$run" \
        >"$out/$run.txt" 2>&1
    rc=$?
    rep=$out/$run/report.json
    if [ ! -f "$rep" ]; then
        cat "$out/$run.txt"
        fail "run $run of $suite wrote no report (exit $rc)"
        continue
    fi
    n=$(jget "$rep" '#r.workloads')
    for i in $(seq 1 "$n"); do
        name=$(jget "$rep" "r.workloads[$i].name")
        met=$(jget "$rep" "r.workloads[$i].expect ~= null and r.workloads[$i].expect.met")
        if [ "$met" = true ]; then
            ok "run $run: $name shows $(jget "$rep" "r.workloads[$i].expect.status") $(jget "$rep" "table.concat(r.workloads[$i].expect.metrics, ',')")"
        else
            fail "run $run: $name: expected $(jget "$rep" "r.workloads[$i].expect") got $(jget "$rep" "r.workloads[$i].status")"
            grep -F " $name " "$out/$run.txt"
        fi
    done
    # the exit status follows the verdicts
    fails=$(jget "$rep" 'r.summary.fail')
    errs=$(jget "$rep" 'r.summary.error + r.summary.crashed + r.summary.timeout')
    if [ "$errs" = 0 ]; then
        want=0; [ "$fails" != 0 ] && want=1
        expect_eq "run $run: exit status $want" "$rc" "$want"
    fi
done
finish
