/*
 * initcmd.c - `leakhound init DIR/libNAME.so`: a starter script for a
 * library, so that a first verdict takes two commands (init, then run).
 *
 * The ops are the library's exported functions (probe/elfsyms.c reads its
 * .dynsym).  Which of them have the libFuzzer shape
 * `int NAME(const uint8_t *, size_t)` only a header can tell: the one go
 * writes next to a c-shared library (libNAME.h), or a C header given with
 * --header or found there.  With a header, only the functions it confirms
 * become workloads; the others are listed, commented out, with their
 * prototype.  Without one, every function becomes a workload with a
 * comment that its shape is assumed.
 */
#include "initcmd.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "elfsyms.h"
#include "exit.h"
#include "file.h"
#include "text.h"

typedef struct init_opts {
    const char *lib;
    const char *out;            /* -o SCRIPT */
    const char *header;         /* --header FILE */
    int force;
} init_opts;

enum { SHAPE_UNDECLARED, SHAPE_OK, SHAPE_OTHER };

typedef struct op {
    const char *name;
    int shape;
    char proto[512];            /* the declaration, one line (header) */
} op;

static int usage(const char *fmt, const char *arg)
{
    fputs("leakhound init: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nusage: leakhound init DIR/libNAME.so [-o SCRIPT] [--header "
          "FILE] [--force]\n", stderr);
    return LH_EXIT_ERROR;
}

static int parse(int argc, char **argv, init_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        int takes = strcmp(k, "-o") == 0 || strcmp(k, "--header") == 0;
        if (takes && i + 1 >= argc)
            return usage("option %s needs a value", k);
        if (strcmp(k, "-o") == 0)
            o->out = argv[++i];
        else if (strcmp(k, "--header") == 0)
            o->header = argv[++i];
        else if (strcmp(k, "--force") == 0)
            o->force = 1;
        else if (k[0] == '-' && k[1])
            return usage("unknown option '%s'", k);
        else if (!o->lib)
            o->lib = k;
        else
            return usage("unexpected argument '%s' (one library at a time)",
                         k);
    }
    if (!o->lib)
        return usage("%s", "no library given");
    return 0;
}

/* Exported, but not an op: the loader's, the Go runtime's and cgo's
 * entry points, leakhound's gauges and Go probe, a libFuzzer target's
 * hooks (LLVMFuzzerTestOneInput is one, but `run` calls it through a
 * workload like any other: keep it). */
static int not_an_op(const char *name, int go)
{
    static const char *const prefixes[] = {
        "_", "leakhound_", "LLVMFuzzerInitialize",
        "LLVMFuzzerCustom", NULL,
    };
    static const char *const go_prefixes[] = {
        "x_cgo_", "crosscall", "fatalf", NULL,
    };
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    for (int i = 0; go && go_prefixes[i]; i++)
        if (strncmp(name, go_prefixes[i], strlen(go_prefixes[i])) == 0)
            return 1;
    return 0;
}

/* Words of s (identifiers and '*'), qualifiers dropped, into w; their
 * count. */
static int words(const char *s, size_t len, char w[][32], int max)
{
    int n = 0;
    for (size_t i = 0; i < len && n < max;) {
        if (s[i] == '*') {
            snprintf(w[n++], 32, "*");
            i++;
        } else if (isalnum((unsigned char)s[i]) || s[i] == '_') {
            size_t j = i;
            while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_'))
                j++;
            snprintf(w[n], 32, "%.*s", (int)(j - i), s + i);
            if (strcmp(w[n], "__attribute__") == 0 ||
                strcmp(w[n], "__declspec") == 0) {
                /* skip it and its balanced parentheses */
                while (j < len && isspace((unsigned char)s[j]))
                    j++;
                for (int depth = 0; j < len; j++) {
                    depth += s[j] == '(' ? 1 : s[j] == ')' ? -1 : 0;
                    if (depth == 0 && s[j] == ')') {
                        j++;
                        break;
                    }
                }
                i = j;
                continue;
            }
            static const char *const drop[] = {
                "const", "restrict", "__restrict", "extern",
                "static", "inline", NULL,
            };
            if (!lh_word_in(w[n], drop))
                n++;
            i = j;
        } else {
            i++;
        }
    }
    return n;
}

/* A parameter declaration's type words, its name (when given) dropped. */
static int param_type(const char *s, size_t len, char w[][32], int max)
{
    static const char *const types[] = {
        "char", "short", "int", "long", "unsigned", "signed", "void",
        "size_t", "ssize_t", "uintptr_t", "uint8_t", "int8_t", "uint64_t",
        "int64_t", "GoUint8", "GoInt8", "GoInt", "GoUint", "GoInt64",
        "GoUint64", "GoUintptr", "GoSlice", "GoString", "*", NULL,
    };
    int n = words(s, len, w, max);
    if (n > 1 && !lh_word_in(w[n - 1], types))
        n--;
    return n;
}

static int joined_is(char w[][32], int n, const char *want)
{
    char b[128] = "";
    for (int i = 0; i < n; i++)
        snprintf(b + strlen(b), sizeof b - strlen(b), "%s%s", i ? " " : "",
                 w[i]);
    return strcmp(b, want) == 0;
}

/* (const) uint8_t *, char *, unsigned char *, void *: a byte pointer. */
static int is_data(char w[][32], int n)
{
    static const char *const ok[] = {
        "uint8_t *", "char *", "unsigned char *", "signed char *",
        "void *", "int8_t *", "GoUint8 *", "GoInt8 *", NULL,
    };
    for (int i = 0; ok[i]; i++)
        if (joined_is(w, n, ok[i]))
            return 1;
    return 0;
}

/* An integer the (data, size) call passes size_t in: register-wide ones,
 * and int (the callee reads the low half of the register); also what an
 * op may return. */
static int is_size(char w[][32], int n)
{
    static const char *const ok[] = {
        "size_t", "ssize_t", "uintptr_t", "uint64_t", "int64_t", "long",
        "unsigned long", "long long", "unsigned long long", "int",
        "unsigned", "unsigned int", "GoInt", "GoUint", "GoInt64",
        "GoUint64", "GoUintptr", NULL,
    };
    for (int i = 0; ok[i]; i++)
        if (joined_is(w, n, ok[i]))
            return 1;
    return 0;
}

static int ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Does the line holding *at start with '#' or hold a // comment? */
static int directive_line(const char *text, const char *at)
{
    const char *ls = at;
    while (ls > text && ls[-1] != '\n')
        ls--;
    const char *le = strchr(at, '\n');
    size_t n = le ? (size_t)(le - ls) : strlen(ls);
    while (n && (*ls == ' ' || *ls == '\t'))
        ls++, n--;
    return (n && *ls == '#') || memmem(ls, n, "//", 2) != NULL;
}

/* The op's declaration in the header text, if any: its shape, and the
 * declaration on one line in o->proto. */
static void classify(op *o, const char *text)
{
    size_t nlen = strlen(o->name);
    for (const char *p = strstr(text, o->name); p;
         p = strstr(p + 1, o->name)) {
        if ((p > text && ident_char(p[-1])) || ident_char(p[nlen]))
            continue;
        const char *paren = p + nlen;
        while (*paren == ' ' || *paren == '\t' || *paren == '\n')
            paren++;
        const char *close = *paren == '(' ? strchr(paren, ')') : NULL;
        if (!close)
            continue;
        if (directive_line(text, p))
            continue;       /* a macro, not a declaration */
        /* the return type: back to the previous ; { } or comment end, or
         * to the line after a directive or a // comment */
        const char *start = p;
        while (start > text && !strchr(";{}", start[-1]) &&
               !(start[-1] == '/' && start - 1 > text && start[-2] == '*') &&
               !(start[-1] == '\n' && start - 1 > text &&
                 directive_line(text, start - 2)))
            start--;
        char w[16][32];
        int n = words(start, (size_t)(p - start), w, 16);
        /* one line for the comment, whitespace folded */
        size_t k = 0;
        for (const char *c = start; c <= close && k + 1 < sizeof o->proto;
             c++) {
            char ch = isspace((unsigned char)*c) ? ' ' : *c;
            if (ch == ' ' && (k == 0 || o->proto[k - 1] == ' '))
                continue;
            o->proto[k++] = ch;
        }
        o->proto[k] = '\0';
        /* int, or any integer: the result only goes to Lua (low half) */
        int ok = n >= 1 && is_size(w, n);
        const char *args = paren + 1, *comma = memchr(args, ',',
                                                      (size_t)(close - args));
        if (ok && comma && !memchr(comma + 1, ',',
                                   (size_t)(close - comma - 1))) {
            char a[8][32], b[8][32];
            int na = param_type(args, (size_t)(comma - args), a, 8);
            int nb = param_type(comma + 1, (size_t)(close - comma - 1), b, 8);
            ok = is_data(a, na) && is_size(b, nb);
        } else {
            ok = 0;
        }
        o->shape = ok ? SHAPE_OK : SHAPE_OTHER;
        return;
    }
    o->shape = SHAPE_UNDECLARED;
}

/* The path of `to` relative to directory `from` (both absolute, without
 * trailing slashes), so the script and its library can move together;
 * `to` itself when they share only the root. */
static void relative(const char *from, const char *to, char *out, size_t len)
{
    if (strcmp(from, "/") == 0) {
        snprintf(out, len, "%s", to + 1);
        return;
    }
    size_t common = 0;      /* where both paths end a component */
    for (size_t i = 0;; i++) {
        if ((from[i] == '/' || from[i] == '\0') && to[i] == '/')
            common = i;
        if (from[i] == '\0' || from[i] != to[i])
            break;
    }
    if (common == 0) {
        snprintf(out, len, "%s", to);   /* nothing shared but the root */
        return;
    }
    size_t k = 0;
    out[0] = '\0';
    for (const char *p = from + common; *p; p++)
        if (*p == '/' && k + 4 < len) {
            memcpy(out + k, "../", 4);
            k += 3;
        }
    snprintf(out + k, len - k, "%s", to + common + 1);
}

static void dir_of(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (slash == path)
        snprintf(out, len, "/");
    else if (slash)
        snprintf(out, len, "%.*s", (int)(slash - path), path);
    else
        snprintf(out, len, ".");
}

/* Lua string literal of s (names and paths: quote and backslash). */
static void lua_str(lh_buf *b, const char *s)
{
    lh_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            lh_buf_putc(b, '\\');
        lh_buf_putc(b, *s);
    }
    lh_buf_putc(b, '"');
}

static void workload(lh_buf *b, const char *lib, const op *o,
                     const char *corpus, int enabled)
{
    const char *c = enabled ? "" : "-- ";
    lh_buf_printf(b, "%sleak.workload ", c);
    lh_buf w = LH_BUF_INIT;
    lh_buf_printf(&w, "%s-%s", lib, o->name);
    lua_str(b, lh_buf_str(&w));
    lh_buf_free(&w);
    lh_buf_printf(b, " {\n%s  target = lib,\n"
                  "%s  warmup = 100, iterations = 5000, samples = 25,\n"
                  "%s  inputs = leak.corpus ", c, c, c);
    lua_str(b, corpus);
    lh_buf_printf(b, ",\n%s  step = lib:fn ", c);
    lua_str(b, o->name);
    lh_buf_printf(b, ",\n%s}\n\n", c);
}

static int write_script(const init_opts *o, const char *script, op *ops,
                        int nops, const char *header, int go,
                        const char *name)
{
    char abs_lib[PATH_MAX], sdir[PATH_MAX], abs_sdir[PATH_MAX];
    char rel_lib[PATH_MAX], corpus[PATH_MAX], seed[PATH_MAX + 16];
    if (!realpath(o->lib, abs_lib)) {
        fprintf(stderr, "leakhound init: cannot resolve '%s': %s\n", o->lib,
                strerror(errno));
        return -1;
    }
    dir_of(script, sdir, sizeof sdir);
    if (lh_mkdir_p(sdir) < 0 || !realpath(sdir, abs_sdir)) {
        fprintf(stderr, "leakhound init: cannot create the directory of "
                "'%s': %s\n", script, strerror(errno));
        return -1;
    }
    relative(abs_sdir, abs_lib, rel_lib, sizeof rel_lib);
    /* the corpus beside the script, one seed unless it has some */
    snprintf(corpus, sizeof corpus, "%s/corpus/%s", sdir, name);
    lh_buf have = LH_BUF_INIT;
    int nseeds = lh_list_dir(corpus, &have);
    lh_buf_free(&have);
    snprintf(seed, sizeof seed, "%s/seed-1", corpus);
    if (nseeds <= 0 && (lh_mkdir_p(corpus) < 0 ||
                        lh_write_atomic(seed, "hello", 5) < 0)) {
        fprintf(stderr, "leakhound init: cannot write the seed '%s': %s\n",
                seed, strerror(errno));
        return -1;
    }
    int enabled = 0;

    lh_buf b = LH_BUF_INIT;
    const char *base = strrchr(script, '/');
    base = base ? base + 1 : script;
    lh_buf_printf(&b,
        "-- %s: a starter script for %s, written by `leakhound init`.\n"
        "--\n"
        "--   leakhound run %s                  every workload, a verdict "
        "each\n"
        "--   leakhound fuzz %s --workload NAME  one op under libFuzzer "
        "(needs a\n"
        "--       coverage build of the library: `leakhound build` makes it,\n"
        "--       `leakhound fuzz` says how when it is missing)\n"
        "--\n"
        "-- One workload per exported op of the libFuzzer shape\n"
        "-- `int NAME(const uint8_t *data, size_t size)`: `step = lib:fn "
        "NAME` calls\n"
        "-- it with each input of corpus/%s/ (files, in name order, "
        "round robin;\n"
        "-- the seed is a placeholder: put real requests there, they are "
        "also what\n"
        "-- fuzzing starts from).  Without an `invariants` field a "
        "workload checks\n"
        "-- the defaults: `stable` on heap.live_bytes, mmap.live_bytes, "
        "proc.fds and\n"
        "-- proc.threads%s (README: Invariants).\n",
        base, o->lib, script, script, name,
        go ? ", plus go.goroutines and go.heap_live_bytes when the "
             "library\n-- links the leakhound Go probe" : "");
    if (header)
        lh_buf_printf(&b, "-- Shapes read from %s.\n", header);
    else
        lh_buf_printf(&b, "-- No header was found (--header FILE gives "
                      "one): each op below is ASSUMED to\n-- take (const "
                      "uint8_t *data, size_t size); delete the workloads "
                      "of those that\n-- do not.\n");
    lh_buf_puts(&b, "\nlocal lib = leak.target ");
    lua_str(&b, rel_lib);
    lh_buf_puts(&b, "\n\n");
    char cdir[PATH_MAX + 16];
    snprintf(cdir, sizeof cdir, "corpus/%s", name);
    for (int i = 0; i < nops; i++) {
        op *p = &ops[i];
        if (p->shape == SHAPE_OK) {
            lh_buf_printf(&b, "-- %s\n", p->proto);
            workload(&b, name, p, cdir, 1);
            enabled++;
        } else if (p->shape == SHAPE_OTHER) {
            lh_buf_printf(&b, "-- %s\n-- is not int NAME(const uint8_t *, "
                          "size_t): a workload needs a wrapper op of that "
                          "shape.\n", p->proto);
            workload(&b, name, p, cdir, 0);
        } else if (!header) {
            lh_buf_printf(&b, "-- %s: shape assumed\n", p->name);
            workload(&b, name, p, cdir, 1);
            enabled++;
        } else {
            lh_buf_printf(&b, "-- %s: not declared in %s; assumed to take "
                          "(data, size) if you enable it\n", p->name,
                          header);
            workload(&b, name, p, cdir, 0);
        }
    }
    if (enabled == 0) {
        fprintf(stderr, "leakhound init: none of the %d exported functions "
                "of '%s' has the shape int NAME(const uint8_t *, size_t) "
                "according to %s: no workload to write\n", nops, o->lib,
                header);
        lh_buf_free(&b);
        return -1;
    }
    if (lh_write_atomic(script, b.data, b.len) < 0) {
        fprintf(stderr, "leakhound init: cannot write '%s': %s\n", script,
                strerror(errno));
        lh_buf_free(&b);
        return -1;
    }
    lh_buf_free(&b);
    printf("wrote %s: %d workload%s (%d exported op%s listed), seeds in "
           "%s\nnext: leakhound run %s\n", script, enabled,
           enabled == 1 ? "" : "s", nops, nops == 1 ? "" : "s", corpus,
           script);
    return 0;
}

int lh_init_cmd(int argc, char **argv)
{
    init_opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    lh_buf names = LH_BUF_INIT, err = LH_BUF_INIT, text = LH_BUF_INIT;
    op *ops = NULL;
    rc = LH_EXIT_ERROR;
    if (lh_elf_exported_functions(o.lib, &names, &err) < 0) {
        fprintf(stderr, "leakhound init: %s\n", lh_buf_str(&err));
        goto out;
    }
    int go = lh_lib_is_go(o.lib);
    char name[256], script[PATH_MAX], header[PATH_MAX];
    lh_target_name(name, sizeof name, o.lib);
    if (o.out)
        snprintf(script, sizeof script, "%s", o.out);
    else
        snprintf(script, sizeof script, "%s.lua", name);
    if (!o.force && access(script, F_OK) == 0) {
        fprintf(stderr, "leakhound init: '%s' exists: not overwritten "
                "(--force replaces it)\n", script);
        goto out;
    }
    /* the header: given, or the one go writes (libNAME.so -> libNAME.h) */
    header[0] = '\0';
    if (o.header) {
        snprintf(header, sizeof header, "%s", o.header);
        if (lh_read_file(header, &text) < 0) {
            fprintf(stderr, "leakhound init: cannot read the header '%s': "
                    "%s\n", header, strerror(errno));
            goto out;
        }
    } else {
        snprintf(header, sizeof header, "%s", o.lib);
        char *dot = strstr(strrchr(header, '/') ? strrchr(header, '/')
                                                : header, ".so");
        if (dot)
            snprintf(dot, sizeof header - (size_t)(dot - header), ".h");
        if (!dot || lh_read_file(header, &text) < 0)
            header[0] = '\0';
    }
    int nops = 0;
    for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1) {
        if (not_an_op(p, go))
            continue;
        ops = lh_xrealloc(ops, (size_t)(nops + 1) * sizeof *ops);
        op *x = &ops[nops];
        memset(x, 0, sizeof *x);
        x->name = p;
        if (header[0])
            classify(x, lh_buf_str(&text));
        if (strcmp(p, "LLVMFuzzerTestOneInput") == 0 &&
            x->shape != SHAPE_OK) {
            /* libFuzzer's entry point has the shape by definition */
            x->shape = SHAPE_OK;
            snprintf(x->proto, sizeof x->proto, "int LLVMFuzzerTestOneInput"
                     "(const uint8_t *data, size_t size) (a libFuzzer "
                     "target)");
        }
        /* a Go library's header declares its package's exports: what it
         * leaves out is cgo's and the runtime's */
        if (!(go && header[0] && x->shape == SHAPE_UNDECLARED))
            nops++;
    }
    if (nops == 0) {
        fprintf(stderr, "leakhound init: '%s' exports no function that "
                "could be an op\n", o.lib);
        goto out;
    }
    if (write_script(&o, script, ops, nops, header[0] ? header : NULL, go,
                     name) == 0)
        rc = LH_EXIT_PASS;
out:
    lh_raw_free(ops);
    lh_buf_free(&names);
    lh_buf_free(&err);
    lh_buf_free(&text);
    return rc;
}
