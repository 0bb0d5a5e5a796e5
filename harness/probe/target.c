/* target.c - loading target libraries and discovering what they export. */
#include "target.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

#define GAUGE_PREFIX "leakhound_gauge_"

/* dlsym returns void *; converting to a function pointer is what POSIX
 * guarantees works, but C11 does not, so do it in one audited place. */
static void *sym(void *handle, const char *name)
{
    dlerror();
    return dlsym(handle, name);
}

/*
 * Gauges are found by name prefix, which dlsym cannot enumerate, so read the
 * library's dynamic symbol table from the file.
 */
static void find_gauges(lh_target *t)
{
    int fd = open(t->image, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
        close(fd);
        return;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *img = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
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
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *strs = &sh[sh[i].sh_link];
        if (sh[i].sh_offset + sh[i].sh_size > size ||
            strs->sh_offset + strs->sh_size > size)
            continue;
        const Elf64_Sym *syms = (const Elf64_Sym *)(img + sh[i].sh_offset);
        size_t nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
        const char *names = (const char *)(img + strs->sh_offset);
        for (size_t k = 0; k < nsyms; k++) {
            if (syms[k].st_shndx == SHN_UNDEF ||
                syms[k].st_name >= strs->sh_size)
                continue;
            const char *name = names + syms[k].st_name;
            size_t plen = sizeof GAUGE_PREFIX - 1;
            if (strncmp(name, GAUGE_PREFIX, plen) != 0 || !name[plen])
                continue;
            void *fn = sym(t->handle, name);
            if (!fn)
                continue;
            lh_gauge *g = lh_raw_realloc(t->gauges,
                                         (t->ngauges + 1) * sizeof *g);
            if (!g)
                break;
            t->gauges = g;
            g[t->ngauges].name = lh_xstrdup(name + plen);
            *(void **)&g[t->ngauges].fn = fn;
            t->ngauges++;
        }
    }
out:
    munmap((void *)img, size);
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
    void *ls = sym(t->handle, "leakhound_go_label_set");
    void *cl = sym(t->handle, "leakhound_go_call_labeled");
    if (ls && cl) {
        *(void **)&t->go.label_set = ls;
        *(void **)&t->go.call_labeled = cl;
    }
    t->has_go = 1;
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
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

/* Open the library at file (path as named, file after the override). */
static int open_target(lh_target *t, const char *path, const char *file,
                       char *err, size_t errlen)
{
    if (is_static(path)) {
        t->handle = dlopen(NULL, RTLD_NOW);
        t->image = lh_raw_strdup("/proc/self/exe");
    } else {
        /* RTLD_NOW: an unresolved symbol is reported here, naming the
         * library, instead of crashing in the middle of a workload. */
        t->handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
        if (!t->handle) {
            snprintf(err, errlen, "cannot load target library '%s': %s",
                     file, dlerror());
            return -1;
        }
        t->image = lh_raw_strdup(file);
    }
    t->path = lh_raw_strdup(is_static(path) ? path : file);
    if (!t->handle || !t->path || !t->image) {
        snprintf(err, errlen, "cannot load target library '%s': out of "
                 "memory", file);
        return -1;
    }
    initialize(t);
    find_go_probe(t);
    find_gauges(t);
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
        snprintf(err, errlen, "cannot open target library '%s': %s", file,
                 strerror(errno));
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
            rc = open_target(&e->t, path, file, err, errlen);
        if (rc == 0) {
            e->next = registry;
            registry = e;
        } else if (e) {
            /* a handle, if any, stays: a library is never unloaded */
            lh_raw_free(e->key);
            lh_raw_free(e->t.path);
            lh_raw_free(e->t.image);
            lh_raw_free(e);
            e = NULL;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return e ? &e->t : NULL;
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
