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
 *     -overlay (go-work/probe_import.go.in, named leakhound_probe_import.go
 *     in the package).
 *   - Module mode (the package has a go.mod): go reads a copy of it,
 *     -modfile=go-work/leakhound.mod, with leakhound.dev/probe required
 *     and replaced by leakhound's copy.  Imports no module provides that
 *     are found in a GOPATH tree (Debian's golang-*-dev under
 *     /usr/share/gocode, most without go.mod) are required and replaced
 *     the same way, each given by the overlay a go.mod of its own that
 *     requires nothing: a GOPATH tree is built with what it holds, and
 *     the versions a go.mod there requires (test dependencies included)
 *     are not in it, so offline go could not load them.
 *   - GOPATH mode (no go.mod): GO111MODULE=off, with go-work/gopath first
 *     in GOPATH, holding a link to the probe, and /usr/share/gocode last.
 *
 * The c-archive does not carry the #cgo LDFLAGS and pkg-config libraries
 * its packages declare, nor $CGO_LDFLAGS: go list reads them for the
 * driver's link.  go runs offline (GOPROXY=off); its cache is the user's
 * (GOCACHE).
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
#define MAX_DEPS 256

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
    char dep_path[MAX_DEPS][512];       /* module path */
    char dep_dir[MAX_DEPS][4096];
    char dep_go[MAX_DEPS][32];  /* its go.mod's go version, or "" */
    int ndeps;
} go_build;

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Is dir one of the entries of the colon-separated list? */
static int in_list(const char *list, const char *dir)
{
    size_t len = strlen(dir);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ":");
        if (n == len && strncmp(p, dir, n) == 0)
            return 1;
        p += n + (p[n] ? 1 : 0);
    }
    return 0;
}

/* The environment go runs in; GOPATH mode adds its own two: the probe
 * first, Debian's tree last (as module mode searches it). */
static void go_env(const go_build *g, lh_strv *env)
{
    lh_strv_add(env, "GOPROXY=off");
    lh_strv_add(env, "GOWORK=off");
    lh_strv_add(env, "CGO_ENABLED=1");
    if (!g->module) {
        lh_strv_add(env, "GO111MODULE=off");
        int debian = is_dir(debian_gocode) &&
                     !in_list(g->gopath, debian_gocode);
        lh_strv_add(env, "GOPATH=%s/gopath:%s%s%s", g->work, g->gopath,
                    debian ? ":" : "", debian ? debian_gocode : "");
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
 * each GOPATH-style dependency (in place of its own when it has one). */
static int write_overlay(const go_build *g)
{
    char src[4400], in_pkg[4200];
    /* not a .go file: DIR may be inside the user's module, where
     * `go build ./...` would take a .go file for a package of theirs */
    snprintf(src, sizeof src, "%s/probe_import.go.in", g->work);
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
        char mod[4400], at[4200];
        snprintf(mod, sizeof mod, "%s/dep%d.mod", g->work, i);
        snprintf(at, sizeof at, "%s/go.mod", g->dep_dir[i]);
        lh_buf text = LH_BUF_INIT;
        lh_buf_printf(&text, "// Added by leakhound build for %s, in "
                      "a GOPATH tree: built with what the tree holds.\n"
                      "module %s\n", g->dep_dir[i], g->dep_path[i]);
        if (g->dep_go[i][0])
            lh_buf_printf(&text, "\ngo %s\n", g->dep_go[i]);
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
    /* the first line that is not go's warning ("go: warning: ignoring
     * go.mod in system temp root /tmp") */
    const char *p = lh_buf_str(&res);
    while (rc == 0 && strncmp(p, "go: ", 4) == 0 && strchr(p, '\n'))
        p = strchr(p, '\n') + 1;
    if (rc == 0)
        snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
    lh_buf_free(&res);
    lh_strv_free(&argv);
    return rc;
}

/* The module root of a GOPATH-style import path under src: the shortest
 * prefix (at least host/owner/repo on the code hosts) whose directory has
 * a go.mod, a .git or Go files; the whole path when none has.  Returns the
 * prefix's length, 0 when the path is in no directory of src. */
static size_t gopath_root(const char *src, const char *path)
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
            int root = lh_is_file(probe);
            snprintf(probe, sizeof probe, "%s/.git", dir);
            root = root || access(probe, F_OK) == 0;
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

/* From dir/go.mod, the module path (into mod) and the go version (into
 * ver); each "" when absent. */
static void read_gomod(const char *dir, char *mod, size_t modlen, char *ver,
                       size_t verlen)
{
    char path[4400];
    lh_buf b = LH_BUF_INIT;
    mod[0] = ver[0] = '\0';
    snprintf(path, sizeof path, "%s/go.mod", dir);
    if (lh_read_file(path, &b) < 0) {
        lh_buf_free(&b);
        return;
    }
    for (const char *p = lh_buf_str(&b); *p;) {
        size_t n = strcspn(p, "\n");
        const char *q = p + strspn(p, " \t");
        p += n + (p[n] ? 1 : 0);
        int is_mod = strncmp(q, "module", 6) == 0 &&
                     (q[6] == ' ' || q[6] == '\t');
        int is_go = strncmp(q, "go", 2) == 0 &&
                    (q[2] == ' ' || q[2] == '\t');
        if (!is_mod && !is_go)
            continue;
        q += is_mod ? 6 : 2;
        q += strspn(q, " \t\"");
        size_t v = strcspn(q, " \t\"\r\n");
        const char *comment = strstr(q, "//");
        if (comment && (size_t)(comment - q) < v)
            v = (size_t)(comment - q);
        if (is_go) {        /* 1.N: an older go refuses "1.21.0" */
            v = strspn(q, "0123456789");
            if (q[v] == '.')
                v += 1 + strspn(q + v + 1, "0123456789");
        }
        if (is_mod && v < modlen)
            snprintf(mod, modlen, "%.*s", (int)v, q);
        else if (is_go && v < verlen)
            snprintf(ver, verlen, "%.*s", (int)v, q);
    }
    lh_buf_free(&b);
}

/* The offset of a major version element "vN" (N >= 2) in an import
 * path, 0 when it has none. */
static size_t major_element(const char *path)
{
    for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
        const char *e = p + 1;
        size_t n = strspn(e + 1, "0123456789");
        if (e[0] == 'v' && n && e[1] != '0' && (e[1 + n] == '/' ||
            !e[1 + n]) && !(n == 1 && e[1] == '1'))
            return (size_t)(e - path);
    }
    return 0;
}

/* The version a module path needs in a require line: vN.0.0 for a major
 * version suffix (/vN, gopkg.in's .vN), else v0.0.0. */
static void module_version(const char *path, char *out, size_t len)
{
    const char *end = path + strlen(path), *v = end;
    while (v > path && '0' <= v[-1] && v[-1] <= '9')
        v--;
    int major = v < end && v - path >= 2 && v[-1] == 'v' &&
                (v[-2] == '/' || (v[-2] == '.' &&
                 strncmp(path, "gopkg.in/", 9) == 0)) &&
                !(end - v == 1 && (*v == '0' || *v == '1'));
    snprintf(out, len, "v%.*s.0.0", major ? (int)(end - v) : 1,
             major ? v : "0");
}

/* Adds the GOPATH tree holding import path, if any, as a module.
 * 1 added, 0 not found, -1 added before (go's error will say why). */
static int add_gopath_dep(go_build *g, const char *path)
{
    char trees[8400];
    snprintf(trees, sizeof trees, "%s:%s", g->gopath, debian_gocode);
    for (const char *t = trees; *t;) {
        size_t n = strcspn(t, ":");
        char src[4200], mod[512], ver[32], dir[4400];
        snprintf(src, sizeof src, "%.*s/src", (int)n, t);
        t += n + (t[n] ? 1 : 0);
        size_t len = n ? gopath_root(src, path) : 0, major;
        if (len) {
            snprintf(dir, sizeof dir, "%s/%.*s", src, (int)len, path);
            read_gomod(dir, mod, sizeof mod, ver, sizeof ver);
        } else if (n && (major = major_element(path))) {
            /* X/vN/Y where X's go.mod declares X/vN: GOPATH mode's
             * "minimal module compatibility" (Debian installs such a
             * module under X, with no vN directory) */
            len = major + strcspn(path + major, "/");
            snprintf(dir, sizeof dir, "%s/%.*s", src, (int)major - 1, path);
            read_gomod(dir, mod, sizeof mod, ver, sizeof ver);
            if (strlen(mod) != len || strncmp(mod, path, len) != 0)
                continue;
        } else {
            continue;
        }
        for (int i = 0; i < g->ndeps; i++)
            if (strlen(g->dep_path[i]) == len &&
                strncmp(g->dep_path[i], path, len) == 0)
                return -1;
        if (g->ndeps == MAX_DEPS || len >= sizeof g->dep_path[0]) {
            fprintf(stderr, "leakhound build: note: %.*s not added from "
                    "%s: %s\n", (int)len, path, src, len >= sizeof
                    g->dep_path[0] ? "path too long" : "more than "
                    "256 GOPATH modules");
            return -1;
        }
        int i = g->ndeps++;
        snprintf(g->dep_path[i], sizeof g->dep_path[i], "%.*s", (int)len,
                 path);
        snprintf(g->dep_dir[i], sizeof g->dep_dir[i], "%s", dir);
        snprintf(g->dep_go[i], sizeof g->dep_go[i], "%s", ver);
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
    char version[32];
    module_version(path, version, sizeof version);
    lh_strv_add(&argv, "%s", LH_KIT_GO);
    lh_strv_add(&argv, "mod");
    lh_strv_add(&argv, "edit");
    lh_strv_add(&argv, "-require=%s@%s", path, version);
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
                    "missing {{.ImportPath}}{{\"\\n\"}}{{end}}{{end}}{{end}}");
        lh_strv_add(&argv, ".");
        int rc = lh_build_tool("listing the package's imports", &argv, &env,
                               &res);
        lh_strv_free(&argv);
        lh_strv_free(&env);
        int added = 0;
        lh_buf nowhere = LH_BUF_INIT;
        for (const char *p = lh_buf_str(&res); rc == 0 && *p;) {
            size_t n = strcspn(p, "\n");
            char path[512];
            /* go's own messages ("go: downloading ...") are mixed in */
            int ours = n > 8 && strncmp(p, "missing ", 8) == 0;
            snprintf(path, sizeof path, "%.*s", ours ? (int)n - 8 : 0,
                     ours ? p + 8 : "");
            p += n + (p[n] ? 1 : 0);
            if (!*path || strchr(path, ' ') || strcmp(path, ".") == 0)
                continue;
            int found = add_gopath_dep(g, path);
            if (found == 1) {
                added = 1;
                if (mod_edit(g, g->ndeps - 1) < 0 || write_overlay(g) < 0)
                    rc = -1;
            } else if (found == 0) {
                lh_buf_printf(&nowhere, "leakhound build: note: no module "
                              "provides %s and no GOPATH tree has it\n",
                              path);
            }
        }
        /* said once, after the last round: an import of a GOPATH package
         * shows up only once that package is added */
        if (rc == 0 && !added && nowhere.len)
            fprintf(stderr, "%s  (looked in %s and %s; a GOPATH package's "
                    "go.mod is not read for versions: require what it "
                    "needs in your go.mod)\n", lh_buf_str(&nowhere),
                    g->gopath, debian_gocode);
        lh_buf_free(&nowhere);
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
    char sum[4200], worksum[4400], vendor[4200];
    snprintf(g->modfile, sizeof g->modfile, "%s/leakhound.mod", g->work);
    snprintf(worksum, sizeof worksum, "%s/leakhound.sum", g->work);
    snprintf(sum, sizeof sum, "%.*s.sum", (int)(strlen(gomod) - 4), gomod);
    /* -mod=vendor would want the probe in vendor/modules.txt, which go
     * reads past -overlay: the modules come from the module cache */
    snprintf(vendor, sizeof vendor, "%.*svendor/modules.txt",
             (int)(strlen(gomod) - 6), gomod);
    if (lh_is_file(vendor))
        fprintf(stderr, "leakhound build: note: %s is not used (go would "
                "want leakhound's probe listed there): the modules come "
                "from your module cache\n  (`go mod download` once, with "
                "the network, if it lacks them)\n", vendor);
    if (copy_file(gomod, g->modfile) < 0)
        return -1;
    if (lh_is_file(sum) ? copy_file(sum, worksum) < 0
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
    return lh_build_need_layers(rebuild);
}

/* Adds each line of text to link unless it is there already. */
static void add_new_lines(lh_strv *link, const char *text)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        int seen = 0;
        for (int i = 0; i < link->n && !seen; i++)
            seen = strlen(link->v[i]) == n &&
                   strncmp(link->v[i], p, n) == 0;
        if (n && !seen)
            lh_strv_add(link, "%.*s", (int)n, p);
        p += n + (p[n] ? 1 : 0);
    }
}

/* The #cgo LDFLAGS of the package and its dependencies, the libraries
 * of their #cgo pkg-config packages and $CGO_LDFLAGS, which a c-archive
 * does not carry, onto the driver's link. */
static int cgo_ldflags(const go_build *g, lh_strv *link)
{
    lh_strv argv = {0}, env = {0}, pc = {0};
    lh_buf res = LH_BUF_INIT, libs = LH_BUF_INIT, words = LH_BUF_INIT;
    go_env(g, &env);
    go_cmd(g, &argv, "list");
    lh_strv_add(&argv, "-deps");
    lh_strv_add(&argv, "-f");
    lh_strv_add(&argv, "{{range .CgoLDFLAGS}}ldflag {{.}}{{\"\\n\"}}{{end}}"
                "{{range .CgoPkgConfig}}pkg-config {{.}}{{\"\\n\"}}{{end}}");
    lh_strv_add(&argv, ".");
    int rc = lh_build_tool("listing the package's cgo LDFLAGS", &argv, &env,
                           &res);
    /* go runs $PKG_CONFIG, else pkg-config */
    const char *tool = getenv("PKG_CONFIG");
    lh_strv_add(&pc, "%s", tool && *tool ? tool : "pkg-config");
    lh_strv_add(&pc, "--libs");
    int npc = pc.n;
    for (const char *p = lh_buf_str(&res); rc == 0 && *p;) {
        size_t n = strcspn(p, "\n");
        /* tagged: go's own messages are mixed in */
        if (strncmp(p, "pkg-config ", 11) == 0)
            lh_strv_add(&pc, "%.*s", (int)(n - 11), p + 11);
        else if (strncmp(p, "ldflag ", 7) == 0)
            lh_buf_printf(&words, "%.*s\n", (int)(n - 7), p + 7);
        p += n + (p[n] ? 1 : 0);
    }
    lh_strv none = {0};
    if (rc == 0 && pc.n > npc)
        rc = lh_build_tool("reading the libraries of the package's #cgo "
                           "pkg-config", &pc, &none, &libs);
    /* and $CGO_LDFLAGS, which go adds to every cgo link but go list
     * does not show */
    const char *env_flags = getenv("CGO_LDFLAGS");
    if (env_flags) {
        lh_strv w = {0};
        lh_strv_split(&w, env_flags);
        for (int i = 0; i < w.n; i++)
            lh_buf_printf(&words, "%s\n", w.v[i]);
        lh_strv_free(&w);
    }
    if (rc == 0) {
        add_new_lines(link, lh_buf_str(&words));
        lh_strv lib_words = {0};
        lh_strv_split(&lib_words, lh_buf_str(&libs));
        for (int i = 0; i < lib_words.n; i++)
            add_new_lines(link, lib_words.v[i]);
        lh_strv_free(&lib_words);
    }
    lh_buf_free(&res);
    lh_buf_free(&libs);
    lh_buf_free(&words);
    lh_strv_free(&argv);
    lh_strv_free(&env);
    lh_strv_free(&pc);
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
    if (rc == 0) {
        int err;
        const char *entry = lh_build_defines_entry(archive, &err);
        if (err) {
            rc = -1;
        } else if (entry) {
            fprintf(stderr, "leakhound build: no libFuzzer driver: %s "
                    "exports %s, which the driver defines itself (it "
                    "links your package in).\n  Export the op under "
                    "another name and step that; %s is built for `run`.\n",
                    o->inputs.v[0], entry, lib);
            rc = -1;
        }
    }
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

/* A c-shared library is built from a package main: another package
 * would fail later with go naming leakhound's added file ("found
 * packages main (leakhound_probe_import.go) and ..."). */
static int check_main(const go_build *g)
{
    lh_strv argv = {0}, env = {0};
    lh_buf res = LH_BUF_INIT;
    go_env(g, &env);
    lh_strv_add(&argv, "%s", LH_KIT_GO);
    lh_strv_add(&argv, "list");
    lh_strv_add(&argv, "-e");
    lh_strv_add(&argv, "-f");
    lh_strv_add(&argv, "package {{.Name}}");
    lh_strv_add(&argv, ".");
    int rc = lh_build_tool("reading the package's name", &argv, &env, &res);
    /* the tagged line: go's own messages ("go: downloading") mix in */
    const char *p = lh_buf_str(&res), *name = NULL;
    for (; rc == 0 && *p && !name; p += strcspn(p, "\n"), p += !!*p)
        if (strncmp(p, "package ", 8) == 0)
            name = p + 8;
    size_t n = name ? strcspn(name, "\n") : 0;
    if (n && (n != 4 || strncmp(name, "main", 4) != 0)) {
        fprintf(stderr, "leakhound build: %s is package %.*s: a library "
                "leakhound loads is a package main that //exports its ops "
                "(README \"Your own library\"); write one that calls "
                "yours\n", g->o->inputs.v[0], (int)n, name);
        rc = -1;
    }
    lh_buf_free(&res);
    lh_strv_free(&argv);
    lh_strv_free(&env);
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
        lh_build_default_name(o->name, sizeof o->name, g.pkgdir);
        if (!lh_build_name_ok(o->name)) {
            fprintf(stderr, "leakhound build: %s: '%s' does not make a "
                    "library name (libNAME.so): give --name NAME\n",
                    o->inputs.v[0], o->name);
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
    fflush(stdout);             /* before any error on stderr */
    if (check_main(&g) < 0)
        return LH_EXIT_ERROR;
    if ((g.module ? setup_module(&g, gomod) : setup_gopath(&g)) < 0 ||
        build_all(&g) < 0)
        return LH_EXIT_ERROR;
    return 0;
}
