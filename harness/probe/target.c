/* target.c - loading target libraries and discovering what they export. */
#include "target.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "interpose.h"

#define GAUGE_PREFIX "leakhound_gauge_"

/* dlsym returns void *; converting to a function pointer is what POSIX
 * guarantees works, but C11 does not, so do it in one audited place. */
static void *sym(void *handle, const char *name)
{
    dlerror();
    return dlsym(handle, name);
}

/*
 * Calls fn(name, defined, ud) for each symbol in the dynamic symbol table of
 * the ELF file at path (dlsym cannot enumerate); stops when fn returns
 * non-zero.  A file that cannot be read calls nothing.
 */
typedef int sym_fn(const char *name, const Elf64_Sym *sym, void *ud);

/* Calls fn for each named symbol of the ELF file's sections of type
 * (SHT_DYNSYM, SHT_SYMTAB) until it returns non-zero. */
static void each_sym(const char *path, unsigned type, sym_fn *fn, void *ud)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
        close(fd);
        return;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *img = lh_raw_mmap(NULL, size, PROT_READ,
                                           MAP_PRIVATE, fd, 0);
    close(fd);
    if (img == MAP_FAILED)
        return;

    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shoff == 0 ||
        eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        goto out;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != type || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *strs = &sh[sh[i].sh_link];
        if (sh[i].sh_offset + sh[i].sh_size > size ||
            strs->sh_offset + strs->sh_size > size)
            continue;
        const Elf64_Sym *syms = (const Elf64_Sym *)(img + sh[i].sh_offset);
        size_t nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
        const char *names = (const char *)(img + strs->sh_offset);
        for (size_t k = 0; k < nsyms; k++) {
            if (syms[k].st_name == 0 || syms[k].st_name >= strs->sh_size ||
                !memchr(names + syms[k].st_name, 0,
                        strs->sh_size - syms[k].st_name))
                continue;
            if (fn(names + syms[k].st_name, &syms[k], ud))
                goto out;
        }
    }
out:
    lh_raw_munmap((void *)img, size);
}

typedef struct dyn_adapter {
    int (*fn)(const char *, int, void *);
    void *ud;
} dyn_adapter;

static int dyn_one(const char *name, const Elf64_Sym *s, void *ud)
{
    dyn_adapter *a = ud;
    return a->fn(name, s->st_shndx != SHN_UNDEF, a->ud);
}

static void each_dynsym(const char *path,
                        int (*fn)(const char *, int, void *), void *ud)
{
    dyn_adapter a = { fn, ud };
    each_sym(path, SHT_DYNSYM, dyn_one, &a);
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* Gauges are found by name prefix. */
static int add_gauge(const char *name, int defined, void *ud)
{
    lh_target *t = ud;
    size_t plen = sizeof GAUGE_PREFIX - 1;
    if (!defined || strncmp(name, GAUGE_PREFIX, plen) != 0 || !name[plen])
        return 0;
    void *fn = sym(t->handle, name);
    if (!fn)
        return 0;
    lh_gauge *g = lh_raw_realloc(t->gauges, (t->ngauges + 1) * sizeof *g);
    if (!g)
        return 1;
    t->gauges = g;
    g[t->ngauges].name = lh_xstrdup(name + plen);
    *(void **)&g[t->ngauges].fn = fn;
    t->ngauges++;
    return 0;
}

static void find_gauges(lh_target *t)
{
    each_dynsym(t->image, add_gauge, t);
}

/*
 * Allocators the interposer cannot see: a library of theirs loaded in the
 * process, or their own entry points (prefixed builds, non-standard APIs)
 * exported or imported by any loaded object.  A plain exported malloc is
 * not flagged: other objects' calls to it bind to the interposer.
 */
static const struct {
    const char *prefix;     /* of a library file name */
    const char *name;
} alloc_libs[] = {
    { "libjemalloc", "jemalloc" },
    { "libtcmalloc", "tcmalloc" },
    { "libmimalloc", "mimalloc" },
};

static const struct {
    const char *sym;
    const char *name;
} alloc_syms[] = {
    { "je_malloc", "jemalloc" }, { "mallocx", "jemalloc" },
    { "rallocx", "jemalloc" }, { "sdallocx", "jemalloc" },
    { "tc_malloc", "tcmalloc" }, { "tc_new", "tcmalloc" },
    { "mi_malloc", "mimalloc" }, { "mi_free", "mimalloc" },
};

typedef struct alloc_scan {
    const char *file;       /* the object being read */
    char *found;            /* lh_raw_strdup'd description, or NULL */
} alloc_scan;

static int alloc_sym(const char *name, int defined, void *ud)
{
    alloc_scan *s = ud;
    /* Thousands of symbols per object (libc, the harness): most begin
     * with none of the names' first letters. */
    if (!strchr("jmrst", name[0]))
        return 0;
    for (size_t i = 0; i < sizeof alloc_syms / sizeof *alloc_syms; i++) {
        if (strcmp(name, alloc_syms[i].sym) != 0)
            continue;
        char text[PATH_MAX + 128];
        snprintf(text, sizeof text, "%s (%s %s %s)", alloc_syms[i].name,
                 s->file, defined ? "exports" : "imports", name);
        s->found = lh_raw_strdup(text);
        return 1;
    }
    return 0;
}

/* The file of a loaded object, or NULL (the vDSO has none). */
static const char *object_file(const struct dl_phdr_info *info)
{
    const char *file = info->dlpi_name;
    if (!file || !*file)
        return "/proc/self/exe";    /* the program itself comes first */
    return file[0] == '/' ? file : NULL;
}

static int alloc_library(struct dl_phdr_info *info, size_t size, void *ud)
{
    (void)size;
    alloc_scan *s = ud;
    const char *file = object_file(info);
    const char *b = file ? base_name(file) : "";
    for (size_t i = 0; i < sizeof alloc_libs / sizeof *alloc_libs; i++) {
        size_t n = strlen(alloc_libs[i].prefix);
        /* libjemalloc.so.2, libtcmalloc_minimal.so.4, not libjemallocx */
        if (strncmp(b, alloc_libs[i].prefix, n) != 0 ||
            (b[n] && !strchr(".-_", b[n])))
            continue;
        char text[PATH_MAX + 128];
        snprintf(text, sizeof text, "%s (%s is loaded)", alloc_libs[i].name,
                 file);
        s->found = lh_raw_strdup(text);
        return 1;
    }
    return 0;
}

static int alloc_symbols(struct dl_phdr_info *info, size_t size, void *ud)
{
    (void)size;
    alloc_scan *s = ud;
    const char *file = object_file(info);
    if (!file)
        return 0;
    s->file = strcmp(file, "/proc/self/exe") == 0 ? "the program" : file;
    each_dynsym(file, alloc_sym, s);
    return s->found != NULL;
}

/* What in the process allocates behind the interposer's back, after the
 * target and its dependencies were loaded: an allocator's library first,
 * else the first object naming one of its entry points. */
static void find_allocator(lh_target *t)
{
    alloc_scan s = { NULL, NULL };
    dl_iterate_phdr(alloc_library, &s);
    if (!s.found)
        dl_iterate_phdr(alloc_symbols, &s);
    t->allocator = s.found;
}

static void find_go_probe(lh_target *t)
{
    void *version = sym(t->handle, "leakhound_go_probe_version");
    if (!version)
        return;
    void *g = sym(t->handle, "leakhound_go_goroutines");
    void *s = sym(t->handle, "leakhound_go_settle");
    void *m = sym(t->handle, "leakhound_go_memstats");
    void *p = sym(t->handle, "leakhound_go_goroutine_profile");
    if (!g || !s || !m)
        return;
    *(void **)&t->go.goroutines = g;
    *(void **)&t->go.settle = s;
    *(void **)&t->go.memstats = m;
    *(void **)&t->go.goroutine_profile = p;
    *(void **)&t->go.goroutine_stacks =
        sym(t->handle, "leakhound_go_goroutine_stacks");
    *(void **)&t->go.heap_profile =
        sym(t->handle, "leakhound_go_heap_profile");
    *(void **)&t->go.alloc_counters =
        sym(t->handle, "leakhound_go_alloc_counters");
    void *ls = sym(t->handle, "leakhound_go_label_set");
    void *cl = sym(t->handle, "leakhound_go_call_labeled");
    if (ls && cl) {
        *(void **)&t->go.label_set = ls;
        *(void **)&t->go.call_labeled = cl;
    }
    *(void **)&t->go.cgo_callers = sym(t->handle, "leakhound_go_cgo_callers");
    *(void **)&t->go.frames = sym(t->handle, "leakhound_go_frames");
    *(void **)&t->go.build_info = sym(t->handle, "leakhound_go_build_info");
    *(void **)&t->go.heap_sample_rate =
        sym(t->handle, "leakhound_go_heap_sample_rate");
    t->has_go = 1;
}

typedef struct sym_find {
    const char *name;
    uint64_t value, size;
} sym_find;

static int find_one(const char *name, const Elf64_Sym *s, void *ud)
{
    sym_find *f = ud;
    if (s->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
        strcmp(name, f->name) != 0)
        return 0;
    f->value = s->st_value;
    f->size = s->st_size;
    return 1;
}

/*
 * A cgo build of the Go runtime maps its heap through libc's mmap, from
 * x_cgo_mmap: those mappings are the Go heap's (go.* metrics), not the
 * target's own, and the interposer is told to leave them out.  Found in
 * the image's symbol table; a stripped Go target cannot be told apart
 * (mmap_unknown: the mmap.* metrics are unavailable).
 */
static void find_go_mmap(lh_target *t)
{
    sym_find f = { "x_cgo_mmap", 0, 0 };
    each_sym(t->image, SHT_SYMTAB, find_one, &f);
    if (!f.value)
        each_sym(t->image, SHT_DYNSYM, find_one, &f);
    struct link_map *lm = NULL;
    if (!f.value || dlinfo(t->handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm) {
        t->mmap_unknown = 1;
        return;
    }
    uintptr_t lo = (uintptr_t)lm->l_addr + (uintptr_t)f.value;
    if (lh_mmap_ignore_caller(lo, lo + (f.size ? f.size : 256)) < 0)
        t->mmap_unknown = 1;
}

/* The Go text range and the cgo call stubs of a Go target, for gocgo.c. */
typedef struct cgo_scan {
    lh_cgo_range *stubs;
    size_t n, cap;
    uint64_t text, etext;
} cgo_scan;

static int is_cgo_stub(const char *name)
{
    /* _cgo_<hex hash>_Cfunc_<name> */
    if (strncmp(name, "_cgo_", 5) != 0)
        return 0;
    const char *p = name + 5;
    size_t k = strspn(p, "0123456789abcdef");
    return k > 0 && strncmp(p + k, "_Cfunc_", 7) == 0;
}

static int cgo_sym(const char *name, const Elf64_Sym *s, void *ud)
{
    cgo_scan *c = ud;
    if (s->st_shndx == SHN_UNDEF)
        return 0;
    if (strcmp(name, "runtime.text") == 0)
        c->text = s->st_value;
    else if (strcmp(name, "runtime.etext") == 0)
        c->etext = s->st_value;
    else if (ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_size &&
             is_cgo_stub(name) &&
             lh_grow((void **)&c->stubs, &c->cap, c->n + 1,
                     sizeof *c->stubs) == 0)
        c->stubs[c->n++] = (lh_cgo_range){ s->st_value,
                                           s->st_value + s->st_size };
    return 0;
}

/*
 * A probe that can name the Go caller of a cgo call (diag/cgocaller.c)
 * needs the hook to know, from a C stack alone, that the thread is inside
 * a cgo call: the stubs are in the dynamic symbol table, the Go text's
 * bounds in the full one (a stripped target: no callers named).
 */
static void find_go_cgo(lh_target *t)
{
    cgo_scan c = { 0 };
    struct link_map *lm = NULL;
    if (!t->go.cgo_callers || !t->go.frames ||
        dlinfo(t->handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return;
    each_sym(t->image, SHT_SYMTAB, cgo_sym, &c);
    if (!c.n)
        each_sym(t->image, SHT_DYNSYM, cgo_sym, &c);
    if (!c.text || c.etext <= c.text || !c.n) {
        lh_raw_free(c.stubs);
        return;
    }
    uintptr_t bias = (uintptr_t)lm->l_addr;
    for (size_t i = 0; i < c.n; i++) {     /* insertion sort: no qsort */
        lh_cgo_range v = c.stubs[i];
        size_t j = i;
        for (; j > 0 && c.stubs[j - 1].lo > v.lo; j--)
            c.stubs[j] = c.stubs[j - 1];
        c.stubs[j] = v;
    }
    for (size_t i = 0; i < c.n; i++) {
        c.stubs[i].lo += bias;
        c.stubs[i].hi += bias;
    }
    lh_gocgo_publish(t, (lh_cgo_range){ bias + c.text, bias + c.etext },
                     c.stubs, c.n);
}

/*
 * Fuzz drivers link a target into themselves (a Go c-archive, an AFL++
 * build) and say so with LEAKHOUND_STATIC_TARGET=<library file name>: that
 * target's symbols are then looked up in the executable.  A libFuzzer
 * driver can also swap a library for its coverage-instrumented build with
 * LEAKHOUND_TARGET_OVERRIDE=<library file name>=<path>.
 */
static int is_static(const char *path)
{
    const char *name = getenv("LEAKHOUND_STATIC_TARGET");
    return name && strcmp(base_name(name), base_name(path)) == 0;
}

static const char *override(const char *path, char *buf, size_t len)
{
    const char *ov = getenv("LEAKHOUND_TARGET_OVERRIDE");
    const char *eq = ov ? strchr(ov, '=') : NULL;
    if (!eq)
        return path;
    snprintf(buf, len, "%.*s", (int)(eq - ov), ov);
    if (strcmp(base_name(buf), base_name(path)) != 0)
        return path;
    snprintf(buf, len, "%s", eq + 1);
    return buf;
}

static void initialize(lh_target *t)
{
    int (*init)(int *, char ***);
    *(void **)&init = sym(t->handle, "LLVMFuzzerInitialize");
    /* In a fuzz driver, LLVMFuzzerInitialize is the driver's own. */
    if (init && !getenv("LEAKHOUND_STATIC_TARGET")) {
        static char arg0[] = "leakhound";
        static char *argv0[] = { arg0, NULL };
        int argc = 1;
        char **argv = argv0;
        init(&argc, &argv);
    }
}

/* Open the library at file (path as named, file after the override,
 * real its real path). */
static int open_target(lh_target *t, const char *path, const char *file,
                       const char *real, char *err, size_t errlen)
{
    if (is_static(path)) {
        t->handle = dlopen(NULL, RTLD_NOW);
        t->image = lh_raw_strdup("/proc/self/exe");
    } else {
        /* The real path, never a bare name: dlopen would search the
         * library path for it instead of loading this file.
         * RTLD_NOW: an unresolved symbol is reported here, naming the
         * library, instead of crashing in the middle of a workload. */
        t->handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
        if (!t->handle) {
            const char *why = dlerror();
            snprintf(err, errlen, "cannot load target library '%s': %s%s",
                     file, why, strstr(why, "static TLS") ? " (a library "
                     "with initial-exec TLS, such as libjemalloc: give "
                     "the loader room with GLIBC_TUNABLES=glibc.rtld."
                     "optional_static_tls=65536)" : "");
            return -1;
        }
        t->image = lh_raw_strdup(real);
    }
    t->path = lh_raw_strdup(is_static(path) ? path : file);
    t->real = lh_raw_strdup(real);
    if (!t->handle || !t->path || !t->image || !t->real) {
        snprintf(err, errlen, "cannot load target library '%s': out of "
                 "memory", file);
        return -1;
    }
    initialize(t);
    find_go_probe(t);
    if (t->has_go) {
        find_go_mmap(t);
        find_go_cgo(t);
    }
    find_gauges(t);
    find_allocator(t);
    return 0;
}

/* Every target this process opened, by real path.  Opening happens under
 * the lock, so a second thread naming the same library waits for the first
 * and then shares its target. */
typedef struct entry {
    struct entry *next;
    char *key;              /* realpath of the library file */
    lh_target t;
} entry;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static entry *registry;

lh_target *lh_target_get(const char *path, char *err, size_t errlen)
{
    char swapped[4096], key[PATH_MAX];
    const char *file = is_static(path) ? "/proc/self/exe"
                                       : override(path, swapped,
                                                  sizeof swapped);
    if (access(file, R_OK) < 0 || !realpath(file, key)) {
        int no_file = errno == ENOENT && file[0] != '/';
        snprintf(err, errlen, "cannot open target library '%s': %s%s", file,
                 strerror(errno), no_file ? " (a relative name is looked "
                 "for relative to the current directory, then to the "
                 "script's directory; the system library path is not "
                 "searched)" : "");
        return NULL;
    }
    pthread_mutex_lock(&registry_lock);
    entry *e = registry;
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (!e) {
        int rc = -1;
        e = lh_raw_calloc(1, sizeof *e);
        if (!e || !(e->key = lh_raw_strdup(key)))
            snprintf(err, errlen, "cannot load target library '%s': out "
                     "of memory", file);
        else
            rc = open_target(&e->t, path, file, key, err, errlen);
        if (rc == 0) {
            e->next = registry;
            registry = e;
        } else if (e) {
            /* a handle, if any, stays: a library is never unloaded */
            lh_raw_free(e->key);
            lh_raw_free(e->t.path);
            lh_raw_free(e->t.image);
            lh_raw_free(e->t.real);
            lh_raw_free(e->t.allocator);
            lh_raw_free(e);
            e = NULL;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return e ? &e->t : NULL;
}

lh_target *lh_target_foreign(void)
{
    pthread_mutex_lock(&registry_lock);
    entry *e = registry;
    while (e && !e->t.allocator)
        e = e->next;
    pthread_mutex_unlock(&registry_lock);
    return e ? &e->t : NULL;
}

int lh_target_is_file(const char *path)
{
    pthread_mutex_lock(&registry_lock);
    entry *e = registry;
    while (e && strcmp(e->key, path) != 0 && strcmp(e->t.real, path) != 0)
        e = e->next;
    pthread_mutex_unlock(&registry_lock);
    return e != NULL;
}

const char *lh_target_named_path(const char *path)
{
    pthread_mutex_lock(&registry_lock);
    entry *e = registry;
    while (e && strcmp(e->key, path) != 0 && strcmp(e->t.real, path) != 0)
        e = e->next;
    const char *named = e ? e->t.path : NULL;
    pthread_mutex_unlock(&registry_lock);
    return named;
}

int lh_target_opened(void)
{
    pthread_mutex_lock(&registry_lock);
    int any = registry != NULL;
    pthread_mutex_unlock(&registry_lock);
    return any;
}

lh_op_fn lh_target_op(lh_target *t, const char *name, char *err,
                      size_t errlen)
{
    lh_op_fn fn;
    *(void **)&fn = sym(t->handle, name);
    if (!fn)
        snprintf(err, errlen, "target library '%s' has no symbol '%s'",
                 t->path, name);
    return fn;
}

/* A fork() inside an op marks the copy: the atfork child handler runs on
 * the forking thread, whose in_op is copied.  No syscall per call (getpid
 * costs more than a small op); a raw fork syscall bypasses it, so the
 * worker checks its pid again before it says anything. */
static _Thread_local int in_op, forked_copy;

static void on_fork_child(void)
{
    if (in_op)
        forked_copy = 1;
}

__attribute__((constructor)) static void watch_forks(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

int lh_target_call(lh_op_fn fn, const uint8_t *data, size_t size)
{
    in_op++;
    int rc = fn(data, size);
    in_op--;
    if (forked_copy)
        _exit(0);
    return rc;
}
