/*
 * testcmd.h - `leakhound test`: the regression suite that gates merges.
 *
 *     leakhound test [SCRIPT|DIR ...] [--report-dir DIR] [--baseline FILE]
 *                    [--update-baseline] [--corpora DIR] [--workload GLOB]
 *
 * Runs every workload of the scripts (a directory means its *.lua files;
 * default lua/suites/), replays every regression case kept under
 * corpora/<target>/regressions/ that belongs to one of them, compares with
 * a stored baseline, and writes report.json, junit.xml, summary.md and
 * index.html.  A workload passes the gate when its invariants hold, or when
 * it shows what its `expect` field says; a case passes when it no longer
 * leaks (or still leaks, for a workload that expects to fail).
 */
#ifndef LEAKHOUND_TESTCMD_H
#define LEAKHOUND_TESTCMD_H

int lh_test_cmd(int argc, char **argv);

#endif
