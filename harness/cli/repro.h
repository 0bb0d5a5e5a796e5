/*
 * repro.h - replaying one input in a fresh worker, no fuzzer involved.
 *
 *     leakhound repro SCRIPT --workload NAME FILE [--reps N]
 *
 * The supervisor side (lh_repro_cmd) starts `leakhound __repro ...` as a
 * child with a timeout; the child (lh_repro_main) opens the workload, runs
 * setup and warmup, replays the input N times on every watched metric and
 * judges.  Exit status: 1 it leaks, 0 it does not, 2 error, 3 crash or
 * timeout.
 */
#ifndef LEAKHOUND_REPRO_H
#define LEAKHOUND_REPRO_H

#define LH_REPRO_CMD "__repro"

int lh_repro_cmd(int argc, char **argv);
int lh_repro_main(int argc, char **argv);

#endif
