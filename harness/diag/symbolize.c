/*
 * symbolize.c - names and file:line for addresses.
 *
 * dladdr only sees exported symbols, and the bundled targets hide their
 * helpers, so names and file:line come from addr2line, spawned once per
 * object with every address of a batch, after the run.  Inlined frames
 * are expanded (addr2line -i): a static helper inlined into an op is
 * blamed by its own name, "inlined into" the op.  Without addr2line or
 * debug info a frame is "libname.so+0xOFFSET", or the exported symbol
 * that holds it (dladdr: a stripped system library's API).  Debug info
 * installed apart (/usr/lib/debug/.build-id/) is used: addr2line reads it.
 */
#include "diag.h"

#include <ctype.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr2line.h"
#include "interpose.h"
#include "symbolize.h"

static pthread_mutex_t sym_mu = PTHREAD_MUTEX_INITIALIZER;
static sym_obj *sym_objs;
static sym_entry **sym_tab;     /* open addressing by addr */
static size_t sym_cap, sym_count;

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* Whether an ELF file has a .symtab.  Without one (stripped), addr2line
 * names an address by the nearest exported symbol before it, which for a
 * hidden function is the wrong one.  Also its GNU build id, in hex, into
 * build_id (may be NULL; "" when it has none). */
static int file_has_symtab(const char *path, char *build_id, size_t idlen)
{
    if (build_id)
        build_id[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int found = 0;
    ElfW(Ehdr) eh;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
        memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == (sizeof(void *) == 8 ? ELFCLASS64
                                                     : ELFCLASS32) &&
        eh.e_shentsize == sizeof(ElfW(Shdr))) {
        for (unsigned i = 0; i < eh.e_shnum; i++) {
            ElfW(Shdr) sh;
            if (pread(fd, &sh, sizeof sh,
                      (off_t)(eh.e_shoff + (uint64_t)i * sizeof sh)) !=
                (ssize_t)sizeof sh)
                break;
            found |= sh.sh_type == SHT_SYMTAB;
            /* A note section: look for the build id (name "GNU"). */
            unsigned char note[256];
            if (!build_id || sh.sh_type != SHT_NOTE || build_id[0] ||
                sh.sh_size > sizeof note ||
                pread(fd, note, sh.sh_size, (off_t)sh.sh_offset) !=
                    (ssize_t)sh.sh_size)
                continue;
            for (size_t at = 0; at + sizeof(ElfW(Nhdr)) <= sh.sh_size;) {
                ElfW(Nhdr) nh;
                memcpy(&nh, note + at, sizeof nh);
                size_t name = at + sizeof nh;
                size_t desc = name + ((nh.n_namesz + 3) & ~3u);
                size_t end = desc + ((nh.n_descsz + 3) & ~3u);
                if (end > sh.sh_size)
                    break;
                if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                    memcmp(note + name, "GNU", 4) == 0 &&
                    nh.n_descsz * 2 + 1 <= idlen) {
                    for (size_t k = 0; k < nh.n_descsz; k++)
                        snprintf(build_id + 2 * k, 3, "%02x",
                                 note[desc + k]);
                    break;
                }
                at = end;
            }
        }
    }
    close(fd);
    return found;
}

/* Debug info installed apart from a stripped object (Debian's -dbg and
 * -dbgsym packages): /usr/lib/debug/.build-id/ab/cdef....debug, where
 * addr2line finds it by itself.  Its symbol table is then the full one. */
static int debug_file_has_symtab(const char *build_id)
{
    if (strlen(build_id) < 3)
        return 0;
    char path[600];
    snprintf(path, sizeof path, "/usr/lib/debug/.build-id/%.2s/%s.debug",
             build_id, build_id + 2);
    return access(path, R_OK) == 0 && file_has_symtab(path, NULL, 0);
}

static sym_obj *obj_for(uintptr_t addr)
{
    Dl_info info;
    struct link_map *lm = NULL;
    if (!dladdr1((void *)addr, &info, (void **)&lm, RTLD_DL_LINKMAP) ||
        !lm)
        return NULL;
    for (sym_obj *o = sym_objs; o; o = o->next)
        if (o->lm == lm)
            return o;
    sym_obj *o = lh_raw_calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->lm = lm;
    o->bias = lm->l_addr;
    char buf[4096];
    /* The main program has an empty l_name.  addr2line gets it through
     * /proc/PID/exe, which stays right even if the file is rebuilt. */
    if (lm == _r_debug.r_map || !lm->l_name || !lm->l_name[0]) {
        o->is_main = 1;
        snprintf(buf, sizeof buf, "/proc/%d/exe", (int)getpid());
        o->path = lh_raw_strdup(buf);
        ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
        buf[k > 0 ? k : 0] = '\0';
        o->name = lh_raw_strdup(k > 0 ? base_name(buf) : "exe");
    } else {
        o->path = lh_raw_strdup(lm->l_name);
        o->name = lh_raw_strdup(base_name(lm->l_name));
    }
    /* What a target was opened as (probe/target.c keys targets by real
     * path), whatever name the loader first found the object by. */
    char real[PATH_MAX];
    o->real = lh_raw_strdup(!realpath(o->is_main ? "/proc/self/exe"
                                                 : o->path, real)
                            ? o->path : real);
    if (!o->path || !o->name || !o->real) {
        lh_raw_free(o->path);
        lh_raw_free(o->name);
        lh_raw_free(o->real);
        lh_raw_free(o);
        return NULL;
    }
    /* No file to read: the vDSO and other pseudo-objects.  A relative
     * l_name is what dlopen was given, relative to the cwd then (the
     * worker does not chdir). */
    if (!strchr(o->path, '/') || access(o->path, R_OK) != 0)
        o->tool_failed = 1;
    else {
        char id[130];
        o->has_symtab = file_has_symtab(o->path, id, sizeof id) ||
                        debug_file_has_symtab(id);
    }
    o->next = sym_objs;
    sym_objs = o;
    return o;
}

static size_t sym_hash(uintptr_t a)
{
    return (size_t)(((uint64_t)a * 0x9e3779b97f4a7c15ull) >> 20);
}

static sym_entry *cache_get(uintptr_t addr)
{
    if (!sym_cap)
        return NULL;
    for (size_t i = sym_hash(addr) & (sym_cap - 1); sym_tab[i];
         i = (i + 1) & (sym_cap - 1))
        if (sym_tab[i]->addr == addr)
            return sym_tab[i];
    return NULL;
}

static void cache_put(sym_entry *e)
{
    if ((sym_count + 1) * 2 > sym_cap) {
        size_t cap = lh_next_cap(sym_cap, 0, 1024, sizeof(sym_entry *));
        sym_entry **t = cap ? lh_raw_calloc(cap, sizeof *t) : NULL;
        if (!t)
            return;     /* uncached: resolved again next time */
        for (size_t i = 0; i < sym_cap; i++) {
            if (!sym_tab[i])
                continue;
            size_t j = sym_hash(sym_tab[i]->addr) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = sym_tab[i];
        }
        lh_raw_free(sym_tab);
        sym_tab = t;
        sym_cap = cap;
    }
    size_t j = sym_hash(e->addr) & (sym_cap - 1);
    while (sym_tab[j])
        j = (j + 1) & (sym_cap - 1);
    sym_tab[j] = e;
    sym_count++;
}

/* Lexically cleans an absolute or relative path ("a/./b/../c" -> "a/c")
 * and makes it relative to cwd when it lies under it. */
static void clean_path(const char *in, size_t len, const char *cwd,
                       char *out, size_t outlen)
{
    char tmp[4096];
    size_t starts[256];         /* where each kept component begins */
    int dotdot[256];            /* ... and whether it is a kept ".." */
    int depth = 0;
    size_t o = 0;
    int abs = len > 0 && in[0] == '/';
    if (abs)
        tmp[o++] = '/';
    size_t i = 0;
    while (i < len) {
        while (i < len && in[i] == '/')
            i++;
        size_t j = i;
        while (j < len && in[j] != '/')
            j++;
        size_t n = j - i;
        if (n == 0)
            break;
        int up = n == 2 && in[i] == '.' && in[i + 1] == '.';
        if (n == 1 && in[i] == '.') {
            /* "." */
        } else if (up && depth > 0 && !dotdot[depth - 1]) {
            o = starts[--depth];
        } else if (up && abs) {
            /* "/.." is "/" */
        } else if (o + n + 2 < sizeof tmp && depth < 256) {
            size_t at = o;
            if (o > (size_t)abs)
                tmp[o++] = '/';
            starts[depth] = at;
            dotdot[depth++] = up;
            memcpy(tmp + o, in + i, n);
            o += n;
        }
        i = j;
    }
    tmp[o] = '\0';
    size_t cl = cwd ? strlen(cwd) : 0;
    const char *res = tmp;
    if (cl > 1 && strncmp(tmp, cwd, cl) == 0 && tmp[cl] == '/')
        res = tmp + cl + 1;
    snprintf(out, outlen, "%s", res);
}

/* A piece of the tool's output; s NULL: unknown. */
typedef struct slice {
    const char *s;
    size_t n;
} slice;

/* A cache entry from one address's inline chain (innermost first). */
static sym_entry *make_entry(uintptr_t addr, const sym_obj *obj,
                             const slice *funcs, const slice *locs, int nfr,
                             const char *cwd)
{
    char locbuf[32][512];
    size_t strsize = 0;
    if (nfr > 32)
        nfr = 32;
    for (int i = 0; i < nfr; i++) {
        locbuf[i][0] = '\0';
        if (locs[i].s) {
            /* "file:line (discriminator N)" -> cleaned "file:line" */
            size_t n = locs[i].n;
            static const char disc[] = " (discriminator";
            for (size_t k = 0; k + sizeof disc - 1 <= n; k++)
                if (memcmp(locs[i].s + k, disc, sizeof disc - 1) == 0) {
                    n = k;
                    break;
                }
            const char *colon = NULL;
            for (size_t k = n; k > 0; k--)
                if (locs[i].s[k - 1] == ':') {
                    colon = locs[i].s + k - 1;
                    break;
                }
            char path[512];
            size_t plen = colon ? (size_t)(colon - locs[i].s) : n;
            clean_path(locs[i].s, plen, cwd, path, sizeof path);
            snprintf(locbuf[i], sizeof locbuf[i], "%s%.*s", path,
                     colon ? (int)(n - plen) : 0, colon ? colon : "");
            strsize += strlen(locbuf[i]) + 1;
        }
        if (funcs[i].s)
            strsize += funcs[i].n + 1;
    }
    sym_entry *e = lh_raw_malloc(sizeof *e + (size_t)nfr * sizeof e->fr[0] +
                                 strsize);
    if (!e)
        return NULL;
    e->addr = addr;
    e->obj = obj;
    e->nfr = nfr;
    char *str = (char *)&e->fr[nfr];
    for (int i = 0; i < nfr; i++) {
        e->fr[i].func = e->fr[i].loc = NULL;
        if (funcs[i].s) {
            memcpy(str, funcs[i].s, funcs[i].n);
            str[funcs[i].n] = '\0';
            e->fr[i].func = str;
            str += funcs[i].n + 1;
        }
        if (locs[i].s) {
            size_t l = strlen(locbuf[i]);
            memcpy(str, locbuf[i], l + 1);
            e->fr[i].loc = str;
            str += l + 1;
        }
    }
    return e;
}

/* An entry from dladdr alone: the exported symbol containing addr, if
 * any (a hidden function would otherwise borrow the name of the exported
 * one before it). */
static sym_entry *dladdr_entry(uintptr_t addr, const sym_obj *obj)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    slice f = { NULL, 0 }, l = { NULL, 0 };
    if (dladdr1((void *)addr, &info, (void **)&sym, RTLD_DL_SYMENT) &&
        info.dli_sname && info.dli_saddr && sym) {
        uintptr_t s = (uintptr_t)info.dli_saddr;
        if (addr >= s && (sym->st_size == 0 || addr < s + sym->st_size)) {
            f.s = info.dli_sname;
            f.n = strlen(info.dli_sname);
        }
    }
    return make_entry(addr, obj, &f, &l, 1, NULL);
}

static int is_unknown(const char *s, size_t n)
{
    return n >= 2 && s[0] == '?' && s[1] == '?';
}

/* Parses "-a -f -i" output: per address a 0x line, then func/loc pairs.
 * Entries are made for want[0..n) in order. */
static void parse_tool_output(const char *s, size_t len, const sym_obj *obj,
                              const uintptr_t *want, const uintptr_t *rel,
                              int n, const char *cwd)
{
    slice funcs[32], locs[32];
    int k = -1, nfr = 0, expect_loc = 0;
    size_t i = 0;
    for (;;) {
        int at_end = i >= len;
        size_t j = i;
        while (j < len && s[j] != '\n')
            j++;
        const char *line = s + i;
        size_t ln = j - i;
        int is_addr = !at_end && ln > 2 && line[0] == '0' && line[1] == 'x';
        if (is_addr)
            for (size_t c = 2; c < ln; c++)
                if (!isxdigit((unsigned char)line[c]))
                    is_addr = 0;
        if ((is_addr || at_end) && k >= 0 && k < n) {
            if (nfr > 0) {
                sym_entry *e = make_entry(want[k], obj, funcs, locs, nfr,
                                          cwd);
                if (e)
                    cache_put(e);
            }
        }
        if (at_end)
            break;
        if (is_addr) {
            uintptr_t v = (uintptr_t)strtoull(line, NULL, 16);
            k++;
            /* Trust the order, but resync when the tool says otherwise. */
            if (k < n && rel[k] != v)
                for (int m = 0; m < n; m++)
                    if (rel[m] == v) {
                        k = m;
                        break;
                    }
            nfr = 0;
            expect_loc = 0;
        } else if (k >= 0) {
            if (!expect_loc) {
                if (nfr < 32) {
                    funcs[nfr].s = is_unknown(line, ln) ? NULL : line;
                    funcs[nfr].n = ln;
                }
                expect_loc = 1;
            } else {
                if (nfr < 32) {
                    int unk = is_unknown(line, ln);
                    locs[nfr].s = unk ? NULL : line;
                    locs[nfr].n = ln;
                    /* No line info: the name is a symbol-table guess,
                     * only trusted from a full symbol table (dladdr,
                     * which checks sizes, gets a say otherwise). */
                    if (unk && !obj->has_symtab)
                        funcs[nfr].s = NULL;
                    nfr++;
                }
                expect_loc = 0;
            }
        }
        i = j + 1;
    }
}

static int cmp_uintptr(const void *x, const void *y)
{
    uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
    return (a > b) - (a < b);
}

/* Resolves the uncached addresses among addrs (instruction addresses);
 * under sym_mu. */
static void resolve_locked(const uintptr_t *addrs, int n)
{
    uintptr_t *todo = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *todo);
    const sym_obj **objs = lh_raw_malloc((size_t)(n ? n : 1) *
                                         sizeof *objs);
    uintptr_t *rel = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *rel);
    uintptr_t *grp = lh_raw_malloc((size_t)(n ? n : 1) * sizeof *grp);
    if (!todo || !objs || !rel || !grp)
        goto out;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!cache_get(addrs[i]))
            todo[m++] = addrs[i];
    qsort(todo, (size_t)m, sizeof *todo, cmp_uintptr);
    int u = 0;
    for (int i = 0; i < m; i++)
        if (i == 0 || todo[i] != todo[u - 1])
            todo[u++] = todo[i];
    m = u;
    for (int i = 0; i < m; i++)
        objs[i] = obj_for(todo[i]);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    /* One addr2line per object (in chunks that keep argv modest). */
    for (int i = 0; i < m; i++) {
        const sym_obj *o = objs[i];
        if (!o || o->tool_failed || lh_addr2line_missing() ||
            cache_get(todo[i]))
            continue;
        int g = 0;
        for (int j = i; j < m && g < 512; j++) {
            if (objs[j] == o && !cache_get(todo[j])) {
                grp[g] = todo[j];
                rel[g] = todo[j] - o->bias;
                g++;
            }
        }
        lh_buf outb = LH_BUF_INIT;
        if (lh_addr2line(o->path, rel, g, &outb) < 0) {
            ((sym_obj *)o)->tool_failed = 1;
        } else {
            parse_tool_output(outb.data ? outb.data : "", outb.len, o, grp,
                              rel, g, cwd);
            /* A tool that ran but named nothing (no symbols at all) is
             * not asked about this object again. */
            int any = 0;
            for (int j = 0; j < g && !any; j++) {
                sym_entry *e = cache_get(grp[j]);
                any = e && e->fr[0].func;
            }
            if (!any)
                ((sym_obj *)o)->tool_failed = 1;
        }
        lh_buf_free(&outb);
    }
    /* Whatever addr2line could not name gets dladdr's answer. */
    for (int i = 0; i < m; i++) {
        sym_entry *e = cache_get(todo[i]);
        if (e && e->fr[0].func)
            continue;
        sym_entry *d = dladdr_entry(todo[i], objs[i]);
        if (!d)
            continue;
        if (e && d->fr[0].func && e->nfr == 1 && !e->fr[0].func) {
            /* Keep the tool's location, take dladdr's name. */
            slice f = { d->fr[0].func, strlen(d->fr[0].func) };
            slice l = { e->fr[0].loc, e->fr[0].loc ? strlen(e->fr[0].loc)
                                                   : 0 };
            sym_entry *both = make_entry(todo[i], objs[i], &f, &l, 1, NULL);
            lh_raw_free(d);
            if (!both)
                continue;
            /* Replace e in place in the table. */
            for (size_t j = 0; j < sym_cap; j++)
                if (sym_tab[j] == e) {
                    sym_tab[j] = both;
                    lh_raw_free(e);
                    break;
                }
        } else if (!e) {
            cache_put(d);
        } else {
            lh_raw_free(d);
        }
    }
out:
    lh_raw_free(todo);
    lh_raw_free(objs);
    lh_raw_free(rel);
    lh_raw_free(grp);
}

static void resolve(const uintptr_t *addrs, int n)
{
    /* addr2line, posix_spawn and our tables allocate: none of it is the
     * target's, and none of it may be sampled. */
    lh_heap_suspend();
    pthread_mutex_lock(&sym_mu);
    resolve_locked(addrs, n);
    pthread_mutex_unlock(&sym_mu);
    lh_heap_resume();
}

void lh_symbolize_batch(const uintptr_t *pcs, int n, int ret)
{
    if (n <= 0)
        return;
    uintptr_t *a = lh_raw_malloc((size_t)n * sizeof *a);
    if (!a)
        return;
    for (int i = 0; i < n; i++)
        a[i] = ret && pcs[i] ? pcs[i] - 1 : pcs[i];
    resolve(a, n);
    lh_raw_free(a);
}

/* The cache entry for an instruction address (resolving it if needed).
 * Entries are never freed once published, except the in-place upgrade
 * above, which happens before anyone can have seen the old one. */
const sym_entry *lh_sym_entry(uintptr_t addr)
{
    pthread_mutex_lock(&sym_mu);
    sym_entry *e = cache_get(addr);
    pthread_mutex_unlock(&sym_mu);
    if (e)
        return e;
    resolve(&addr, 1);
    pthread_mutex_lock(&sym_mu);
    e = cache_get(addr);
    pthread_mutex_unlock(&sym_mu);
    return e;
}

/* "libname.so+0x1234" for an address with no better name. */
void lh_sym_offset(const sym_entry *e, uintptr_t addr, char *out,
                   size_t len)
{
    if (e && e->obj)
        snprintf(out, len, "%s+0x%" PRIxPTR, e->obj->name,
                 addr - e->obj->bias);
    else
        snprintf(out, len, "0x%" PRIxPTR, addr);
}

static void symbolize_at(uintptr_t addr, char *func, size_t flen, char *loc,
                         size_t llen)
{
    const sym_entry *e = lh_sym_entry(addr);
    char off[300];
    lh_sym_offset(e, addr, off, sizeof off);
    if (func && flen)
        snprintf(func, flen, "%s", e && e->fr[0].func ? e->fr[0].func : off);
    if (loc && llen)
        snprintf(loc, llen, "%s", e && e->fr[0].loc ? e->fr[0].loc : off);
}

void lh_symbolize(uintptr_t pc, char *func, size_t flen, char *loc,
                  size_t llen)
{
    /* A return address points after the call; the call is what the
     * line table should name. */
    symbolize_at(pc ? pc - 1 : 0, func, flen, loc, llen);
}

void lh_symbolize_func(uintptr_t addr, char *func, size_t flen, char *loc,
                       size_t llen)
{
    symbolize_at(addr, func, flen, loc, llen);
}
