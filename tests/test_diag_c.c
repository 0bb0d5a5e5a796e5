/*
 * test_diag_c.c - unit tests for the C-side diagnosis: stack capture and
 * symbols (symbolize.c), heap sites (heapsites.c), fds (fddiag.c) and
 * threads (threaddiag.c).
 *
 * Linked with interpose.c and the diagnosis sources and -rdynamic, so the
 * malloc family, the fd openers and pthread_create defined there are what
 * this program and the library it dlopens bind to, as in the worker.  This
 * file is built -O0 -g with frame pointers, so its functions keep their
 * frames and names; the dlopen'd library (argv[1], tests/diag/) is built
 * -O2 without frame pointers and with hidden helpers, like the bundled
 * targets.
 *
 * One line per check, then "N passed, N failed"; exit status 1 on failure.
 */
#include "diag.h"
#include "interpose.h"
#include "mine.h"
#include "probes.h"
#include "symbolize.h"
#include "target.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- reporting ----------------------------------------------------------- */

#include "check.h"

__attribute__((format(printf, 1, 2)))
static void note(const char *fmt, ...)
{
    va_list ap;
    lh_heap_suspend();
    fputs("     ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    lh_heap_resume();
}

static lh_site sites[64];

static void show_sites(const lh_site *s, int n)
{
    for (int i = 0; i < n && i < 6; i++)
        note("site %d: %s (%s) bytes %.0f count %.0f [%s]", i, s[i].func,
             s[i].location, s[i].bytes, s[i].count, s[i].detail);
}

static const lh_site *find_site(const lh_site *s, int n, const char *func)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].func, func) == 0)
            return &s[i];
    return NULL;
}

static double count_for(const lh_site *s, int n, const char *func)
{
    double c = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].func, func) == 0)
            c += s[i].count;
    return c;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The malloc family through pointers the compiler knows nothing about, as
 * a dlopen'd library would call it. */
static void *(*volatile p_malloc)(size_t) = malloc;
static void *(*volatile p_realloc)(void *, size_t) = realloc;
static void (*volatile p_free)(void *) = free;

/* ---- library under test -------------------------------------------------- */

typedef void (*diag_cb)(void *);
static void (*lib_leak)(int, size_t);
static void (*lib_release)(void);
static int (*lib_call_deep)(int, diag_cb, void *);

/* ---- stack capture ------------------------------------------------------- */

typedef struct two_stacks {
    uintptr_t own[64];
    int nown;
    void *gcc[64];
    int ngcc;
} two_stacks;

/* Both unwinders from the same frame: only the first entry (the return
 * address into this function, from two different calls) may differ. */
__attribute__((noinline))
static void capture_both(void *arg)
{
    two_stacks *t = arg;
    t->nown = lh_backtrace(t->own, 64, 0);
    t->ngcc = backtrace(t->gcc, 64);
}

static int same_after_first(const two_stacks *t, int *upto)
{
    int n = t->nown < t->ngcc ? t->nown : t->ngcc;
    *upto = n;
    for (int i = 1; i < n; i++)
        if (t->own[i] != (uintptr_t)t->gcc[i]) {
            *upto = i;
            return 0;
        }
    return t->nown == t->ngcc;
}

static uintptr_t skip_pcs[8];
static int skip_n;

__attribute__((noinline))
static void bt_c(uintptr_t *pcs, int *n)
{
    *n = lh_backtrace(pcs, 8, 0);
    skip_n = lh_backtrace(skip_pcs, 8, 1);
}

__attribute__((noinline))
static void bt_b(uintptr_t *pcs, int *n)
{
    bt_c(pcs, n);
}

__attribute__((noinline))
static void bt_a(uintptr_t *pcs, int *n)
{
    bt_b(pcs, n);
}

/* Recursion k deep, then a capture: successive captures at other depths
 * share the outer frames, which the unwinder takes from its memo of the
 * last capture, moved up or down to where the new stack joins it. */
__attribute__((noinline))
static void rec_capture(int k, two_stacks *t)
{
    if (k > 0)
        rec_capture(k - 1, t);
    else
        capture_both(t);
    __asm__ volatile("" ::: "memory");      /* no tail call */
}

static void test_backtrace_depths(void)
{
    /* up and down by one (the memo's tail overlaps where it moves to),
     * and by more */
    static const int depths[] = { 5, 2, 3, 4, 5, 4, 3, 9, 3, 3, 12, 1, 7 };
    int ok = 1, bad = -1, upto = 0;
    two_stacks t;
    for (size_t i = 0; i < sizeof depths / sizeof *depths; i++) {
        memset(&t, 0, sizeof t);
        rec_capture(depths[i], &t);
        if (!same_after_first(&t, &upto) || t.nown < depths[i] + 2) {
            ok = 0;
            bad = depths[i];
            break;
        }
    }
    check(ok, "own unwinder = glibc backtrace() over captures at 13 "
          "depths in turn (the memo joined at another frame each time; "
          "first wrong at depth %d, agree up to %d)", bad, upto);
}

static void test_backtrace(void)
{
    uintptr_t pcs[8];
    int n = 0;
    bt_a(pcs, &n);
    char f[3][160];
    for (int i = 0; i < 3; i++)
        lh_symbolize(i < n ? pcs[i] : 0, f[i], sizeof f[i], NULL, 0);
    check(n >= 4 && strcmp(f[0], "bt_c") == 0 && strcmp(f[1], "bt_b") == 0 &&
              strcmp(f[2], "bt_a") == 0,
          "lh_backtrace: innermost frames are bt_c, bt_b, bt_a (got %s, %s, "
          "%s; depth %d)", f[0], f[1], f[2], n);
    check(skip_n >= 3 && skip_pcs[0] == pcs[1] && skip_pcs[1] == pcs[2],
          "lh_backtrace: skip 1 starts at the caller's caller");

    two_stacks t;
    int upto;
    capture_both(&t);
    check(same_after_first(&t, &upto),
          "own unwinder = glibc backtrace() here (%d vs %d frames, agree "
          "up to %d)", t.nown, t.ngcc, upto);

    if (lib_call_deep) {
        /* Through 30 frames of -O2 code without frame pointers. */
        memset(&t, 0, sizeof t);
        lib_call_deep(30, capture_both, &t);
        check(same_after_first(&t, &upto) && t.nown > 30,
              "own unwinder = glibc backtrace() through -O2 code without "
              "frame pointers (%d vs %d frames, agree up to %d)", t.nown,
              t.ngcc, upto);
    }

    /* Cost, for the record (not checked: machines differ). */
    enum { REPS = 20000 };
    struct timespec t0, t1;
    uintptr_t buf[64];
    void *gbuf[64];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < REPS; i++)
        lh_backtrace(buf, 64, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double own = ((t1.tv_sec - t0.tv_sec) * 1e9 +
                  (t1.tv_nsec - t0.tv_nsec)) / REPS;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < REPS; i++)
        backtrace(gbuf, 64);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double gcc = ((t1.tv_sec - t0.tv_sec) * 1e9 +
                  (t1.tv_nsec - t0.tv_nsec)) / REPS;
    note("capture of %d frames: lh_backtrace %.0f ns, glibc backtrace() "
         "%.0f ns", lh_backtrace(buf, 64, 0), own, gcc);
}

/* A plugin dlclosed and another loaded at its address, with the same
 * code but other frame sizes: the first one's cached unwind rules must
 * not be used for it (they would read far past the frame).  In a child,
 * which may crash. */
static void test_unload(void)
{
    const char *big = getenv("LH_UWPLUG_BIG");
    const char *small = getenv("LH_UWPLUG_SMALL");
    if (!big || !small) {
        note("unload: no plugins built (not x86-64)");
        return;
    }
    typedef void (*call_fn)(diag_cb, void *);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        two_stacks t;
        int upto;
        void *h = dlopen(big, RTLD_NOW);
        call_fn f = NULL;
        if (h)
            *(void **)&f = dlsym(h, "uwplug_call");
        if (!f)
            _exit(3);
        memset(&t, 0, sizeof t);
        f(capture_both, &t);
        if (!same_after_first(&t, &upto))
            _exit(4);
        uintptr_t at = (uintptr_t)f;
        dlclose(h);
        h = dlopen(small, RTLD_NOW);
        f = NULL;
        if (h)
            *(void **)&f = dlsym(h, "uwplug_call");
        if (!f)
            _exit(3);
        if ((uintptr_t)f != at)
            _exit(2);
        memset(&t, 0, sizeof t);
        f(capture_both, &t);
        _exit(same_after_first(&t, &upto) ? 0 : 1);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
        note("unload: the second plugin was not loaded at the first's "
             "address; nothing to compare");
        return;
    }
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "unwind: a plugin replaced at its address after dlclose unwinds "
          "by its own rules, not the cached ones (status %#x)", st);
}

/* ---- symbols ------------------------------------------------------------- */

__attribute__((noinline))
static void symbolize_here(uintptr_t *pc, int *line)
{
    *line = __LINE__ + 1;
    lh_backtrace(pc, 1, 0);
}

static void test_symbolize(void)
{
    uintptr_t pc = 0;
    int line = 0;
    symbolize_here(&pc, &line);
    char func[160], loc[256], want[64];
    lh_symbolize(pc, func, sizeof func, loc, sizeof loc);
    snprintf(want, sizeof want, "test_diag_c.c:%d", line);
    check(strcmp(func, "symbolize_here") == 0 && ends_with(loc, want),
          "symbolize: a return address -> its function and file:line (%s "
          "at %s, want ...%s)", func, loc, want);

    lh_symbolize_func((uintptr_t)test_symbolize, func, sizeof func, loc,
                      sizeof loc);
    check(strcmp(func, "test_symbolize") == 0 &&
              strstr(loc, "test_diag_c.c:") != NULL,
          "symbolize_func: a function's address -> its name (%s at %s)",
          func, loc);

    lh_symbolize((uintptr_t)0x10, func, sizeof func, loc, sizeof loc);
    check(func[0] != '\0' && strcmp(func, loc) == 0,
          "symbolize: an address in no object -> \"%s\"", func);

    uintptr_t a[3] = { 1, 2, 3 }, b[3] = { 1, 2, 4 };
    int ia = lh_stack_intern(a, 3), ia2 = lh_stack_intern(a, 3);
    int ib = lh_stack_intern(b, 3), n = 0;
    const uintptr_t *got = lh_stack_pcs(ia, &n);
    check(ia >= 0 && ia == ia2 && ib != ia && n == 3 && got &&
              got[2] == 3,
          "stack interning: same pcs same id, others another");
}

/* ---- blame: the user's code, not a system library's ---------------------- */

/* The system libsqlite3 (Debian's: stripped), opened as a dependency of
 * this program's code would be: not a target. */
static char *(*sq_mprintf)(const char *, ...);
static void (*sq_free)(void *);
static char sq_path[4096];
static char *volatile formatted[200];

/* The user's code: every string it has sqlite3_mprintf make is kept. */
__attribute__((noinline))
static void user_formats(int n)
{
    for (int i = 0; i < n && i < 200; i++)
        formatted[i] = sq_mprintf("user %d: %s", i, "a name of some length");
}

static void free_formatted(void)
{
    for (int i = 0; i < 200; i++) {
        sq_free(formatted[i]);
        formatted[i] = NULL;
    }
}

/* The top heap site of user_formats(100), under rules. */
static int blame_formats(const lh_notmine *rules, lh_site *top)
{
    lh_blame_set_not_mine(rules);
    lh_heapsnap *a = lh_heapsites_snapshot();
    user_formats(100);
    lh_heapsnap *b = lh_heapsites_snapshot();
    int n = lh_heapsites_diff(a, b, sites, 64);
    show_sites(sites, n);
    if (n > 0)
        *top = sites[0];
    free_formatted();
    lh_heapsites_free(a);
    lh_heapsites_free(b);
    lh_blame_set_not_mine(NULL);
    return n;
}

/* libc's build id from its program headers in memory, independently of
 * symbolize.c reading the file. */
static int libc_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    char *out = arg;
    if (!strstr(info->dlpi_name, "libc.so"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
        const char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const unsigned char *desc = (const unsigned char *)p +
                sizeof *nh + ((nh->n_namesz + 3) & ~3u);
            if (nh->n_type == NT_GNU_BUILD_ID) {
                for (unsigned k = 0; k < nh->n_descsz && k < 64; k++)
                    sprintf(out + 2 * k, "%02x", desc[k]);
                return 1;
            }
            p = (const char *)desc + ((nh->n_descsz + 3) & ~3u);
        }
    }
    return 0;
}

static void test_blame_own(void)
{
    check(lh_mine_path_is_system("/usr/lib/x86_64-linux-gnu/libsqlite3.so.0")
              && lh_mine_path_is_system("/lib/x86_64-linux-gnu/libz.so.1") &&
              !lh_mine_path_is_system("/home/u/proj/build/libusers.so") &&
              !lh_mine_path_is_system("/usr/local/lib/libfoo.so") &&
              !lh_mine_path_is_system("/usr/libexec-not/libfoo.so"),
          "blame: system libraries are those under /lib and /usr/lib");

    void *h = dlopen("libsqlite3.so.0", RTLD_NOW);
    check(h != NULL, "blame: dlopen libsqlite3.so.0 (the system's: apt "
          "install libsqlite3-0)");
    if (!h)
        return;
    *(void **)&sq_mprintf = dlsym(h, "sqlite3_mprintf");
    *(void **)&sq_free = dlsym(h, "sqlite3_free");
    Dl_info info;
    if (!sq_mprintf || !sq_free || !dladdr((void *)sq_free, &info))
        return;
    snprintf(sq_path, sizeof sq_path, "%s", info.dli_fname);
    sq_free(sq_mprintf("%d", 1));       /* sqlite3_initialize's own */

    lh_heapsites_start(0);
    lh_site top;
    int n = blame_formats(NULL, &top);
    check(n >= 1 && strcmp(top.func, "user_formats") == 0 &&
              strstr(top.location, "test_diag_c.c:") != NULL &&
              strcmp(top.via, "sqlite3_mprintf") == 0,
          "blame: an allocation inside the system libsqlite3 is blamed on "
          "the user's function that called it (%s at %s, via %s)",
          n ? top.func : "-", n ? top.location : "-", n ? top.via : "-");
    check(n >= 1 && strncmp(top.detail, "\xe2\x86\x92 sqlite3_mprintf ",
                            strlen("\xe2\x86\x92 sqlite3_mprintf ")) == 0 &&
              ends_with(top.detail, "(libsqlite3.so.0)"),
          "blame: the way through the library is the detail (%s)",
          n ? top.detail : "-");

    /* Rules: a function prefix passes the blame to its caller ... */
    lh_notmine r = { 1, { "user_" } };
    n = blame_formats(&r, &top);
    check(n >= 1 && strcmp(top.func, "blame_formats") == 0 &&
              strcmp(top.via, "user_formats") == 0,
          "blame: not_mine { \"user_\" }: blamed on its caller, via "
          "user_formats (%s via %s)", n ? top.func : "-", n ? top.via : "-");
    /* ... a source file name leaves no frame of the user's: blame falls
     * back to the innermost frame outside the runtime, in the library. */
    lh_notmine f = { 1, { "test_diag_c.c" } };
    n = blame_formats(&f, &top);
    check(n >= 1 && top.via[0] == '\0' &&
              strstr(top.func, "user_formats") == NULL &&
              strstr(top.folded, "user_formats") != NULL,
          "blame: not_mine { \"test_diag_c.c\" }: no own frame left, the "
          "library's frame is blamed (%s at %s)", n ? top.func : "-",
          n ? top.location : "-");

    /* A target is the user's code wherever it is installed. */
    char err[512];
    lh_target *t = lh_target_get(sq_path, err, sizeof err);
    check(t != NULL, "blame: %s opened as a target (%s)", sq_path,
          t ? "ok" : err);
    n = blame_formats(NULL, &top);
    check(t && n >= 1 && strcmp(top.func, "user_formats") != 0 &&
              top.via[0] == '\0' &&
              (strstr(top.func, "sqlite3") || strstr(top.func, "libsqlite3")),
          "blame: libsqlite3 as the target is the user's code, under "
          "/usr/lib too (%s at %s)", n ? top.func : "-",
          n ? top.location : "-");
    lh_heapsites_stop();

    /* Debug info installed apart is found by build id: libc6-dbg. */
    char id[160] = "";
    dl_iterate_phdr(libc_build_id, id);
    char dbg[300];
    snprintf(dbg, sizeof dbg, "/usr/lib/debug/.build-id/%.2s/%s.debug", id,
             id + 2);
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *qs = libc ? dlsym(libc, "qsort") : NULL;
    const sym_entry *e = qs ? lh_sym_entry((uintptr_t)qs) : NULL;
    if (id[0] && access(dbg, R_OK) == 0)
        check(e && e->obj && e->obj->has_symtab && e->fr[0].loc &&
                  strstr(e->fr[0].loc, ".c:"),
              "blame: libc's debug info in %s is read (qsort at %s)", dbg,
              e && e->fr[0].loc ? e->fr[0].loc : "-");
    else
        check(e && e->obj && !e->obj->has_symtab,
              "blame: stripped libc without debug info (%s absent): no "
              "symbol table", dbg);
}

/* ---- heap sites ---------------------------------------------------------- */

static void *volatile kept[60000];
static int nkept;

__attribute__((noinline))
static void leaky_keep(int n, size_t size)
{
    for (int i = 0; i < n && nkept < (int)(sizeof kept / sizeof *kept); i++)
        kept[nkept++] = p_malloc(size);
}

__attribute__((noinline))
static void churn_free(int n, size_t size)
{
    for (int i = 0; i < n; i++)
        p_free(p_malloc(size));
}

__attribute__((noinline))
static void grow_keep(int n)
{
    for (int i = 0; i < n && nkept < (int)(sizeof kept / sizeof *kept);
         i++) {
        void *p = p_malloc(16);
        kept[nkept++] = p_realloc(p, 4000);
    }
}

static void release_kept(void)
{
    while (nkept > 0)
        p_free(kept[--nkept]);
}

typedef struct leak_job {
    int n;
    size_t size;
    void **blocks;
} leak_job;

__attribute__((noinline))
static void *leaky_thread(void *arg)
{
    leak_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        j->blocks[i] = p_malloc(j->size);
        p_free(p_malloc(j->size * 3));      /* churn alongside */
    }
    return NULL;
}

/* What the kept blocks really hold: glibc may hand out a chunk bigger
 * than asked for (one it cannot split), and the interposer counts that. */
static double kept_usable(void)
{
    double sum = 0;
    for (int i = 0; i < nkept; i++)
        sum += (double)malloc_usable_size(kept[i]);
    return sum;
}

static size_t usable_of(size_t n)
{
    void *p = p_malloc(n);
    size_t u = malloc_usable_size(p);
    p_free(p);
    return u;
}

static void test_heap_exact(void)
{
    lh_heapsites_start(0);      /* every allocation: exact figures */
    lh_heapsnap *a = lh_heapsites_snapshot();
    leaky_keep(1000, 100);
    churn_free(1000, 100);
    lh_heapsnap *b = lh_heapsites_snapshot();
    int n = lh_heapsites_diff(a, b, sites, 64);
    show_sites(sites, n);
    double want = kept_usable();
    check(n >= 1 && strcmp(sites[0].func, "leaky_keep") == 0 &&
              sites[0].bytes == want && sites[0].count == 1000,
          "heap (every alloc): top site is leaky_keep, %.0f B in %.0f "
          "blocks (want %.0f B, 1000)", n ? sites[0].bytes : 0,
          n ? sites[0].count : 0, want);
    check(n >= 1 && strstr(sites[0].location, "test_diag_c.c:") != NULL,
          "heap: the site has file:line (%s)", n ? sites[0].location : "");
    check(n >= 1 && ends_with(sites[0].folded, ";leaky_keep") &&
              strstr(sites[0].folded, "main;test_heap_exact;") != NULL,
          "heap: folded stack root first, leaf last, no interposer frames "
          "(%s)", n ? sites[0].folded : "");
    check(!find_site(sites, n, "churn_free"),
          "heap: a function that frees what it allocates has no site");

    release_kept();
    lh_heapsnap *c = lh_heapsites_snapshot();
    n = lh_heapsites_diff(a, c, sites, 64);
    check(!find_site(sites, n, "leaky_keep"),
          "heap: freed blocks leave their site (%d sites)", n);

    grow_keep(100);
    lh_heapsnap *d = lh_heapsites_snapshot();
    n = lh_heapsites_diff(c, d, sites, 64);
    check(n >= 1 && strcmp(sites[0].func, "grow_keep") == 0 &&
              sites[0].count == 100 && sites[0].bytes == kept_usable(),
          "heap: a block grown by realloc is held at its realloc (%s, %.0f "
          "B)", n ? sites[0].func : "-", n ? sites[0].bytes : 0);
    release_kept();
    lh_heapsites_free(a);
    lh_heapsites_free(b);
    lh_heapsites_free(c);
    lh_heapsites_free(d);
}

static void test_heap_sampled(void)
{
    lh_heapsites_start(4096);
    lh_heapsnap *a = lh_heapsites_snapshot();
    leaky_keep(20000, 24);
    churn_free(20000, 24);
    lh_heapsnap *b = lh_heapsites_snapshot();
    int n = lh_heapsites_diff(a, b, sites, 64);
    show_sites(sites, n);
    double want = 20000.0 * (double)usable_of(24);
    double ratio = n ? sites[0].bytes / want : 0;
    double cratio = n ? sites[0].count / 20000.0 : 0;
    check(n >= 1 && strcmp(sites[0].func, "leaky_keep") == 0 &&
              ratio > 0.6 && ratio < 1.6 && cratio > 0.6 && cratio < 1.6,
          "heap (1 in 4096 B): 20000 x 24 B kept, top site leaky_keep, "
          "estimate %.2fx the bytes, %.2fx the count", ratio, cratio);
    double churn = 0;
    const lh_site *cs = find_site(sites, n, "churn_free");
    if (cs)
        churn = cs->bytes;
    check(churn < want * 0.05,
          "heap (sampled): the churning function holds ~nothing (%.0f B)",
          churn);
    release_kept();

    lh_heapsnap *c = lh_heapsites_snapshot();
    leaky_keep(300, 10000);
    lh_heapsnap *d = lh_heapsites_snapshot();
    n = lh_heapsites_diff(c, d, sites, 64);
    want = 300.0 * (double)usable_of(10000);
    ratio = n ? sites[0].bytes / want : 0;
    check(n >= 1 && strcmp(sites[0].func, "leaky_keep") == 0 &&
              ratio > 0.8 && ratio < 1.25,
          "heap (sampled): blocks above the rate are estimated closely "
          "(%.2fx)", ratio);
    release_kept();

    /* The rate changed while recording: each sample's weight is its
     * size's at the new rate (the sampler caches weights by size: one
     * kept from 4096 B would make this ~0.16x). */
    lh_heapsites_start(65536);
    lh_heapsnap *c2 = lh_heapsites_snapshot();
    leaky_keep(3000, 10000);
    lh_heapsnap *d2 = lh_heapsites_snapshot();
    n = lh_heapsites_diff(c2, d2, sites, 64);
    want = 3000.0 * (double)usable_of(10000);
    ratio = n ? sites[0].bytes / want : 0;
    check(n >= 1 && strcmp(sites[0].func, "leaky_keep") == 0 &&
              ratio > 0.75 && ratio < 1.33,
          "heap (1 in 65536 B after 4096 B): 3000 x 10000 B kept, "
          "estimate %.2fx the bytes", ratio);
    release_kept();
    lh_heapsites_free(c2);
    lh_heapsites_free(d2);
    lh_heapsites_start(4096);

    /* Four threads leaking and churning at once. */
    enum { T = 4, PER = 5000 };
    pthread_t th[T];
    leak_job jobs[T];
    lh_heapsnap *e = lh_heapsites_snapshot();
    for (int i = 0; i < T; i++) {
        jobs[i].n = PER;
        jobs[i].size = 40;
        jobs[i].blocks = lh_raw_calloc(PER, sizeof(void *));
        pthread_create(&th[i], NULL, leaky_thread, &jobs[i]);
    }
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    lh_heapsnap *f = lh_heapsites_snapshot();
    n = lh_heapsites_diff(e, f, sites, 64);
    show_sites(sites, n);
    want = (double)T * PER * (double)usable_of(40);
    ratio = n ? sites[0].bytes / want : 0;
    check(n >= 1 && strcmp(sites[0].func, "leaky_thread") == 0 &&
              ratio > 0.6 && ratio < 1.6,
          "heap (sampled, 4 threads): top site leaky_thread, %.2fx the "
          "bytes", ratio);
    for (int i = 0; i < T; i++) {
        for (int k = 0; k < PER; k++)
            p_free(jobs[i].blocks[k]);
        lh_raw_free(jobs[i].blocks);
    }
    lh_heapsnap *g = lh_heapsites_snapshot();
    n = lh_heapsites_diff(e, g, sites, 64);
    const lh_site *left = find_site(sites, n, "leaky_thread");
    check(!left || left->bytes < want * 0.05,
          "heap (sampled): blocks freed by another thread leave the site");

    if (lib_leak) {
        lh_heapsnap *h = lh_heapsites_snapshot();
        lib_leak(5000, 64);
        lh_heapsnap *k = lh_heapsites_snapshot();
        n = lh_heapsites_diff(h, k, sites, 64);
        show_sites(sites, n);
        check(n >= 1 && strcmp(sites[0].func, "diag_keep_block") == 0 &&
                  strstr(sites[0].location, "diagtarget.c:") != NULL,
              "heap: in a dlopen'd -O2 library, the hidden helper is named "
              "with file:line (%s at %s)", n ? sites[0].func : "-",
              n ? sites[0].location : "-");
        check(n >= 1 && strstr(sites[0].folded,
                               "test_heap_sampled;diag_leak;"
                               "diag_keep_block") != NULL,
              "heap: folded stack crosses the library (%s)",
              n ? sites[0].folded : "-");
        lib_release();
        lh_heapsites_free(h);
        lh_heapsites_free(k);
    }
    lh_heapsites_free(a);
    lh_heapsites_free(b);
    lh_heapsites_free(c);
    lh_heapsites_free(d);
    lh_heapsites_free(e);
    lh_heapsites_free(f);
    lh_heapsites_free(g);
}

/* Blocks made and freed in batches of 1000: many filter buckets, shared
 * by the threads, raised and lowered at once. */
__attribute__((noinline))
static void *shard_churn(void *arg)
{
    int n = *(const int *)arg;
    enum { B = 1000 };
    void **q = lh_raw_calloc(B, sizeof *q);
    for (int i = 0; i < n; i += B) {
        for (int k = 0; k < B; k++)
            q[k] = p_malloc(16 + (size_t)((i * 7 + k * 13) % 300));
        for (int k = 0; k < B; k++)
            p_free(q[k]);
    }
    lh_raw_free(q);
    return NULL;
}

/* Every allocation sampled on four threads at once: each thread records
 * in its own shard and raises and lowers the shared filter; a lost
 * update there would leave a freed block counted live (its free skipped
 * the hook), and a free missing the shard that holds it likewise. */
static void test_heap_shards(void)
{
    lh_heapsites_start(0);
    lh_heapsnap *a = lh_heapsites_snapshot();
    enum { T = 4 };
    int per = 160000;
    pthread_t th[T];
    for (int i = 0; i < T; i++)
        pthread_create(&th[i], NULL, shard_churn, &per);
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    lh_heapsnap *b = lh_heapsites_snapshot();
    int n = lh_heapsites_diff(a, b, sites, 64);
    const lh_site *left = find_site(sites, n, "shard_churn");
    check(!left, "heap (every allocation, %d threads churning at once): "
          "nothing left live (%.0f B at shard_churn)", T,
          left ? left->bytes : 0.0);
    n = lh_heapsites_alloc_diff(a, b, sites, 64);
    const lh_site *made = find_site(sites, n, "shard_churn");
    check(made && made->count == (double)T * per,
          "heap (every allocation, %d threads): every allocation counted "
          "once over the shards (%.0f)", T, made ? made->count : 0.0);
    /* The sampled paths keep errno (free promises not to change it). */
    errno = EILSEQ;
    void *q = p_malloc(100);
    int after_malloc = errno;
    p_free(q);
    check(after_malloc == EILSEQ && errno == EILSEQ,
          "heap (every allocation): a sampled malloc and free keep errno");
    lh_heapsites_free(a);
    lh_heapsites_free(b);
    lh_heapsites_stop();
}

/* ---- fds ----------------------------------------------------------------- */

static int fds[32];
static int nfds;
static FILE *files[8];
static int nfiles;

__attribute__((noinline))
static void open_fds(void)
{
    for (int i = 0; i < 3; i++)
        fds[nfds++] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < 2; i++)
        files[nfiles++] = fopen("/dev/null", "r");
    int p[2];
    if (pipe(p) == 0) {
        fds[nfds++] = p[0];
        fds[nfds++] = p[1];
    }
    fds[nfds++] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fds[nfds++] = fcntl(fds[0], F_DUPFD_CLOEXEC, 0);
}

__attribute__((noinline))
static void open_and_close(void)
{
    for (int i = 0; i < 10; i++) {
        close(open("/dev/null", O_RDONLY | O_CLOEXEC));
        FILE *f = fopen("/dev/null", "r");
        if (f)
            fclose(f);
        int p[2];
        if (pipe2(p, O_CLOEXEC) == 0) {
            close(p[0]);
            close(p[1]);
        }
    }
}

static void close_fds(void)
{
    while (nfds > 0)
        close(fds[--nfds]);
    while (nfiles > 0)
        fclose(files[--nfiles]);
}

static const lh_site *site_with_detail(const lh_site *s, int n,
                                       const char *func, const char *detail)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].func, func) == 0 && strstr(s[i].detail, detail))
            return &s[i];
    return NULL;
}

static void test_fds(void)
{
    errno = 0;
    int bad = open("/no/such/file", O_RDONLY);
    check(bad == -1 && errno == ENOENT,
          "fds: open through the interposer keeps its result and errno "
          "before recording starts");

    lh_fddiag_start();
    errno = 0;
    bad = open("/no/such/file", O_RDONLY);
    check(bad == -1 && errno == ENOENT,
          "fds: ... and while recording");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        DIR *volatile none = NULL;      /* closedir is declared nonnull */
        errno = 0;
        int rc = closedir(none);
        _exit(rc == -1 && errno == EINVAL ? 0 : 1);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "fds: closedir(NULL) while recording is EINVAL, as glibc's "
          "(status %#x)", st);

    lh_fdsnap *a = lh_fddiag_snapshot();
    open_fds();
    open_and_close();
    lh_fdsnap *b = lh_fddiag_snapshot();
    int n = lh_fddiag_diff(a, b, sites, 64);
    show_sites(sites, n);
    check(count_for(sites, n, "open_fds") == 9,
          "fds: 9 fds opened in open_fds are blamed on it (%.0f)",
          count_for(sites, n, "open_fds"));
    check(site_with_detail(sites, n, "open_fds", "/dev/null x 3") &&
              site_with_detail(sites, n, "open_fds", "/dev/null x 2") &&
              site_with_detail(sites, n, "open_fds", "pipe x 2") &&
              site_with_detail(sites, n, "open_fds", "socket x 1") &&
              site_with_detail(sites, n, "open_fds", "/dev/null x 1"),
          "fds: open, fopen, pipe, socket and fcntl(F_DUPFD) sites with "
          "what they point to");
    const lh_site *s = site_with_detail(sites, n, "open_fds", "x 3");
    check(s && strstr(s->location, "test_diag_c.c:") &&
              ends_with(s->folded, "test_fds;open_fds"),
          "fds: the site has file:line and a folded stack (%s, %s)",
          s ? s->location : "-", s ? s->folded : "-");
    check(!find_site(sites, n, "open_and_close"),
          "fds: closed fds (close, fclose) leave no site");
    check(n == 5, "fds: nothing else is new (%d sites)", n);

    close_fds();
    lh_fdsnap *c = lh_fddiag_snapshot();
    n = lh_fddiag_diff(a, c, sites, 64);
    check(n == 0, "fds: all closed again -> no site (%d)", n);

    /* A recorded fd closed behind the interposer's back, its number then
     * reused by an unrecorded open of another file: not blamed on the
     * first opener. */
    open_fds();
    int victim = fds[0];
    syscall(SYS_close, victim);
    int raw = (int)syscall(SYS_openat, AT_FDCWD, "/dev/zero",
                           O_RDONLY | O_CLOEXEC);
    lh_fdsnap *d = lh_fddiag_snapshot();
    n = lh_fddiag_diff(a, d, sites, 64);
    show_sites(sites, n);
    const lh_site *u = NULL;
    for (int i = 0; i < n; i++)
        if (strstr(sites[i].detail, "/dev/zero"))
            u = &sites[i];
    check(raw == victim && u && strcmp(u->func, "open_fds") != 0 &&
              u->count == 1,
          "fds: a reused number with a stale record is not blamed on the "
          "old opener (%s)", u ? u->func : "-");
    check(count_for(sites, n, "open_fds") == 8,
          "fds: the other 8 are still open_fds' (%.0f)",
          count_for(sites, n, "open_fds"));
    close_fds();
    lh_fddiag_free(a);
    lh_fddiag_free(b);
    lh_fddiag_free(c);
    lh_fddiag_free(d);
}

/* ---- threads ------------------------------------------------------------- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void *blocked_thread(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate_mu);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    return NULL;
}

static void *exiting_thread(void *arg)
{
    pthread_exit(arg);
}

static pthread_t spawned[8];
static int nspawned;

__attribute__((noinline))
static void spawn_blocked(int n)
{
    for (int i = 0; i < n; i++)
        pthread_create(&spawned[nspawned++], NULL, blocked_thread, NULL);
}

static void test_threads(void)
{
    lh_threaddiag_start();
    lh_threadsnap *a = lh_threaddiag_snapshot();
    spawn_blocked(3);
    lh_threadsnap *b = lh_threaddiag_snapshot();
    int n = lh_threaddiag_diff(a, b, sites, 64);
    show_sites(sites, n);
    check(n == 1 && strcmp(sites[0].func, "spawn_blocked") == 0 &&
              sites[0].count == 3,
          "threads: 3 blocked threads blamed on spawn_blocked (%s x %.0f)",
          n ? sites[0].func : "-", n ? sites[0].count : 0);
    check(n == 1 && strstr(sites[0].detail, "start blocked_thread") &&
              strstr(sites[0].detail, "x 3"),
          "threads: detail names the start routine (%s)",
          n ? sites[0].detail : "-");

    pthread_t t;
    static int token;
    void *ret = NULL;
    int rc = pthread_create(&t, NULL, exiting_thread, &token);
    pthread_join(t, &ret);
    check(rc == 0 && ret == (void *)&token,
          "threads: pthread_exit through the trampoline returns its value");

    pthread_mutex_lock(&gate_mu);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    while (nspawned > 0)
        pthread_join(spawned[--nspawned], NULL);
    lh_threadsnap *c = lh_threaddiag_snapshot();
    n = lh_threaddiag_diff(a, c, sites, 64);
    check(n == 0, "threads: joined threads leave no site (%d)", n);
    lh_threaddiag_free(a);
    lh_threaddiag_free(b);
    lh_threaddiag_free(c);
}

/* ---- fork ---------------------------------------------------------------- */

static volatile int churn_stop;

static void *churn_thread(void *arg)
{
    (void)arg;
    while (!churn_stop) {
        p_free(p_malloc(64));
        close(open("/dev/null", O_RDONLY | O_CLOEXEC));
    }
    return NULL;
}

/* A child forked while another thread is inside the sampler or the fd
 * recorder (holding their locks) must still malloc, open and close. */
static void test_fork(void)
{
    lh_heapsites_start(0);      /* every allocation: the lock is busy */
    pthread_t t;
    churn_stop = 0;
    pthread_create(&t, NULL, churn_thread, NULL);
    int ok = 0, runs = 40;
    for (int i = 0; i < runs; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10);          /* a deadlock ends as SIGALRM */
            for (int k = 0; k < 100; k++) {
                p_free(p_malloc(64));
                close(open("/dev/null", O_RDONLY | O_CLOEXEC));
            }
            _exit(0);
        }
        int st = 0;
        if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
            WEXITSTATUS(st) == 0)
            ok++;
    }
    churn_stop = 1;
    pthread_join(t, NULL);
    check(ok == runs, "fork: %d of %d children forked amid sampling and fd "
          "recording ran to completion", ok, runs);
    lh_heapsites_start(4096);
}

/* ---- a process out of fds (issue 10, item 12) ---------------------------- */

static int hoarded[512];
static int nhoarded;

/* Opens /dev/null until EMFILE. */
__attribute__((noinline))
static int hoard(void)
{
    int fd;
    while (nhoarded < 512 && (fd = open("/dev/null", O_RDONLY)) >= 0)
        hoarded[nhoarded++] = fd;
    return errno;
}

static void test_exhausted(void)
{
    lh_probes p;
    lh_probes_init(&p, NULL);
    lh_fd_reserve(4);
    lh_fdsnap *a = lh_fddiag_snapshot();
    lh_threadsnap *ta = lh_threaddiag_snapshot();
    double fds0 = lh_probes_read(&p, LH_M_PROC_FDS);
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    long open0, limit;
    lh_probes_fd_table(&open0, &limit);
    low = old;
    low.rlim_cur = (rlim_t)open0 + 40;
    check(setrlimit(RLIMIT_NOFILE, &low) == 0, "exhausted: limit lowered");
    int err = hoard();
    long open1;
    int full = lh_probes_fd_table(&open1, &limit);
    check(err == EMFILE && full == 1 && limit == (long)low.rlim_cur &&
              open1 == limit,
          "exhausted: %d fds opened until EMFILE, the table reads full "
          "(%ld of %ld)", nhoarded, open1, limit);
    double *v = calloc(p.n, sizeof *v);
    lh_probes_read_all(&p, v);
    int finite = 1;
    for (int m = LH_M_PROC_RSS_BYTES; m <= LH_M_PROC_MAPS; m++)
        finite &= v[m] == v[m] && v[m] > 0;
    check(finite && v[LH_M_PROC_FDS] == fds0 + nhoarded,
          "exhausted: every proc metric still reads, proc.fds %.0f = "
          "%.0f + %d", v[LH_M_PROC_FDS], fds0, nhoarded);
    lh_fdsnap *b = lh_fddiag_snapshot();
    lh_threadsnap *tb = lh_threaddiag_snapshot();
    check(b && tb, "exhausted: fd and thread snapshots still work");
    lh_fd_release();
    while (nhoarded > 0)
        close(hoarded[--nhoarded]);
    setrlimit(RLIMIT_NOFILE, &old);
    int n = lh_fddiag_diff(a, b, sites, 64);
    show_sites(sites, n);
    check(n == 1 && count_for(sites, n, "hoard") == open1 - open0,
          "exhausted: the %ld new fds are blamed on hoard (%.0f, %d sites)",
          open1 - open0, count_for(sites, n, "hoard"), n);
    n = lh_threaddiag_diff(ta, tb, sites, 64);
    check(n == 0, "exhausted: no new thread (%d)", n);
    check(lh_probes_read(&p, LH_M_PROC_FDS) == fds0,
          "exhausted: proc.fds back to %.0f, the spares not counted", fds0);
    free(v);
    lh_fddiag_free(a);
    lh_fddiag_free(b);
    lh_threaddiag_free(ta);
    lh_threaddiag_free(tb);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        void *h = dlopen(argv[1], RTLD_NOW);
        check(h != NULL, "dlopen %s", argv[1]);
        if (h) {
            lib_leak = (void (*)(int, size_t))dlsym(h, "diag_leak");
            lib_release = (void (*)(void))dlsym(h, "diag_release");
            lib_call_deep = (int (*)(int, diag_cb, void *))dlsym(
                h, "diag_call_deep");
        }
    }
    lh_backtrace_init();
    test_backtrace();
    test_backtrace_depths();
    test_unload();
    test_symbolize();
    test_blame_own();
    test_heap_exact();
    test_heap_sampled();
    test_heap_shards();
    test_fds();
    test_threads();
    test_exhausted();
    test_fork();
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
