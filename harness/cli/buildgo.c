/*
 * buildgo.c - `leakhound build go`: a user's Go package (package main,
 * exporting libFuzzer-shaped functions) made into
 *
 *   DIR/libNAME.so                 -buildmode=c-shared, the probe linked in
 *   DIR/fuzz/leakhound-fuzz-NAME   its c-archive with Go's libFuzzer
 *                                  instrumentation linked whole with the
 *                                  libFuzzer driver, as targets/go/fuzz/
 *                                  does for the bundled targets
 *
 * without touching the user's files: everything leakhound adds lives in
 * DIR/go-work/NAME/ and reaches go through its flags.
 *
 *   - The probe's blank import is a file added to the package with
 *     -overlay (go-work/probe_import.go, named leakhound_probe_import.go
 *     in the package).
 *   - Module mode (the package has a go.mod): go reads a copy of it,
 *     -modfile=go-work/leakhound.mod, with leakhound.dev/probe required
 *     and replaced by leakhound's copy.  Imports no module provides that
 *     are found in a GOPATH tree (Debian's golang-*-dev under
 *     /usr/share/gocode has no go.mod files) are required and replaced
 *     the same way, the go.mod they lack given by the overlay.
 *   - GOPATH mode (no go.mod): GO111MODULE=off, with go-work/gopath first
 *     in GOPATH, holding a link to the probe.
 *
 * The c-archive does not carry the #cgo LDFLAGS its packages declare:
 * go list reads them for the driver's link.  go runs offline
 * (GOPROXY=off); its cache is the user's (GOCACHE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit.h"
#include "file.h"
#include "json.h"
#include "text.h"

#include "build_impl.h"
#include "lh_buildkit.h"

#define PROBE_MODULE "leakhound.dev/probe"
#define PROBE_FILE "leakhound_probe_import.go"
#define MAX_DEPS 64

/* What -d=libfuzzer must not instrument: what `go test -fuzz` leaves
 * out, plus the probe and runtime/pprof, which the driver calls while
 * an input runs.  The same list as targets/go/build.sh (keep in step). */
static const char *const no_coverage[] = {
    "context", "internal/fuzz", "reflect", "sync", "sync/atomic",
    "syscall", "time", "testing", "runtime/pprof", "runtime/cgo",
    PROBE_MODULE, NULL,
};

/* Where Debian installs golang-*-dev sources: searched after GOPATH. */
static const char debian_gocode[] = "/usr/share/gocode";

typedef struct go_build {
    const lh_build_opts *o;
    char pkgdir[4096];
    char work[4300];
    char modfile[4400];         /* module mode: the copy of go.mod */
    char overlay[4400];
    char gopath[8192];          /* GOPATH as go reports it */
    int module;                 /* module mode */
    /* GOPATH-style modules added to the copy of go.mod */
    char dep_path[MAX_DEPS][512];
    char dep_dir[MAX_DEPS][4096];
    int dep_gomod[MAX_DEPS];    /* has a go.mod of its own */
    int ndeps;
} go_build;

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The environment go runs in; GOPATH mode adds its own two. */
static void go_env(const go_build *g, lh_strv *env)
{
    lh_strv_add(env, "GOPROXY=off");
    lh_strv_add(env, "GOWORK=off");
    lh_strv_add(env, "CGO_ENABLED=1");
    if (!g->module) {
        lh_strv_add(env, "GO111MODULE=off");
        lh_strv_add(env, "GOPATH=%s/gopath:%s", g->work, g->gopath);
    }
}

/* `go SUBCMD` with the flags that add the probe. */
static void go_cmd(const go_build *g, lh_strv *argv, const char *sub)
{
    lh_strv_add(argv, "%s", LH_KIT_GO);
    lh_strv_add(argv, "%s", sub);
    lh_strv_add(argv, "-buildvcs=false");
    lh_strv_add(argv, "-overlay=%s", g->overlay);
    if (g->module) {
        lh_strv_add(argv, "-modfile=%s", g->modfile);
        lh_strv_add(argv, "-mod=mod");
    }
}

static int write_file(const char *path, const char *text)
{
    if (lh_write_atomic(path, text, strlen(text)) == 0)
        return 0;
    fprintf(stderr, "leakhound build: cannot write %s: %s\n", path,
            strerror(errno));
    return -1;
}

static int copy_file(const char *from, const char *to)
{
    lh_buf data = LH_BUF_INIT;
    int rc = lh_read_file(from, &data);
    if (rc < 0)
        fprintf(stderr, "leakhound build: cannot read %s: %s\n", from,
                strerror(errno));
    else if ((rc = lh_write_atomic(to, data.data, data.len)) < 0)
        fprintf(stderr, "leakhound build: cannot write %s: %s\n", to,
                strerror(errno));
    lh_buf_free(&data);
    return rc;
}

/* The overlay: the probe's import in the package, and a go.mod for
 * each GOPATH-style dependency. */
static int write_overlay(const go_build *g)
{
    char src[4400], in_pkg[4200];
    snprintf(src, sizeof src, "%s/probe_import.go", g->work);
    snprintf(in_pkg, sizeof in_pkg, "%s/" PROBE_FILE, g->pkgdir);
    if (write_file(src, "// Added by leakhound build (go build -overlay): "
                   "links the probe.\npackage main\n\nimport _ \""
                   PROBE_MODULE "\"\n") < 0)
        return -1;
    lh_buf j = LH_BUF_INIT;
    lh_buf_puts(&j, "{\"Replace\": {\n  ");
    lh_json_str(&j, in_pkg);
    lh_buf_puts(&j, ": ");
    lh_json_str(&j, src);
    for (int i = 0; i < g->ndeps; i++) {
        if (g->dep_gomod[i])
            continue;
        char mod[4400], at[4200];
        snprintf(mod, sizeof mod, "%s/dep%d.mod", g->work, i);
        snprintf(at, sizeof at, "%s/go.mod", g->dep_dir[i]);
        lh_buf text = LH_BUF_INIT;
        lh_buf_printf(&text, "// Added by leakhound build: %s has no "
                      "go.mod.\nmodule %s\n", g->dep_dir[i], g->dep_path[i]);
        int rc = write_file(mod, lh_buf_str(&text));
        lh_buf_free(&text);
        if (rc < 0) {
            lh_buf_free(&j);
            return -1;
        }
        lh_buf_puts(&j, ",\n  ");
        lh_json_str(&j, at);
        lh_buf_puts(&j, ": ");
        lh_json_str(&j, mod);
    }
    lh_buf_puts(&j, "\n}}\n");
    int rc = write_file(g->overlay, lh_buf_str(&j));
    lh_buf_free(&j);
    return rc;
}

/* `go env NAME` as the package's directory sees it, into out. */
static int go_env_var(const char *name, char *out, size_t len)
{
    lh_strv argv = {0}, env = {0};
    lh_buf res = LH_BUF_INIT;
    lh_strv_add(&argv, "%s", LH_KIT_GO);
    lh_strv_add(&argv, "env");
    lh_strv_add(&argv, "%s", name);
    int rc = lh_build_tool("reading go's environment", &argv, &env, &res);
    if (rc == 0) {
        size_t n = strcspn(lh_buf_str(&res), "\n");
        snprintf(out, len, "%.*s", (int)n, lh_buf_str(&res));
    }
    lh_buf_free(&res);
    lh_strv_free(&argv);
    return rc;
}

/* The module root of a GOPATH-style import path under src: the shortest
 * prefix (at least host/owner/repo on the code hosts) whose directory has
 * a go.mod, a .git or Go files; the whole path when none has.  Returns the
 * prefix's length, 0 when the path is in no directory of src. */
static size_t gopath_root(const char *src, const char *path, int *gomod)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/%s", src, path);
    if (!is_dir(dir))
        return 0;
    static const char *const hosts[] = {
        "github.com/", "gitlab.com/", "bitbucket.org/", "golang.org/x/",
        NULL,
    };
    /* a domain first (example.com/x): at least two elements */
    int min = memchr(path, '.', strcspn(path, "/")) ? 2 : 1;
    for (int i = 0; hosts[i]; i++)
        if (strncmp(path, hosts[i], strlen(hosts[i])) == 0)
            min = 3;
    size_t len = 0;
    for (int k = 1;; k++) {
        const char *end = path + len + (len ? 1 : 0);
        end += strcspn(end, "/");
        len = (size_t)(end - path);
        if (k >= min || !*end) {
            snprintf(dir, sizeof dir, "%s/%.*s", src, (int)len, path);
            char probe[4500];
            snprintf(probe, sizeof probe, "%s/go.mod", dir);
            *gomod = is_file(probe);
            snprintf(probe, sizeof probe, "%s/.git", dir);
            int root = *gomod || access(probe, F_OK) == 0;
            lh_buf names = LH_BUF_INIT;
            if (!root && lh_list_dir(dir, &names) > 0)
                for (const char *p = lh_buf_str(&names); *p;
                     p += strlen(p) + 1) {
                    size_t n = strlen(p);
                    if (n > 3 && strcmp(p + n - 3, ".go") == 0)
                        root = 1;
                }
            lh_buf_free(&names);
            if (root || !*end)
                return len;
        }
    }
}

/* Adds the GOPATH tree holding import path, if any, as a module.
 * 1 added, 0 not found, -1 added before (go's error will say why). */
static int add_gopath_dep(go_build *g, const char *path)
{
    char trees[8400];
    snprintf(trees, sizeof trees, "%s:%s", g->gopath, debian_gocode);
    for (const char *t = trees; *t;) {
        size_t n = strcspn(t, ":");
        char src[4200];
        snprintf(src, sizeof src, "%.*s/src", (int)n, t);
        t += n + (t[n] ? 1 : 0);
        int gomod = 0;
        size_t len = n ? gopath_root(src, path, &gomod) : 0;
        if (!len)
            continue;
        for (int i = 0; i < g->ndeps; i++)
            if (strlen(g->dep_path[i]) == len &&
                strncmp(g->dep_path[i], path, len) == 0)
                return -1;
        if (g->ndeps == MAX_DEPS || len >= sizeof g->dep_path[0])
            return -1;
        int i = g->ndeps++;
        snprintf(g->dep_path[i], sizeof g->dep_path[i], "%.*s", (int)len,
                 path);
        snprintf(g->dep_dir[i], sizeof g->dep_dir[i], "%s/%s", src,
                 g->dep_path[i]);
        g->dep_gomod[i] = gomod;
        return 1;
    }
    return 0;
}

/* Requires and replaces dependency i (or the probe, i < 0) in the copy
 * of go.mod. */
static int mod_edit(const go_build *g, int i)
{
    lh_strv argv = {0}, env = {0};
    go_env(g, &env);
    const char *path = i < 0 ? PROBE_MODULE : g->dep_path[i];
    const char *dir = i < 0 ? LH_KIT_GO_PROBE : g->dep_dir[i];
    lh_strv_add(&argv, "%s", LH_KIT_GO);
    lh_strv_add(&argv, "mod");
    lh_strv_add(&argv, "edit");
    lh_strv_add(&argv, "-require=%s@v0.0.0", path);
    lh_strv_add(&argv, "-replace=%s=%s", path, dir);
    lh_strv_add(&argv, "%s", g->modfile);
    int rc = lh_build_tool(i < 0 ? "adding the probe to a copy of go.mod"
                                 : "adding a GOPATH package to a copy of "
                                   "go.mod", &argv, &env, NULL);
    lh_strv_free(&argv);
    lh_strv_free(&env);
    return rc;
}

/* Module mode: the packages go cannot find that a GOPATH tree has are
 * added, until none is left (go's own error then says what is wrong). */
static int resolve_gopath_deps(go_build *g)
{
    for (int round = 0; round < MAX_DEPS; round++) {
        lh_strv argv = {0}, env = {0};
        lh_buf res = LH_BUF_INIT;
        go_env(g, &env);
        go_cmd(g, &argv, "list");
        lh_strv_add(&argv, "-e");
        lh_strv_add(&argv, "-deps");
        lh_strv_add(&argv, "-f");
        /* packages that fail to load, the main module's own excepted */
        lh_strv_add(&argv, "{{if .Error}}{{if not .Goroot}}"
                    "{{if not (and .Module .Module.Main)}}"
                    "{{.ImportPath}}{{\"\\n\"}}{{end}}{{end}}{{end}}");
        lh_strv_add(&argv, ".");
        int rc = lh_build_tool("listing the package's imports", &argv, &env,
                               &res);
        lh_strv_free(&argv);
        lh_strv_free(&env);
        int added = 0;
        for (const char *p = lh_buf_str(&res); rc == 0 && *p;) {
            size_t n = strcspn(p, "\n");
            char path[512];
            snprintf(path, sizeof path, "%.*s", (int)n, p);
            p += n + (p[n] ? 1 : 0);
            if (!*path || strchr(path, ' ') || strcmp(path, ".") == 0)
                continue;
            int found = add_gopath_dep(g, path);
            if (found == 1) {
                added = 1;
                if (mod_edit(g, g->ndeps - 1) < 0 || write_overlay(g) < 0)
                    rc = -1;
            } else if (found == 0 && round == 0) {
                fprintf(stderr, "leakhound build: note: no module provides "
                        "%s and no GOPATH tree has it\n  (looked in %s and "
                        "%s)\n", path, g->gopath, debian_gocode);
            }
        }
        lh_buf_free(&res);
        if (rc < 0)
            return -1;
        if (!added)
            return 0;
    }
    return 0;
}

static int setup_module(go_build *g, const char *gomod)
{
    char sum[4200], worksum[4400];
    snprintf(g->modfile, sizeof g->modfile, "%s/leakhound.mod", g->work);
    snprintf(worksum, sizeof worksum, "%s/leakhound.sum", g->work);
    snprintf(sum, sizeof sum, "%.*s.sum", (int)(strlen(gomod) - 4), gomod);
    if (copy_file(gomod, g->modfile) < 0)
        return -1;
    if (is_file(sum) ? copy_file(sum, worksum) < 0
                     : write_file(worksum, "") < 0)
        return -1;
    if (mod_edit(g, -1) < 0)
        return -1;
    return resolve_gopath_deps(g);
}

static int setup_gopath(go_build *g)
{
    char dir[4400], link[4500];
    snprintf(dir, sizeof dir, "%s/gopath/src/leakhound.dev", g->work);
    snprintf(link, sizeof link, "%s/probe", dir);
    if (lh_build_mkdir(dir) < 0)
        return -1;
    unlink(link);
    if (symlink(LH_KIT_GO_PROBE, link) < 0) {
        fprintf(stderr, "leakhound build: cannot link %s to %s: %s\n",
                link, LH_KIT_GO_PROBE, strerror(errno));
        return -1;
    }
    return 0;
}

static int go_pieces(void)
{
    const char *rebuild = "build leakhound: ninja -C " LH_KIT_BUILD_DIR;
    if (lh_build_need(LH_KIT_GO, "go", "install Go (apt install golang-go), "
                      "then meson setup --reconfigure " LH_KIT_BUILD_DIR)
        < 0)
        return -1;
    if (LH_KIT_FUZZING == 0)
        return lh_build_need("", "libFuzzer", "configure leakhound with "
                             "clang: CC=clang meson setup BUILD (and "
                             "libclang-rt-14-dev installed)");
    if (lh_build_need(LH_KIT_GO_PROBE "/probe.go", "leakhound's Go probe",
                      "the leakhound source tree has moved or is "
                      "incomplete") < 0 ||
        lh_build_need(LH_KIT_FUZZ_DRIVER, "leakhound's libFuzzer driver "
                      "library", rebuild) < 0)
        return -1;
    lh_strv layers = {0};
    lh_strv_split(&layers, LH_KIT_LAYERS);
    int rc = 0;
    for (int i = 0; i < layers.n && rc == 0; i++)
        rc = lh_build_need(layers.v[i], "a leakhound layer library",
                           rebuild);
    lh_strv_free(&layers);
    return rc;
}

/* The #cgo LDFLAGS of the package and its dependencies, which a
 * c-archive does not carry, onto the driver's link. */
static int cgo_ldflags(const go_build *g, lh_strv *link)
{
    lh_strv argv = {0}, env = {0};
    lh_buf res = LH_BUF_INIT;
    go_env(g, &env);
    go_cmd(g, &argv, "list");
    lh_strv_add(&argv, "-deps");
    lh_strv_add(&argv, "-f");
    lh_strv_add(&argv, "{{range .CgoLDFLAGS}}{{.}}{{\"\\n\"}}{{end}}");
    lh_strv_add(&argv, ".");
    int rc = lh_build_tool("listing the package's cgo LDFLAGS", &argv, &env,
                           &res);
    for (const char *p = lh_buf_str(&res); rc == 0 && *p;) {
        size_t n = strcspn(p, "\n");
        int seen = 0;
        for (int i = 0; i < link->n && !seen; i++)
            seen = strlen(link->v[i]) == n &&
                   strncmp(link->v[i], p, n) == 0;
        if (n && !seen)
            lh_strv_add(link, "%.*s", (int)n, p);
        p += n + (p[n] ? 1 : 0);
    }
    lh_buf_free(&res);
    lh_strv_free(&argv);
    lh_strv_free(&env);
    return rc;
}

/* The two go builds and the driver's link. */
static int build_all(const go_build *g)
{
    const lh_build_opts *o = g->o;
    char lib[4400], fuzzdir[4200], archive[4400], drv[4400];
    snprintf(lib, sizeof lib, "%s/lib%s.so", o->out, o->name);
    snprintf(fuzzdir, sizeof fuzzdir, "%s/fuzz", o->out);
    snprintf(archive, sizeof archive, "%s/lib%s.a", fuzzdir, o->name);
    snprintf(drv, sizeof drv, "%s/leakhound-fuzz-%s", fuzzdir, o->name);
    if (lh_build_clean(o) < 0 || lh_build_mkdir(fuzzdir) < 0)
        return -1;
    lh_strv env = {0}, shared = {0}, arch = {0}, link = {0}, none = {0};
    go_env(g, &env);
    go_cmd(g, &shared, "build");
    lh_strv_add(&shared, "-buildmode=c-shared");
    lh_strv_add(&shared, "-o");
    lh_strv_add(&shared, "%s", lib);
    lh_strv_add(&shared, ".");
    /* -tags libfuzzer registers the counters and forwards the compare
     * hooks to libFuzzer; -d=libfuzzer instruments (targets/go/fuzz/) */
    go_cmd(g, &arch, "build");
    lh_strv_add(&arch, "-buildmode=c-archive");
    lh_strv_add(&arch, "-tags=libfuzzer");
    lh_strv_add(&arch, "-gcflags=all=-d=libfuzzer");
    for (int i = 0; no_coverage[i]; i++)
        lh_strv_add(&arch, "-gcflags=%s=", no_coverage[i]);
    lh_strv_add(&arch, "-o");
    lh_strv_add(&arch, "%s", archive);
    lh_strv_add(&arch, ".");
    /* nothing references the archive (the driver dlsyms its own
     * executable): linked whole, and exported */
    lh_strv_split(&link, LH_KIT_CC);
    lh_strv_add(&link, "-o");
    lh_strv_add(&link, "%s", drv);
    lh_strv_add(&link, "-Wl,--export-dynamic");
    lh_strv_add(&link, "-Wl,--whole-archive");
    lh_strv_add(&link, "%s", LH_KIT_FUZZ_DRIVER);
    lh_strv_add(&link, "%s", archive);
    lh_strv_split(&link, LH_KIT_LAYERS);
    lh_strv_add(&link, "-Wl,--no-whole-archive");
    lh_strv_split(&link, LH_KIT_FUZZ_ENGINE);
    for (int i = 0; i < o->libs.n; i++)
        lh_strv_add(&link, "%s", o->libs.v[i]);
    int rc = lh_build_tool("building the library (go, c-shared)", &shared,
                           &env, NULL);
    if (rc == 0)
        rc = lh_build_tool("building the instrumented c-archive (go)",
                           &arch, &env, NULL);
    if (rc == 0)
        rc = cgo_ldflags(g, &link);
    lh_strv_split(&link, LH_KIT_LUA_LIBS);
    lh_strv_split(&link, "-pthread -ldl -lm");
    if (rc == 0)
        rc = lh_build_tool("linking the libFuzzer driver", &link, &none,
                           NULL);
    if (rc == 0)
        printf("built %s\n      %s (libFuzzer driver, Go coverage)\n", lib,
               drv);
    lh_strv_free(&env);
    lh_strv_free(&shared);
    lh_strv_free(&arch);
    lh_strv_free(&link);
    return rc;
}

int lh_build_go(lh_build_opts *o)
{
    static go_build g;
    memset(&g, 0, sizeof g);
    g.o = o;
    if (lh_build_abspath(o->inputs.v[0], g.pkgdir, sizeof g.pkgdir) < 0)
        return LH_EXIT_ERROR;
    if (!is_dir(g.pkgdir)) {
        fprintf(stderr, "leakhound build: %s is not a directory: give the "
                "package's directory\n", o->inputs.v[0]);
        return LH_EXIT_ERROR;
    }
    if (!o->name[0]) {
        lh_target_name(o->name, sizeof o->name, g.pkgdir);
        if (!lh_build_name_ok(o->name)) {
            fprintf(stderr, "leakhound build: '%s' does not make a library "
                    "name: give --name NAME\n", o->name);
            return LH_EXIT_ERROR;
        }
    }
    if (go_pieces() < 0)
        return LH_EXIT_ERROR;
    snprintf(g.work, sizeof g.work, "%s/go-work/%s", o->out, o->name);
    snprintf(g.overlay, sizeof g.overlay, "%s/overlay.json", g.work);
    char in_pkg[4200];
    snprintf(in_pkg, sizeof in_pkg, "%s/" PROBE_FILE, g.pkgdir);
    if (access(in_pkg, F_OK) == 0) {
        fprintf(stderr, "leakhound build: %s exists: leakhound adds a file "
                "of that name to the package (an overlay); rename yours\n",
                in_pkg);
        return LH_EXIT_ERROR;
    }
    /* go finds the module (or none) from its working directory */
    if (chdir(g.pkgdir) < 0) {
        fprintf(stderr, "leakhound build: cannot enter %s: %s\n", g.pkgdir,
                strerror(errno));
        return LH_EXIT_ERROR;
    }
    char gomod[4096];
    if (lh_build_mkdir(g.work) < 0 || write_overlay(&g) < 0 ||
        go_env_var("GOMOD", gomod, sizeof gomod) < 0 ||
        go_env_var("GOPATH", g.gopath, sizeof g.gopath) < 0)
        return LH_EXIT_ERROR;
    g.module = gomod[0] && strcmp(gomod, "/dev/null") != 0;
    printf("leakhound build: %s in %s\n", g.pkgdir, g.module
           ? "module mode" : "GOPATH mode (no go.mod)");
    if ((g.module ? setup_module(&g, gomod) : setup_gopath(&g)) < 0 ||
        build_all(&g) < 0)
        return LH_EXIT_ERROR;
    return 0;
}
