/*
 * buildcmd.c - `leakhound build c|go`: a user's library made into what
 * `run` and `fuzz` take, laid out where `fuzz` looks for it:
 *
 *   DIR/libNAME.so                 the library `run` loads
 *   DIR/fuzz/libNAME.so            C: its copy with libFuzzer coverage
 *   DIR/fuzz/leakhound-fuzz-NAME   Go: its libFuzzer driver, Go coverage
 *   DIR/afl/leakhound-afl-NAME     C: its AFL++ driver (+ .dict)
 *   DIR/leakhound-NAME.sha1        which of them were built with the
 *                                  library (buildstamp.h)
 *
 * This file reads the command line and runs tools; the recipes are in
 * buildc.c and buildgo.c.  Every tool that fails is exit 2 with the
 * command and its output.
 */
#include "buildcmd.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "child.h"
#include "exit.h"
#include "file.h"
#include "text.h"

#include "build_impl.h"
#include "buildstamp.h"
#include "lh_buildkit.h"
#include "help.h"


void lh_strv_add(lh_strv *s, const char *fmt, ...)
{
    if (s->n + 2 > s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        char **v = lh_xcalloc((size_t)cap, sizeof *v);
        if (s->n)
            memcpy(v, s->v, (size_t)s->n * sizeof *v);
        lh_raw_free(s->v);
        s->v = v;
        s->cap = cap;
    }
    lh_buf b = LH_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    lh_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    s->v[s->n] = lh_xstrdup(lh_buf_str(&b));
    s->v[++s->n] = NULL;
    lh_buf_free(&b);
}

void lh_strv_split(lh_strv *s, const char *words)
{
    static const char space[] = " \t\n";
    for (const char *p = words + strspn(words, space); *p;) {
        size_t n = strcspn(p, space);
        lh_strv_add(s, "%.*s", (int)n, p);
        p += n;
        p += strspn(p, space);
    }
}

void lh_strv_free(lh_strv *s)
{
    for (int i = 0; i < s->n; i++)
        lh_raw_free(s->v[i]);
    lh_raw_free(s->v);
    memset(s, 0, sizeof *s);
}

static void collect(void *ctx, int i, const char *data, size_t n)
{
    (void)i;
    lh_buf_add(ctx, data, n);
}

int lh_build_tool(const char *what, const lh_strv *argv, const lh_strv *env,
                  lh_buf *capture)
{
    lh_buf cmd = LH_BUF_INIT, out = LH_BUF_INIT;
    lh_buf_puts(&cmd, "$");
    for (int i = 0; i < env->n; i++) {
        lh_buf_putc(&cmd, ' ');
        lh_shell_quote(&cmd, env->v[i]);
    }
    for (int i = 0; i < argv->n; i++) {
        lh_buf_putc(&cmd, ' ');
        lh_shell_quote(&cmd, argv->v[i]);
    }
    if (!capture) {
        printf("%s\n", lh_buf_str(&cmd));
        fflush(stdout);
    }
    lh_child_spec spec = {
        .argv = argv->v, .env = env->n ? env->v : NULL,
        .in = LH_CHILD_NULL, .out = LH_CHILD_PIPE, .err = LH_CHILD_STDOUT,
    };
    lh_child c;
    int rc = 0;
    if (lh_child_start(&c, &spec) < 0) {
        if (errno == EINTR) {   /* interrupted: lh_build_cmd says so */
            lh_buf_free(&cmd);
            return -1;
        }
        fprintf(stderr, "leakhound build: cannot run %s (%s): %s\n%s\n",
                argv->v[0], what, strerror(errno), lh_buf_str(&cmd));
        rc = -1;
    } else {
        lh_child_wait(&c, 0, collect, &out);
        if (lh_child_interrupted()) {
            rc = -1;            /* lh_build_cmd says so */
        } else if (c.end != LH_CHILD_EXITED || c.code != 0) {
            fprintf(stderr, "leakhound build: %s failed (%s %d):\n%s\n%s",
                    what, c.end == LH_CHILD_EXITED ? "exit status"
                                                   : "signal",
                    c.code, lh_buf_str(&cmd), lh_buf_str(&out));
            if (out.len && out.data[out.len - 1] != '\n')
                fputc('\n', stderr);
            rc = -1;
        } else if (capture) {
            lh_buf_add(capture, out.data, out.len);
        } else if (out.len) {
            fputs(lh_buf_str(&out), stdout);   /* warnings, notes */
        }
    }
    lh_buf_free(&cmd);
    lh_buf_free(&out);
    return rc;
}

const char *lh_build_defines_entry(const char *file, int *err)
{
    static const char *const entries[] = {
        "LLVMFuzzerTestOneInput", "LLVMFuzzerInitialize", NULL,
    };
    lh_strv argv = {0}, env = {0};
    lh_buf out = LH_BUF_INIT;
    lh_strv_add(&argv, "nm");
    lh_strv_add(&argv, "-g");
    lh_strv_add(&argv, "--defined-only");
    lh_strv_add(&argv, "%s", file);
    const char *found = NULL;
    *err = lh_build_tool("listing the symbols an object defines", &argv,
                         &env, &out);
    for (const char *p = lh_buf_str(&out); !*err && !found && *p;) {
        size_t n = strcspn(p, "\n");
        for (int i = 0; entries[i] && !found; i++) {
            size_t e = strlen(entries[i]);
            if (n > e && p[n - e - 1] == ' ' &&
                strncmp(p + n - e, entries[i], e) == 0)
                found = entries[i];
        }
        p += n + (p[n] ? 1 : 0);
    }
    lh_buf_free(&out);
    lh_strv_free(&argv);
    return found;
}

int lh_build_need(const char *path, const char *what, const char *fix)
{
    struct stat st;
    if (path[0] && stat(path, &st) == 0)
        return 0;
    if (path[0])
        fprintf(stderr, "leakhound build: %s is missing: %s\n  %s\n", what,
                path, fix);
    else
        fprintf(stderr, "leakhound build: this leakhound was built without "
                "%s\n  %s\n", what, fix);
    return -1;
}

int lh_build_need_layers(const char *fix)
{
    lh_strv layers = {0};
    lh_strv_split(&layers, LH_KIT_LAYERS);
    int rc = 0;
    for (int i = 0; i < layers.n && rc == 0; i++)
        rc = lh_build_need(layers.v[i], "a leakhound layer library", fix);
    lh_strv_free(&layers);
    return rc;
}

int lh_build_clean(const lh_build_opts *o)
{
    static const char *const outputs[] = {
        "lib%s.so", "lib%s.h", "fuzz/lib%s.so", "fuzz/lib%s.a",
        "fuzz/lib%s.h", "fuzz/leakhound-fuzz-%s", "afl/leakhound-afl-%s",
        "afl/leakhound-afl-%s.dict", "leakhound-%s.sha1", NULL,
    };
    for (int i = 0; outputs[i]; i++) {
        lh_buf path = LH_BUF_INIT;
        lh_buf_printf(&path, "%s/", o->out);
        lh_buf_printf(&path, outputs[i], o->name);
        int err = unlink(lh_buf_str(&path)) < 0 ? errno : 0;
        if (err && err != ENOENT)
            fprintf(stderr, "leakhound build: cannot remove the old %s: "
                    "%s\n", lh_buf_str(&path), strerror(err));
        lh_buf_free(&path);
        if (err && err != ENOENT)
            return -1;
    }
    return 0;
}

int lh_build_mkdir(const char *dir)
{
    if (lh_mkdir_p(dir) == 0)
        return 0;
    fprintf(stderr, "leakhound build: cannot make directory %s: %s\n", dir,
            strerror(errno));
    return -1;
}

int lh_build_abspath(const char *path, char *out, size_t len)
{
    char buf[PATH_MAX];
    if (!realpath(path, buf)) {
        fprintf(stderr, "leakhound build: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (strlen(buf) >= len) {
        fprintf(stderr, "leakhound build: path too long: %s\n", buf);
        return -1;
    }
    snprintf(out, len, "%s", buf);
    return 0;
}

static int bad(const char *fmt, const char *arg)
{
    fputs("leakhound build: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see leakhound build --help)\n", stderr);
    return LH_EXIT_ERROR;
}

/* The default NAME: the file's or directory's name up to its first dot.
 * Not lh_target_name, which reads NAME back from libNAME.so: a package
 * directory "lib" or "library" is NAME "lib" or "library" (liblib.so),
 * never "" or "rary". */
void lh_build_default_name(char *out, size_t len, const char *path)
{
    const char *file = strrchr(path, '/');
    file = file ? file + 1 : path;
    snprintf(out, len, "%.*s", (int)strcspn(file, "."), file);
}

/* NAME becomes libNAME.so and leakhound-fuzz-NAME, and `fuzz` reads it
 * back from the file name (lh_target_name): no dots, no slashes. */
int lh_build_name_ok(const char *name)
{
    if (!*name)
        return 0;
    for (const char *p = name; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
              ('0' <= *p && *p <= '9') || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static int parse(lh_build_opts *o, int go, int argc, char **argv)
{
    const char *out = "leakhound-build";
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0 ||
                    strcmp(a, "--name") == 0 || strcmp(a, "--libs") == 0 ||
                    strcmp(a, "--cflags") == 0;
        if (takes && !v)
            return bad("option %s needs a value", a);
        if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
            out = argv[++i];
        } else if (strcmp(a, "--name") == 0) {
            if (!lh_build_name_ok(v) || strlen(v) >= sizeof o->name)
                return bad("--name wants letters, digits, '_' or '-' "
                           "(it becomes libNAME.so), got '%s'", v);
            snprintf(o->name, sizeof o->name, "%s", argv[++i]);
        } else if (strcmp(a, "--libs") == 0) {
            lh_strv_split(&o->libs, argv[++i]);
        } else if (strcmp(a, "--cflags") == 0 && !go) {
            lh_strv_split(&o->cflags, argv[++i]);
        } else if (strcmp(a, "--no-afl") == 0 && !go) {
            o->no_afl = 1;
        } else if (a[0] == '-' && a[1]) {
            return bad("unknown option '%s'", a);
        } else {
            lh_strv_add(&o->inputs, "%s", a);
        }
    }
    if (o->inputs.n == 0)
        return bad("%s", go ? "no package directory given"
                            : "no source or object file given");
    if (go && o->inputs.n > 1)
        return bad("one package directory at a time, got also '%s'",
                   o->inputs.v[1]);
    if (lh_build_mkdir(out) < 0 ||
        lh_build_abspath(out, o->out, sizeof o->out) < 0)
        return LH_EXIT_ERROR;
    return 0;
}

/* Records which fuzzing builds were made with DIR/libNAME.so (those a
 * failed step did not make are not there), so `fuzz` can tell when the
 * library is rebuilt without them (buildstamp.h). */
static int stamp(const lh_build_opts *o)
{
    char lib[4400], path[4400];
    snprintf(lib, sizeof lib, "%s/lib%s.so", o->out, o->name);
    if (!lh_is_file(lib))
        return 0;
    if (lh_stamp_write(o->out, o->name) == 0)
        return 0;
    lh_stamp_path(path, sizeof path, o->out, o->name);
    fprintf(stderr, "leakhound build: cannot write %s: %s\n", path,
            strerror(errno));
    return -1;
}

int lh_build_cmd(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "--help") == 0 ||
        strcmp(argv[2], "-h") == 0) {
        fputs(lh_help_page("build"), argc < 3 ? stderr : stdout);
        return argc < 3 ? LH_EXIT_ERROR : 0;
    }
    for (int i = 3; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(lh_help_page("build"), stdout);
            return 0;
        }
    int go = strcmp(argv[2], "go") == 0;
    if (!go && strcmp(argv[2], "c") != 0)
        return bad("the language is c or go, not '%s'", argv[2]);
    lh_build_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse(&o, go, argc, argv);
    int parsed = rc == 0;
    if (parsed)
        rc = go ? lh_build_go(&o) : lh_build_c(&o);
    int sig = lh_child_interrupted();
    if (parsed && !sig && stamp(&o) < 0)
        rc = LH_EXIT_ERROR;
    if (sig) {
        fprintf(stderr, "leakhound build: interrupted (signal %d): %s is "
                "incomplete\n", sig, o.out);
        rc = 128 + sig;
    }
    lh_strv_free(&o.inputs);
    lh_strv_free(&o.cflags);
    lh_strv_free(&o.libs);
    return rc;
}
