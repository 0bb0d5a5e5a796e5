/*
 * nightly.h - `leakhound nightly` and `leakhound file`: turning fuzzing
 * findings into regression cases.
 *
 *     leakhound nightly [SCRIPT|DIR ...] [--budget D] [--corpora DIR]
 *                       [--work DIR] [--report-dir DIR] [--workload GLOB]
 *     leakhound file ARTIFACT... [--corpora DIR]
 *
 * nightly fuzzes every fuzzable workload (inputs = leak.corpus(dir)) for
 * the budget, confirms and minimizes each leak found, files the ones whose
 * signature has no case yet under corpora/<target>/regressions/, replays
 * the known cases to see which are fixed, and writes a report listing new,
 * known and fixed leaks.  Its work directory survives an interruption: a
 * re-run files what the last one found before fuzzing again, and a case
 * is never filed twice (its id comes from the leak's signature).
 */
#ifndef LEAKHOUND_NIGHTLY_H
#define LEAKHOUND_NIGHTLY_H

int lh_nightly_cmd(int argc, char **argv);
int lh_file_cmd(int argc, char **argv);

#endif
