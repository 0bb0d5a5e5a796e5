/*
 * main.c - the leakhound command line.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buildcmd.h"
#include "detector.h"
#include "fuzzcmd.h"
#include "help.h"
#include "initcmd.h"
#include "alloc.h"
#include "nightly.h"
#include "report.h"
#include "repro.h"
#include "supervisor.h"
#include "scripts.h"
#include "testcmd.h"
#include "text.h"
#include "worker.h"

static const char usage[] =
"usage: leakhound run SCRIPT|DIR... [options]\n"
"       leakhound list SCRIPT|DIR... [--fuzzable]\n"
"       leakhound test [SCRIPT|DIR...] [--baseline FILE [--update-baseline]]\n"
"                      [--corpora DIR] [--report-dir DIR] [--workload GLOB]\n"
"       leakhound nightly [SCRIPT|DIR...] [--budget D] [--corpora DIR]\n"
"                         [--work DIR] [--report-dir DIR] [--workload GLOB]\n"
"       leakhound file ARTIFACT... [--corpora DIR]\n"
"       leakhound fuzz SCRIPT --workload NAME [fuzz options] [-- ENGINE ARGS]\n"
"       leakhound repro SCRIPT --workload NAME FILE [--reps N]\n"
"       leakhound minimize SCRIPT --workload NAME FILE [--engine E]\n"
"       leakhound report REPORT_JSON [--out DIR]\n"
"       leakhound build c SRC|OBJ... [--cflags F] [--libs F] [-o DIR]\n"
"       leakhound build go PACKAGE_DIR [--libs F] [-o DIR]\n"
"       leakhound init DIR/libNAME.so [-o SCRIPT] [--header FILE] [--force]\n"
"       leakhound CMD --help   (that command's own page)\n"
"       leakhound --help | --version\n"
"\n"
"run: runs the workloads declared in Lua scripts, each in a fresh worker\n"
"process, samples the probes while they run and judges every invariant.\n"
"fuzz: mutates the workload's input with libFuzzer or AFL++ and keeps the\n"
"inputs that make memory, goroutines, fds or threads grow.  repro: replays\n"
"one input in a fresh worker.  minimize: shrinks a leaking input.\n"
"test: the merge gate -- every workload, every regression case under\n"
"corpora/*/regressions/ replayed, a stored baseline compared; writes\n"
"report.json, junit.xml, summary.md and index.html.  nightly: fuzzes every\n"
"fuzzable workload and files new leaks as regression cases.  file: files\n"
"a fuzz or repro artifact as a regression case.  A directory stands for\n"
"its *.lua scripts (test and nightly default to lua/suites).\n"
"build: makes your own C or Go library into DIR/libNAME.so and the fuzz\n"
"drivers `fuzz` looks for (leakhound build --help).\n"
"\n"
"options for run:\n"
"  --workload NAME     run only workloads matching NAME (a glob; repeatable)\n"
"  --report-dir DIR    where report.json and saved inputs go\n"
"                      (default: reports/latest)\n"
"  --seed N            seed for input generators (default: 1)\n"
"  --timeout DURATION  per-workload timeout, overriding the scripts'\n"
"                      (e.g. 90s, 2m; default: each workload's, else 300s)\n"
"  --expect            exit status says whether every workload showed what\n"
"                      its `expect` field says (0 yes, 1 no)\n"
"  -v, --verbose       show the workers' own output\n"
"\n"
"options for fuzz:\n"
"  --engine E          libfuzzer (default) or afl\n"
"  --time DURATION     fuzzing budget (default 60s)\n"
"  --jobs N            parallel engine processes (libFuzzer -fork, AFL -M/-S)\n"
"  --corpus DIR        seed inputs (default: the workload's\n"
"                      leak.corpus(dir), else its inputs list); never\n"
"                      modified unless --merge\n"
"  --out DIR           work corpus and artifacts (default\n"
"                      reports/fuzz/<workload>/)\n"
"  --merge             copy new corpus inputs back into the seed directory\n"
"  --keep-going        after a finding, restart the engine to look for\n"
"                      leaks with other signatures until the time is up\n"
"  --timeout D         per-input timeout (default 20s)\n"
"  --reps N            confirmation repetitions (default 16)\n"
"  --seed N            engine and generator seed (default 1)\n"
"  --no-feedback       do not feed memory growth back as coverage\n"
"  --known FILE        leak signatures (one a line) not to report again\n"
"  --known-budget SIZE memory known leaks may hold before a restart (512M)\n"
"options for repro: --reps N (default 16), --seed N, --timeout D,\n"
"  --artifact-dir DIR (also write the case as leak-<sha1> + .json there),\n"
"  --json FILE (the verdict and its evidence as JSON)\n"
"options for minimize: --engine E, --time D (default 60s), --timeout D\n"
"\n"
"exit status (run; fuzz and repro alike):\n"
"  0  every invariant holds (fuzz, repro: no leak found)\n"
"  1  some invariant failed (fuzz, repro: a leak)\n"
"  2  usage, script or target-load error (incl. Lua errors in a workload;\n"
"     fuzz: an engine that stopped early without a finding)\n"
"  3  a workload crashed or timed out\n"
"When several apply, the highest wins.  Interrupted (SIGINT, SIGTERM):\n"
"128 + the signal, what was interrupted recorded as such.\n";

static int bad_usage(const char *fmt, const char *arg)
{
    fputs("leakhound: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see leakhound --help)\n", stderr);
    return LH_EXIT_ERROR;
}

/* cmd_run with o's arrays allocated; files receives the script paths
 * that o.scripts points into. */
static int run_opts(lh_run_opts *op, lh_buf *files, int argc, char **argv,
                    int list_only)
{
    lh_run_opts o = *op;
    int rc = LH_EXIT_ERROR;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--workload") == 0 ||
                    strcmp(a, "--report-dir") == 0 ||
                    strcmp(a, "--seed") == 0 || strcmp(a, "--timeout") == 0;
        if (takes && !v)
            return bad_usage("option %s needs a value", a);
        if (strcmp(a, "--workload") == 0) {
            o.only[o.nonly++] = argv[++i];
        } else if (strcmp(a, "--report-dir") == 0) {
            o.report_dir = argv[++i];
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            o.seed = strtoull(v, &end, 10);
            if (errno || *end || !*v)
                return bad_usage("--seed wants a number, got '%s'", v);
            i++;
        } else if (strcmp(a, "--timeout") == 0) {
            if (lh_parse_duration(v, &o.timeout) < 0 || o.timeout <= 0)
                return bad_usage("--timeout wants a duration like 90s or "
                                 "2m, got '%s'", v);
            i++;
        } else if (strcmp(a, "--expect") == 0) {
            o.check_expect = 1;
        } else if (strcmp(a, "--fuzzable") == 0 && list_only) {
            /* Tab-separated name, script, target, corpus of each workload
             * with a target and a corpus: what a fuzzer can be made of. */
            o.list_fuzzable = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o.verbose = 1;
        } else if (a[0] == '-' && a[1]) {
            return bad_usage("unknown option '%s'", a);
        } else {
            o.scripts[o.nscripts++] = argv[i];
        }
    }
    if (o.nscripts == 0)
        return bad_usage("%s: no script given", argv[1]);
    /* a directory stands for its *.lua scripts */
    lh_buf err = LH_BUF_INIT;
    if (lh_expand_scripts(o.scripts, o.nscripts, files, &err) < 0) {
        rc = bad_usage("%s", lh_buf_str(&err));
        lh_buf_free(&err);
        return rc;
    }
    lh_buf_free(&err);
    o.nscripts = 0;
    for (char *p = files->data; *p; p += strlen(p) + 1)
        o.scripts[o.nscripts++] = p;
    o.list_only = list_only;
    lh_buf text = LH_BUF_INIT;
    if (!list_only)
        o.report = &text;
    rc = lh_supervise(&o);
    if (list_only || !text.len)
        return rc;  /* a usage error writes no report */
    /* the views, then report.json with the status the run exits with */
    char why[256];
    lh_json *doc = lh_json_parse(text.data, text.len, why, sizeof why);
    lh_buf_free(&text);
    if (!doc) {
        fprintf(stderr, "leakhound: bug: the run's report does not parse: "
                "%s\n", why);
        return rc > LH_EXIT_ERROR ? rc : LH_EXIT_ERROR;
    }
    if (lh_report_write(doc, o.report_dir, &rc, "leakhound") == 0)
        printf("report: %s/report.json\n", o.report_dir);
    lh_json_free(doc);
    return rc;
}

static int cmd_run(int argc, char **argv, int list_only)
{
    lh_run_opts o;
    memset(&o, 0, sizeof o);
    o.report_dir = "reports/latest";
    o.seed = 1;
    o.argc = argc;
    o.argv = argv;
    o.scripts = lh_xcalloc((size_t)argc, sizeof *o.scripts);
    o.only = lh_xcalloc((size_t)argc, sizeof *o.only);
    lh_buf files = LH_BUF_INIT;
    int rc = run_opts(&o, &files, argc, argv, list_only);
    lh_raw_free(o.scripts);
    lh_raw_free(o.only);
    lh_buf_free(&files);
    return rc;
}

int main(int argc, char **argv)
{
    lh_detector_set_allocator(lh_raw_malloc, lh_raw_free);
    /* Past RLIMIT_FSIZE a write fails with EFBIG, which every writer
     * reports with its path, instead of SIGXFSZ killing us unexplained
     * (its children, workers and engines, inherit this). */
    signal(SIGXFSZ, SIG_IGN);
    if (argc >= 2 && strcmp(argv[1], LH_WORKER_CMD) == 0)
        return lh_worker_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], LH_REPRO_CMD) == 0)
        return lh_repro_main(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "help") == 0 && lh_help_page(argv[2])) {
        fputs(lh_help_page(argv[2]), stdout);   /* leakhound help CMD */
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? LH_EXIT_ERROR : 0;
    }
    if (strcmp(argv[1], "build") == 0)
        return lh_build_cmd(argc, argv);
    /* `leakhound CMD --help`: the command's own page (the global one for a
     * command without a page) */
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            const char *page = lh_help_page(argv[1]);
            fputs(page ? page : usage, stdout);
            return 0;
        }
    if (strcmp(argv[1], "--version") == 0) {
        puts("leakhound " LH_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc, argv, 0);
    if (strcmp(argv[1], "list") == 0)
        return cmd_run(argc, argv, 1);
    if (strcmp(argv[1], "fuzz") == 0)
        return lh_fuzz_cmd(argc, argv);
    if (strcmp(argv[1], "repro") == 0)
        return lh_repro_cmd(argc, argv);
    if (strcmp(argv[1], "minimize") == 0)
        return lh_minimize_cmd(argc, argv);
    if (strcmp(argv[1], "test") == 0)
        return lh_test_cmd(argc, argv);
    if (strcmp(argv[1], "nightly") == 0)
        return lh_nightly_cmd(argc, argv);
    if (strcmp(argv[1], "file") == 0)
        return lh_file_cmd(argc, argv);
    if (strcmp(argv[1], "report") == 0)
        return lh_report_cmd(argc, argv);
    if (strcmp(argv[1], "init") == 0)
        return lh_init_cmd(argc, argv);
    return bad_usage("unknown command '%s'", argv[1]);
}
