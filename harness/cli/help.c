/*
 * help.c - each command's own page for `leakhound CMD --help`: its usage,
 * options and exit statuses (the README says the same at more length).
 */
#include "help.h"

#include <string.h>

#define EXIT_RUN \
"exit status:\n" \
"  0  every invariant holds\n" \
"  1  some invariant failed\n" \
"  2  usage, script or target-load error (incl. a Lua error in a\n" \
"     workload, a bad field, an output that cannot be written)\n" \
"  3  a workload crashed or timed out\n" \
"  128+N  interrupted by signal N\n" \
"When several apply, the highest wins.\n"

static const char run_page[] =
"usage: leakhound run SCRIPT|DIR... [--workload GLOB]... [--report-dir DIR]\n"
"                     [--seed N] [--timeout D] [--expect] [-v]\n"
"\n"
"Runs the workloads declared in Lua scripts (a directory stands for its\n"
"*.lua files), each in a fresh worker process, samples the probes while\n"
"they run and judges every invariant.  Writes report.json, junit.xml,\n"
"summary.md and index.html.\n"
"\n"
"options:\n"
"  --workload GLOB     only workloads matching GLOB (repeatable); a glob\n"
"                      matching no workload of any script is a usage error\n"
"  --report-dir DIR    where the report and saved inputs go\n"
"                      (default reports/latest)\n"
"  --seed N            seed of the input generators (default 1)\n"
"  --timeout D         per-workload timeout (90s, 2m), overriding the\n"
"                      scripts' (default: each workload's, else 300s)\n"
"  --expect            exit 0 when every workload showed what its `expect`\n"
"                      field says, else 1\n"
"  -v, --verbose       show the workers' own output\n"
"\n" EXIT_RUN;

static const char list_page[] =
"usage: leakhound list SCRIPT|DIR... [--workload GLOB]... [--fuzzable]\n"
"\n"
"Prints each workload and where it is declared.  --fuzzable prints,\n"
"tab-separated, the name, script, target and corpus of each workload with\n"
"a target and inputs = leak.corpus(dir): what `fuzz` starts from.\n"
"\n"
"exit status: 0 listed; 2 a script does not load, or a usage error.\n";

static const char test_page[] =
"usage: leakhound test [SCRIPT|DIR...] [--report-dir DIR] [--baseline FILE\n"
"                      [--update-baseline]] [--corpora DIR]\n"
"                      [--workload GLOB]... [--seed N] [--timeout D]\n"
"                      [--replay-timeout D] [-v]\n"
"\n"
"The merge gate: runs every workload (default lua/suites), replays every\n"
"regression case under CORPORA/*/regressions/ of those workloads, compares\n"
"with a stored baseline, writes report.json, junit.xml, summary.md and\n"
"index.html.\n"
"\n"
"options:\n"
"  --report-dir DIR    default reports/latest\n"
"  --baseline FILE     compare growth and peaks with a stored baseline\n"
"  --update-baseline   store this run's as FILE instead\n"
"  --corpora DIR       where regression cases are (default corpora)\n"
"  --workload GLOB     only matching workloads (repeatable); a glob matching\n"
"                      no workload of any script is a usage error\n"
"  --seed N, --timeout D, -v   as for run\n"
"  --replay-timeout D  per regression replay (default 300s)\n"
"\n"
"exit status: 0 the gate passes; 1 a workload, case or baseline fails;\n"
"2 an error (bad script, case or baseline file, unwritable report);\n"
"3 a crash or timeout; 128+N interrupted by signal N.\n";

static const char nightly_page[] =
"usage: leakhound nightly [SCRIPT|DIR...] [--budget D] [--corpora DIR]\n"
"                         [--work DIR] [--report-dir DIR]\n"
"                         [--workload GLOB]...\n"
"                         [--engine libfuzzer|afl] [--minimize-time D]\n"
"                         [--seed N]\n"
"\n"
"Fuzzes every fuzzable workload (inputs = leak.corpus(dir); default\n"
"lua/suites) with `fuzz --keep-going`, confirms, minimizes and files new\n"
"leaks as regression cases under CORPORA/<target>/regressions/, replays\n"
"the cases and writes the report.\n"
"\n"
"options:\n"
"  --budget D          fuzzing time per workload (default\n"
"                      $LEAKHOUND_NIGHTLY_BUDGET, else 10m)\n"
"  --corpora DIR       where cases are filed (default corpora)\n"
"  --work DIR          work corpora and artifacts (default\n"
"                      reports/nightly/work)\n"
"  --report-dir DIR    default reports/nightly\n"
"  --workload GLOB     only matching workloads (repeatable); a glob matching\n"
"                      no workload of any script is a usage error\n"
"  --engine E          libfuzzer (default) or afl\n"
"  --minimize-time D   per finding (default 60s)\n"
"  --seed N            engine seed (default 1)\n"
"\n"
"exit status: 0 nothing new (known leaks still leaking are the gate's\n"
"business); 1 a new leak filed; 2 an error (incl. no fuzzable workload, a\n"
"workload that could not be fuzzed, a case that could not be replayed);\n"
"128+N interrupted by signal N.\n";

static const char file_page[] =
"usage: leakhound file ARTIFACT... [--corpora DIR]\n"
"\n"
"Files fuzz or repro artifacts (leak-<sha1> with its .json sidecar) as\n"
"regression cases under DIR/<target>/regressions/ (default corpora).\n"
"Filing the same leak twice is a no-op.\n"
"\n"
"exit status: 0 filed (or already filed); 2 an artifact cannot be read\n"
"or filed, or a usage error.\n";

static const char fuzz_page[] =
"usage: leakhound fuzz SCRIPT --workload NAME [options] [-- ENGINE ARGS]\n"
"\n"
"Mutates the workload's input with libFuzzer or AFL++ and keeps the\n"
"inputs that make memory, goroutines, fds or threads grow; each leak is\n"
"verified in a fresh worker and listed with its repro command.\n"
"\n"
"options:\n"
"  --engine E          libfuzzer (default) or afl\n"
"  --time D            fuzzing budget (default 60s)\n"
"  --jobs N            parallel engine processes (libFuzzer -fork, AFL -M/-S)\n"
"  --corpus DIR        seed inputs (default: the workload's\n"
"                      leak.corpus(dir), else its inputs list); a missing\n"
"                      or empty seed set is an error; never modified\n"
"                      unless --merge\n"
"  --out DIR           work corpus and artifacts (default\n"
"                      reports/fuzz/<workload>/)\n"
"  --merge             copy new corpus inputs back into the seed directory\n"
"  --keep-going        after a finding, restart the engine to look for\n"
"                      leaks with other signatures until the time is up\n"
"  --known FILE        leak signatures (one a line) not to report again\n"
"  --known-budget SIZE memory known leaks may hold in the fuzzing process\n"
"                      before the engine is restarted (default 512M)\n"
"  --timeout D         per-input timeout (default 20s)\n"
"  --reps N            confirmation repetitions (default 16)\n"
"  --seed N            engine and generator seed (default 1)\n"
"  --no-feedback       do not feed memory growth back as coverage\n"
"\n"
"exit status: 0 no leak found in the whole budget; 1 a leak; 2 usage or\n"
"setup error, incl. an engine that stopped early without a finding, no\n"
"coverage build or one not built from the library's code (rebuilt\n"
"since), no seeds, or known leaks that fill the memory budget at every\n"
"restart; 3 the target crashed or hung; 128+N interrupted.\n";

static const char repro_page[] =
"usage: leakhound repro SCRIPT --workload NAME FILE [--reps N] [--seed N]\n"
"                       [--timeout D] [--artifact-dir DIR] [--json FILE]\n"
"\n"
"Replays one input in a fresh worker: setup, warmup, then N repetitions\n"
"(default 16, up to 64 when inconclusive), then distinct variants; prints\n"
"the metric after each repetition, the growth and the verdict.\n"
"\n"
"options:\n"
"  --reps N            repetitions (4..256, default 16)\n"
"  --seed N            generator seed\n"
"  --timeout D         for the whole replay\n"
"  --artifact-dir DIR  also write the case as leak-<sha1> + .json there\n"
"  --json FILE         the verdict and its evidence as JSON\n"
"\n"
"exit status: 0 no leak; 1 a leak; 2 usage, script or load error, or a\n"
"verdict (--json) or artifact that cannot be written; 3 the replay\n"
"crashed, timed out or ended without a verdict (the target called exit,\n"
"or closed the harness's fds); 128+N interrupted.\n";

static const char minimize_page[] =
"usage: leakhound minimize SCRIPT --workload NAME FILE [--engine E]\n"
"                          [--time D] [--timeout D]\n"
"\n"
"Shrinks a leaking input with the engine's minimizer (libFuzzer\n"
"-minimize_crash, afl-tmin), the leak oracle as the crash condition;\n"
"writes minimized-<name> beside FILE, checks it with repro and files it\n"
"as a leak-<sha1> artifact.\n"
"\n"
"options:\n"
"  --engine E          libfuzzer (default) or afl\n"
"  --time D            minimizing budget (default 60s)\n"
"  --timeout D         per input (default 20s)\n"
"\n"
"exit status: 0 minimized and still leaking; 1 the minimized input does\n"
"not reproduce; 2 usage error, or no minimized input; 128+N interrupted.\n";

static const char report_page[] =
"usage: leakhound report REPORT_JSON [--out DIR]\n"
"\n"
"Renders junit.xml, summary.md and index.html again from a report.json\n"
"(into DIR, default the report's directory).\n"
"\n"
"exit status: 0 rendered; 2 the report cannot be read or a view cannot be\n"
"written, or a usage error.\n";

static const char init_page[] =
"usage: leakhound init DIR/libNAME.so [-o SCRIPT] [--header FILE] [--force]\n"
"\n"
"Reads the library's exported functions and writes a commented starter\n"
"script: one workload per libFuzzer-shaped op (int NAME(const uint8_t *,\n"
"size_t)) with the default invariants, and a corpus directory with one\n"
"seed.  Then `leakhound run SCRIPT` gives a first verdict.\n"
"\n"
"The ops' shapes: for a Go c-shared library, the libNAME.h go wrote next\n"
"to it; for C, --header FILE or DIR/libNAME.h when it exists.  Without a\n"
"header every exported function is listed, assumed to take (data, size);\n"
"with one, only the functions it confirms are enabled.\n"
"\n"
"options:\n"
"  -o SCRIPT           the script to write (default NAME.lua); its corpus\n"
"                      is SCRIPT's directory/corpus/NAME/\n"
"  --header FILE       the C header declaring the library's functions\n"
"  --force             overwrite an existing script\n"
"\n"
"exit status: 0 written; 2 the library cannot be read, has no exported\n"
"function, or the script exists (without --force), or a usage error.\n";

static const char build_page[] =
"usage: leakhound build c SRC|OBJ... [--cflags FLAGS] [--libs FLAGS]\n"
"                         [--name NAME] [--no-afl] [-o DIR]\n"
"       leakhound build go PACKAGE_DIR [--libs FLAGS] [--name NAME] [-o DIR]\n"
"\n"
"C: DIR/libNAME.so, DIR/fuzz/libNAME.so (libFuzzer coverage) and\n"
"DIR/afl/leakhound-afl-NAME (AFL++ driver) from .c sources; .o files and\n"
".a archives (linked whole) go in as they are, without coverage.\n"
"Go: DIR/libNAME.so (c-shared, with leakhound's Go probe linked in) and\n"
"DIR/fuzz/leakhound-fuzz-NAME (libFuzzer driver with Go coverage), offline,\n"
"without editing the package (module or GOPATH mode).\n"
"DIR/leakhound-NAME.sha1 records the sha1 of the library and of the\n"
"drivers built with it: `fuzz` refuses a driver whose library was rebuilt\n"
"without it.  After an edit, rebuild with this command, not the library\n"
"alone.\n"
"\n"
"options:\n"
"  --cflags FLAGS   compiler flags, one string (repeatable)\n"
"  --libs FLAGS     link flags, one string (repeatable); a -L DIR there is\n"
"                   also an rpath\n"
"  --name NAME      the library's NAME (default: the first source's or the\n"
"                   package directory's name, up to its first dot)\n"
"  --no-afl         no AFL++ driver (C)\n"
"  -o DIR           where to write (default leakhound-build)\n"
"\n"
"exit status: 0 built; 2 a usage error, a missing tool or piece of\n"
"leakhound, or a failed compile or link (the command and its output are\n"
"shown); 128+N interrupted by signal N.\n";

static const struct {
    const char *cmd;
    const char *page;
} pages[] = {
    { "run", run_page }, { "list", list_page }, { "test", test_page },
    { "nightly", nightly_page }, { "file", file_page },
    { "fuzz", fuzz_page }, { "repro", repro_page },
    { "minimize", minimize_page }, { "report", report_page },
    { "init", init_page }, { "build", build_page },
};

const char *lh_help_page(const char *cmd)
{
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (strcmp(pages[i].cmd, cmd) == 0)
            return pages[i].page;
    return NULL;
}
