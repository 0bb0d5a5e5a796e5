/*
 * test_goprofile.c - unit tests for harness/probe/goprofile.c.
 *
 * Fixtures are real profiles: one from the bundled leaky Go target, one
 * from a small program that blocks goroutines in the usual ways.  Linked
 * with interpose.c (as the worker is) so the tests can check that parsing
 * and diffing never touch the counted heap.
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 */
#include "goprofile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "interpose.h"

#include "check.h"

/* ---- fixtures ----------------------------------------------------------- */

/* From build/leakhound run lua/suites/go.lua --workload go-goroutine-leak
 * (report.json's goroutine_profile). */
static const char leak_profile[] =
    "goroutine profile: total 1051\n"
    "1050 @ 0x7f439a6417b6 0x7f439a60f00c 0x7f439a60ebbd 0x7f439a6c0e0a 0x7"
    "f439a66d301\n"
    "#\t0x7f439a6c0e09\tmain.lookupLeaky.func1+0x29\t/work/main/targets/go/"
    "goroutines/lookup.go:30\n"
    "\n"
    "1 @ 0x7f439a637156 0x7f439a668645 0x7f439a6b6af5 0x7f439a6b690d 0x7f43"
    "9a6b386b 0x7f439a6c0965 0x7f439a6c0ba8 0x7f439a60dce2 0x7f439a60d969 0"
    "x7f439a66d0b3 0x7f439a66d301\n"
    "#\t0x7f439a668644\truntime/pprof.runtime_goroutineProfileWithLabels+0x"
    "24\t\t/usr/lib/go-1.19/src/runtime/mprof.go:846\n"
    "#\t0x7f439a6b6af4\truntime/pprof.writeRuntimeProfile+0xb4\t\t\t\t/usr/"
    "lib/go-1.19/src/runtime/pprof/pprof.go:723\n"
    "#\t0x7f439a6b690c\truntime/pprof.writeGoroutine+0x4c\t\t\t\t/usr/lib/g"
    "o-1.19/src/runtime/pprof/pprof.go:683\n"
    "#\t0x7f439a6b386a\truntime/pprof.(*Profile).WriteTo+0x14a\t\t\t\t/usr/"
    "lib/go-1.19/src/runtime/pprof/pprof.go:330\n"
    "#\t0x7f439a6c0964\tleakhound.dev/probe.leakhound_go_goroutine_profile+"
    "0x64\t\t/work/main/targets/go/probe/probe.go:55\n"
    "#\t0x7f439a6c0ba7\t_cgoexp_cd5b14d581ad_leakhound_go_goroutine_profile"
    "+0x27\t_cgo_gotypes.go:81\n"
    "#\t0x7f439a60dce1\truntime.cgocallbackg1+0x2c1\t\t\t\t\t/usr/lib/go-1."
    "19/src/runtime/cgocall.go:316\n"
    "#\t0x7f439a60d968\truntime.cgocallbackg+0x108\t\t\t\t\t/usr/lib/go-1.1"
    "9/src/runtime/cgocall.go:235\n"
    "#\t0x7f439a66d0b2\truntime.cgocallback+0xb2\t\t\t\t\t/usr/lib/go-1.19/"
    "src/runtime/asm_amd64.s:994\n"
    "\n"
    "\n";

/* A Go 1.19 program with goroutines blocked on a channel, a WaitGroup, a
 * mutex and select{}, one with pprof labels: debug=1, then debug=2. */
static const char rich_debug1[] =
    "goroutine profile: total 7\n"
    "3 @ 0x437556 0x40619b 0x405cd8 0x4b4e1b 0x4611c1\n"
    "#\t0x4b4e1a\tmain.blockChan+0x1a\t/tmp/gprof/main.go:13\n"
    "\n"
    "1 @ 0x42d196 0x45c7e5 0x4ab315 0x4ab12d 0x4a808b 0x4b523d 0x437192 0x4"
    "611c1\n"
    "#\t0x45c7e4\truntime/pprof.runtime_goroutineProfileWithLabels+0x24\t/u"
    "sr/lib/go-1.19/src/runtime/mprof.go:846\n"
    "#\t0x4ab314\truntime/pprof.writeRuntimeProfile+0xb4\t\t\t/usr/lib/go-1"
    ".19/src/runtime/pprof/pprof.go:723\n"
    "#\t0x4ab12c\truntime/pprof.writeGoroutine+0x4c\t\t\t/usr/lib/go-1.19/s"
    "rc/runtime/pprof/pprof.go:683\n"
    "#\t0x4a808a\truntime/pprof.(*Profile).WriteTo+0x14a\t\t\t/usr/lib/go-1"
    ".19/src/runtime/pprof/pprof.go:330\n"
    "#\t0x4b523c\tmain.main+0x2fc\t\t\t\t\t\t/tmp/gprof/main.go:31\n"
    "#\t0x437191\truntime.main+0x211\t\t\t\t\t/usr/lib/go-1.19/src/runtime/"
    "proc.go:250\n"
    "\n"
    "1 @ 0x437556 0x44600c 0x4b4e97 0x4611c1\n"
    "# labels: {\"req\":\"42\"}\n"
    "#\t0x4b4e96\tmain.main.func1.1+0x16\t/tmp/gprof/main.go:26\n"
    "\n"
    "1 @ 0x437556 0x44629e 0x446275 0x45d965 0x467f92 0x4b4e59 0x4611c1\n"
    "#\t0x45d964\tsync.runtime_Semacquire+0x24\t/usr/lib/go-1.19/src/runtim"
    "e/sema.go:62\n"
    "#\t0x467f91\tsync.(*WaitGroup).Wait+0x51\t/usr/lib/go-1.19/src/sync/wa"
    "itgroup.go:139\n"
    "#\t0x4b4e58\tmain.waiter+0x18\t\t/tmp/gprof/main.go:15\n"
    "\n"
    "1 @ 0x437556 0x44629e 0x446275 0x45da85 0x466985 0x4b4f19 0x4b4ef5 0x4"
    "611c1\n"
    "#\t0x45da84\tsync.runtime_SemacquireMutex+0x24\t/usr/lib/go-1.19/src/r"
    "untime/sema.go:77\n"
    "#\t0x466984\tsync.(*Mutex).lockSlow+0x164\t\t/usr/lib/go-1.19/src/sync"
    "/mutex.go:171\n"
    "#\t0x4b4f18\tsync.(*Mutex).Lock+0x38\t\t\t/usr/lib/go-1.19/src/sync/mu"
    "tex.go:90\n"
    "#\t0x4b4ef4\tmain.main.func2+0x14\t\t\t/tmp/gprof/main.go:29\n"
    "\n";

static const char rich_debug2[] =
    "goroutine 1 [running]:\n"
    "runtime/pprof.writeGoroutineStacks({0x4fc5d8, 0xc000012018})\n"
    "\t/usr/lib/go-1.19/src/runtime/pprof/pprof.go:692 +0x70\n"
    "runtime/pprof.writeGoroutine({0x4fc5d8?, 0xc000012018?}, 0x0?)\n"
    "\t/usr/lib/go-1.19/src/runtime/pprof/pprof.go:681 +0x2b\n"
    "runtime/pprof.(*Profile).WriteTo(0x4d7601?, {0x4fc5d8?, 0xc000012018?}"
    ", 0x97b8aca108?)\n"
    "\t/usr/lib/go-1.19/src/runtime/pprof/pprof.go:330 +0x14b\n"
    "main.main()\n"
    "\t/tmp/gprof/main.go:33 +0x33e\n"
    "\n"
    "goroutine 6 [chan receive]:\n"
    "main.blockChan(0x0?)\n"
    "\t/tmp/gprof/main.go:13 +0x1b\n"
    "created by main.main\n"
    "\t/tmp/gprof/main.go:20 +0x45\n"
    "\n"
    "goroutine 7 [chan receive]:\n"
    "main.blockChan(0x0?)\n"
    "\t/tmp/gprof/main.go:13 +0x1b\n"
    "created by main.main\n"
    "\t/tmp/gprof/main.go:20 +0x45\n"
    "\n"
    "goroutine 8 [chan receive]:\n"
    "main.blockChan(0x0?)\n"
    "\t/tmp/gprof/main.go:13 +0x1b\n"
    "created by main.main\n"
    "\t/tmp/gprof/main.go:20 +0x45\n"
    "\n"
    "goroutine 9 [semacquire]:\n"
    "sync.runtime_Semacquire(0x0?)\n"
    "\t/usr/lib/go-1.19/src/runtime/sema.go:62 +0x25\n"
    "sync.(*WaitGroup).Wait(0x0?)\n"
    "\t/usr/lib/go-1.19/src/sync/waitgroup.go:139 +0x52\n"
    "main.waiter(0x0?)\n"
    "\t/tmp/gprof/main.go:15 +0x19\n"
    "created by main.main\n"
    "\t/tmp/gprof/main.go:24 +0xfc\n"
    "\n"
    "goroutine 10 [select (no cases)]:\n"
    "main.main.func1.1()\n"
    "\t/tmp/gprof/main.go:26 +0x17\n"
    "created by main.main.func1\n"
    "\t/tmp/gprof/main.go:26 +0x25\n"
    "\n"
    "goroutine 11 [semacquire]:\n"
    "sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)\n"
    "\t/usr/lib/go-1.19/src/runtime/sema.go:77 +0x25\n"
    "sync.(*Mutex).lockSlow(0x5ba830)\n"
    "\t/usr/lib/go-1.19/src/sync/mutex.go:171 +0x165\n"
    "sync.(*Mutex).Lock(...)\n"
    "\t/usr/lib/go-1.19/src/sync/mutex.go:90\n"
    "main.main.func2()\n"
    "\t/tmp/gprof/main.go:29 +0x39\n"
    "created by main.main\n"
    "\t/tmp/gprof/main.go:29 +0x2c7\n";

/* ---- helpers ------------------------------------------------------------ */

static int parse(lh_goprofile *p, const char *text)
{
    return lh_goprofile_parse(p, text, strlen(text));
}

static const char *site(const lh_gogroup *g)
{
    static char buf[384];
    lh_gogroup_site(g, buf, sizeof buf);
    return buf;
}

/* The group whose top (non-runtime) frame is func, or NULL. */
static const lh_gogroup *find(const lh_goprofile *p, const char *func)
{
    for (size_t i = 0; i < p->ngroups; i++) {
        const lh_goframe *top = lh_gogroup_top(&p->groups[i]);
        if (top && strcmp(top->func, func) == 0)
            return &p->groups[i];
    }
    return NULL;
}

/* Replaces the first "1050 @" of the leak fixture by another count. */
static void leak_with_count(char *buf, size_t len, int count)
{
    const char *rest = strstr(leak_profile, " @ ");
    snprintf(buf, len, "goroutine profile: total %d\n%d%s", count + 1, count,
             rest);
}

/* ---- tests -------------------------------------------------------------- */

static void test_leak_fixture(void)
{
    lh_goprofile p;
    int rc = parse(&p, leak_profile);
    check(rc == 0, "leak fixture parses");
    if (rc)
        return;
    check(p.total == 1051, "header total is 1051 (got %lld)",
          (long long)p.total);
    check(p.ngroups == 2, "two groups (got %zu)", p.ngroups);
    const lh_gogroup *g = &p.groups[0];
    check(g->count == 1050 && g->nframes == 1,
          "first group: 1050 goroutines, one frame (got %lld, %zu)",
          (long long)g->count, g->nframes);
    check(strcmp(g->frames[0].func, "main.lookupLeaky.func1") == 0 &&
          strcmp(g->frames[0].file,
                 "/work/main/targets/go/goroutines/lookup.go") == 0 &&
          g->frames[0].line == 30,
          "frame: func without +0x offset, full path, line (%s %s:%d)",
          g->frames[0].func, g->frames[0].file, g->frames[0].line);
    check(strcmp(site(g), "main.lookupLeaky.func1 lookup.go:30") == 0,
          "site of the leak group: '%s'", site(g));
    check(*g->created_by.func == '\0' && *g->labels == '\0',
          "debug=1: no creator, no labels");
    const lh_gogroup *h = &p.groups[1];
    check(h->count == 1 && h->nframes == 9,
          "second group: 1 goroutine, 9 frames padded with tab runs (%zu)",
          h->nframes);
    check(strcmp(h->frames[0].func,
                 "runtime/pprof.runtime_goroutineProfileWithLabels") == 0 &&
          h->frames[0].line == 846,
          "tab-padded frame parsed: %s:%d", h->frames[0].func,
          h->frames[0].line);
    check(strcmp(site(h), "leakhound.dev/probe.leakhound_go_goroutine_profile"
                          " probe.go:55") == 0,
          "site skips runtime/pprof frames: '%s'", site(h));
    check(strcmp(h->frames[5].file, "_cgo_gotypes.go") == 0 &&
          h->frames[5].line == 81, "file without a directory: %s:%d",
          h->frames[5].file, h->frames[5].line);
    check(g->key != h->key && !lh_gogroup_same_stack(g, h),
          "different stacks have different keys");
    lh_goprofile_free(&p);
}

static void test_rich_debug1(void)
{
    lh_goprofile p;
    if (!check(parse(&p, rich_debug1) == 0, "debug=1 fixture parses"))
        return;
    check(p.total == 7 && p.ngroups == 5, "total 7, 5 groups (got %lld, %zu)",
          (long long)p.total, p.ngroups);
    const lh_gogroup *g = find(&p, "main.blockChan");
    check(g && g->count == 3 && strcmp(site(g), "main.blockChan main.go:13")
          == 0, "3 goroutines blocked in main.blockChan main.go:13");
    g = find(&p, "main.main.func1.1");
    check(g && strcmp(g->labels, "{\"req\":\"42\"}") == 0,
          "labels line kept: %s", g ? g->labels : "(no group)");
    check(g && g->nframes == 1, "the labels line is not a frame");
    g = find(&p, "sync.(*WaitGroup).Wait");
    check(g && strcmp(site(g), "sync.(*WaitGroup).Wait waitgroup.go:139")
          == 0, "sync.runtime_Semacquire is runtime: site '%s'",
          g ? site(g) : "(no group)");
    g = find(&p, "sync.(*Mutex).lockSlow");
    check(g && g->nframes == 4 && g->frames[3].line == 29,
          "mutex group: 4 frames, last main.go:29");
    lh_goprofile_free(&p);
}

static void test_rich_debug2(void)
{
    lh_goprofile p;
    if (!check(parse(&p, rich_debug2) == 0, "debug=2 fixture parses"))
        return;
    check(p.total == -1, "debug=2: no header total (-1)");
    check(p.ngroups == 5, "7 goroutines grouped into 5 stacks (got %zu)",
          p.ngroups);
    const lh_gogroup *g = find(&p, "main.blockChan");
    check(g && g->count == 3, "equal stacks merged: main.blockChan x3");
    check(g && strcmp(site(g), "main.blockChan main.go:13 (created by "
                               "main.main main.go:20)") == 0,
          "site names the creator: '%s'", g ? site(g) : "(no group)");
    check(g && g->nframes == 1, "'created by' is not a frame");
    g = find(&p, "sync.(*Mutex).lockSlow");
    check(g && g->nframes == 4 &&
          strcmp(g->frames[2].func, "sync.(*Mutex).Lock") == 0 &&
          g->frames[2].line == 90,
          "inlined frame 'Lock(...)' without +0x offset: %s:%d",
          g ? g->frames[2].func : "?", g ? g->frames[2].line : 0);
    g = find(&p, "main.main");
    check(g && strcmp(g->frames[2].func, "runtime/pprof.(*Profile).WriteTo")
          == 0, "arguments stripped, method receiver kept: %s",
          g ? g->frames[2].func : "?");
    g = find(&p, "main.main.func1.1");
    check(g && strcmp(g->created_by.func, "main.main.func1") == 0 &&
          g->created_by.line == 26, "creator of the closure: %s:%d",
          g ? g->created_by.func : "?", g ? g->created_by.line : 0);
    lh_goprofile_free(&p);

    /* Go 1.21 adds the creating goroutine's id; Go elides deep stacks. */
    static const char newer[] =
        "goroutine 7 [chan receive]:\n"
        "main.leak()\n"
        "\t/src/leak.go:9 +0x1b\n"
        "...additional frames elided...\n"
        "created by main.start in goroutine 1\n"
        "\t/src/leak.go:4 +0x45\n";
    if (check(parse(&p, newer) == 0, "Go 1.21 debug=2 text parses")) {
        check(p.ngroups == 1 && strcmp(site(&p.groups[0]),
              "main.leak leak.go:9 (created by main.start leak.go:4)") == 0,
              "' in goroutine N' dropped, elision skipped: '%s'",
              p.ngroups ? site(&p.groups[0]) : "");
        lh_goprofile_free(&p);
    }
}

static void test_diff(void)
{
    char before_txt[4096], after_txt[4096];
    lh_goprofile before, after;
    lh_gogroup_delta *d;

    leak_with_count(before_txt, sizeof before_txt, 1000);
    leak_with_count(after_txt, sizeof after_txt, 1016);
    if (!check(parse(&before, before_txt) == 0 && parse(&after, after_txt)
               == 0, "profiles with 1000 and 1016 leaked goroutines parse"))
        return;
    long n = lh_goprofile_diff(&before, &after, &d);
    check(n == 1 && d[0].before == 1000 && d[0].after == 1016 &&
          d[0].group == &after.groups[0],
          "diff: one grown stack, 1000 -> 1016, pointing into 'after'");
    check(n == 1 && strcmp(site(d[0].group),
                           "main.lookupLeaky.func1 lookup.go:30") == 0,
          "grown stack's site: %s", n == 1 ? site(d[0].group) : "");
    lh_raw_free(d);
    n = lh_goprofile_diff(&after, &before, &d);
    check(n == 0 && d == NULL, "reverse diff: nothing grew, out NULL");
    n = lh_goprofile_diff(&after, &after, &d);
    check(n == 0 && d == NULL, "a profile against itself: nothing grew");
    lh_goprofile_free(&before);

    /* New stacks count from 0, larger growth sorts first. */
    lh_goprofile rich;
    parse(&rich, rich_debug1);
    n = lh_goprofile_diff(&after, &rich, &d);
    check(n == 5, "leak profile -> rich profile: 5 stacks grew (got %ld)",
          n);
    if (n == 5) {
        check(d[0].before == 0 && d[0].after == 3 &&
              strcmp(lh_gogroup_top(d[0].group)->func, "main.blockChan")
              == 0, "largest growth first: main.blockChan 0 -> 3");
        int order_ok = 1;
        for (long i = 1; i < n; i++)
            order_ok &= d[i].group > d[i - 1].group ||
                        d[i].after - d[i].before <
                        d[i - 1].after - d[i - 1].before;
        check(order_ok, "equal growth keeps the profile's order");
    }
    lh_raw_free(d);
    lh_goprofile_free(&rich);
    lh_goprofile_free(&after);

    /* pprof prints one stack twice when hidden runtime PCs differ: the
     * diff sums them. */
    static const char twice[] =
        "goroutine profile: total 5\n"
        "3 @ 0x1 0x2 0x3\n"
        "#\t0x3\tmain.leak+0x1\t/src/leak.go:9\n"
        "\n"
        "2 @ 0x9 0x2 0x3\n"
        "#\t0x3\tmain.leak+0x1\t/src/leak.go:9\n"
        "\n";
    static const char once[] =
        "goroutine profile: total 1\n"
        "1 @ 0x1 0x2 0x3\n"
        "#\t0x3\tmain.leak+0x1\t/src/leak.go:9\n";
    lh_goprofile a, b;
    parse(&a, once);
    parse(&b, twice);
    check(b.ngroups == 2 && lh_gogroup_same_stack(&b.groups[0],
                                                  &b.groups[1]),
          "two printed groups, one stack");
    n = lh_goprofile_diff(&a, &b, &d);
    check(n == 1 && d[0].before == 1 && d[0].after == 5,
          "diff sums a stack over its groups: 1 -> 5");
    lh_raw_free(d);
    lh_goprofile_free(&a);
    lh_goprofile_free(&b);
}

static void test_odd_input(void)
{
    lh_goprofile p;
    check(parse(&p, "") == -1 && p.ngroups == 0, "empty text: -1");
    check(parse(&p, "hello\nworld\n") == -1, "not a profile: -1");
    check(parse(&p, "goroutine profile: total 0\n") == 0 && p.total == 0 &&
          p.ngroups == 0, "empty profile: total 0, no groups");
    lh_goprofile_free(&p);

    /* A buffer that was too small ends mid-line. */
    size_t cut = (size_t)(strstr(leak_profile, "writeGoroutine") -
                          leak_profile);
    if (check(lh_goprofile_parse(&p, leak_profile, cut) == 0,
              "truncated profile parses")) {
        check(p.ngroups == 2 && p.groups[1].nframes == 3,
              "truncated: the groups and frames it holds (%zu frames)",
              p.ngroups > 1 ? p.groups[1].nframes : 0);
        lh_goprofile_free(&p);
    }

    static const char nosym[] =
        "goroutine profile: total 2\n"
        "2 @ 0x10 0x20\n"
        "#\t0x10\n"
        "#\t0x20\tmain.f+0x4\t/a/b.go:7\r\n";
    if (check(parse(&p, nosym) == 0, "unsymbolised PC and CRLF parse")) {
        const lh_gogroup *g = &p.groups[0];
        check(g->nframes == 2 && *g->frames[0].func == '\0' &&
              g->frames[1].line == 7,
              "unsymbolised frame has func \"\"; CR stripped");
        check(strcmp(site(g), "main.f b.go:7") == 0,
              "site skips the unsymbolised frame: '%s'", site(g));
        lh_goprofile_free(&p);
    }
    /* A group with only runtime frames still names one. */
    static const char rt[] =
        "goroutine profile: total 1\n"
        "1 @ 0x1\n"
        "#\t0x1\truntime.gopark+0x1\t/go/src/runtime/proc.go:363\n"
        "#\t0x2\truntime.bgsweep+0x1\t/go/src/runtime/mgcsweep.go:278\n";
    if (parse(&p, rt) == 0) {
        check(strcmp(site(&p.groups[0]), "runtime.gopark proc.go:363") == 0,
              "all-runtime stack: top frame '%s'", site(&p.groups[0]));
        lh_goprofile_free(&p);
    }
}

static void test_naming(void)
{
    static const struct {
        const char *func;
        int runtime;
    } cases[] = {
        { "runtime.gopark", 1 },
        { "runtime/pprof.writeGoroutine", 1 },
        { "internal/poll.runtime_pollWait", 1 },
        { "internal/poll.(*FD).Read", 1 },
        { "sync.runtime_SemacquireMutex", 1 },
        { "_cgoexp_cd5b14d581ad_Lookup", 1 },
        { "", 1 },
        { "main.lookupLeaky.func1", 0 },
        { "net/http.(*persistConn).readLoop", 0 },
        { "sync.(*WaitGroup).Wait", 0 },
        { "example.com/runtime_stats.Run", 0 },
        /* cmd/cgo's glue in the package that calls C */
        { "main._Cfunc_CString", 1 },
        { "main._cgo_cmalloc", 1 },
        { "example.com/sqlite._Cfunc_sqlite3_exec", 1 },
        { "main.auditLeaky", 0 },
        { "example.com/cgo_util.Run", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lh_goframe f = { cases[i].func, "", 0 };
        check(lh_goframe_is_runtime(&f) == cases[i].runtime,
              "'%s' is %sthe runtime's", cases[i].func,
              cases[i].runtime ? "" : "not ");
    }
    char buf[64];
    lh_goframe f = { "main.f", "", 0 };
    lh_goframe_format(&f, buf, sizeof buf);
    check(strcmp(buf, "main.f") == 0, "frame without file: '%s'", buf);
    lh_goframe g = { "main.f", "/a/b/c.go", 12 };
    int want = lh_goframe_format(&g, buf, 5);
    check(want == (int)strlen("main.f c.go:12") && strcmp(buf, "main") == 0,
          "truncated format returns the wanted length (%d)", want);
    lh_gogroup empty = { 0 };
    empty.created_by = f;
    empty.labels = "";
    check(lh_gogroup_site(&empty, buf, sizeof buf) == 0 && buf[0] == '\0',
          "group without frames: empty site");
    check(lh_gogroup_top(&empty) == NULL, "group without frames: no top");
}

/* Parsing, diffing and naming allocate only through lh_raw_*. */
static void test_heap_untouched(void)
{
    lh_heap_stats a, b;
    lh_heap_read(&a);
    for (int i = 0; i < 20; i++) {
        lh_goprofile x, y;
        lh_gogroup_delta *d;
        parse(&x, leak_profile);
        parse(&y, rich_debug2);
        if (lh_goprofile_diff(&x, &y, &d) > 0)
            site(d[0].group);
        lh_raw_free(d);
        lh_goprofile_free(&x);
        lh_goprofile_free(&y);
    }
    lh_heap_read(&b);
    check(a.total_allocs == b.total_allocs && a.live_bytes == b.live_bytes,
          "parse/diff/site never touch the counted heap (%llu allocs)",
          (unsigned long long)(b.total_allocs - a.total_allocs));
}


/* GODEBUG=tracebackancestors=N: after a goroutine's stack and creator,
 * the stacks of the goroutines that started it.  Kept apart, the creator
 * untouched, and two goroutines with different ancestors (goids) one
 * group.  Text as Go 1.19 prints it (traceback.go). */
static void test_ancestors(void)
{
    static const char text[] =
        "goroutine 7 [select]:\n"
        "net/http.(*persistConn).readLoop(0xc0001a2000)\n"
        "\t/go/src/net/http/transport.go:2213 +0xd8a\n"
        "created by net/http.(*Transport).dialConn\n"
        "\t/go/src/net/http/transport.go:1751 +0x173e\n"
        "[originating from goroutine 6]:\n"
        "net/http.(*Transport).dialConn(...)\n"
        "\t/go/src/net/http/transport.go:1752 +0x1783\n"
        "net/http.(*Transport).dialConnFor(...)\n"
        "\t/go/src/net/http/transport.go:1449 +0xc8\n"
        "created by net/http.(*Transport).queueForDial\n"
        "\t/go/src/net/http/transport.go:1418 +0x40f\n"
        "[originating from goroutine 1]:\n"
        "net/http.(*Transport).queueForDial(...)\n"
        "\t/go/src/net/http/transport.go:1419 +0x43c\n"
        "main.get(...)\n"
        "\t/src/httpbodies/client.go:60 +0x85\n"
        "\n"
        "goroutine 9 [select]:\n"
        "net/http.(*persistConn).readLoop(0xc0001a4000)\n"
        "\t/go/src/net/http/transport.go:2213 +0xd8a\n"
        "created by net/http.(*Transport).dialConn\n"
        "\t/go/src/net/http/transport.go:1751 +0x173e\n"
        "[originating from goroutine 8]:\n"
        "net/http.(*Transport).dialConn(...)\n"
        "\t/go/src/net/http/transport.go:1752 +0x1783\n"
        "\n";
    lh_goprofile p;
    if (!check(parse(&p, text) == 0, "ancestors: parsed"))
        return;
    check(p.ngroups == 1 && p.groups[0].count == 2,
          "ancestors: not part of the stack: one group of 2 (%zu groups)",
          p.ngroups);
    const lh_gogroup *g = &p.groups[0];
    check(g->nframes == 1 &&
          strcmp(g->frames[0].func, "net/http.(*persistConn).readLoop") == 0,
          "ancestors: the goroutine's own stack is one frame (%zu)",
          g->nframes);
    check(strcmp(g->created_by.func, "net/http.(*Transport).dialConn") == 0 &&
          g->created_by.line == 1751,
          "ancestors: the creator is the goroutine's, not an ancestor's: "
          "%s:%d", g->created_by.func, g->created_by.line);
    check(g->nancestors == 4 &&
          strcmp(g->ancestors[0].func, "net/http.(*Transport).dialConn")
          == 0 && strcmp(g->ancestors[3].func, "main.get") == 0 &&
          g->ancestors[3].line == 60,
          "ancestors: the first group's, creator's stack first, innermost "
          "first (%zu): %s ... %s", g->nancestors,
          g->nancestors ? g->ancestors[0].func : "-",
          g->nancestors > 3 ? g->ancestors[3].func : "-");
    lh_goprofile_free(&p);
}

int main(void)
{
    test_leak_fixture();
    test_rich_debug1();
    test_rich_debug2();
    test_ancestors();
    test_diff();
    test_odd_input();
    test_naming();
    test_heap_untouched();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
