/* target.c - loading target libraries and discovering what they export. */
#include "target.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
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
            g[t->ngauges].name = lh_raw_strdup(name + plen);
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
static int open_static(lh_target *t, const char *path)
{
    const char *name = getenv("LEAKHOUND_STATIC_TARGET");
    if (!name || strcmp(base_name(name), base_name(path)) != 0)
        return 0;
    t->handle = dlopen(NULL, RTLD_NOW);
    t->path = lh_raw_strdup(path);
    t->image = lh_raw_strdup("/proc/self/exe");
    return t->handle != NULL;
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

static int finish_open(lh_target *t);

int lh_target_open(lh_target *t, const char *path, char *err, size_t errlen)
{
    if (t->handle)
        return 0;
    char swapped[4096];
    if (open_static(t, path))
        return finish_open(t);
    path = override(path, swapped, sizeof swapped);
    if (access(path, R_OK) < 0) {
        snprintf(err, errlen, "cannot open target library '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    /* RTLD_NOW: an unresolved symbol is reported here, naming the library,
     * instead of crashing in the middle of a workload. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "cannot load target library '%s': %s", path,
                 dlerror());
        return -1;
    }
    t->handle = h;
    t->path = lh_raw_strdup(path);
    t->image = lh_raw_strdup(path);
    return finish_open(t);
}

static int finish_open(lh_target *t)
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
    find_go_probe(t);
    find_gauges(t);
    return 0;
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
