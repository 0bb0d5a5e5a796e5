/* regress.c - regression cases on disk: loading, filing and replaying. */
#include "regress.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "child.h"
#include "file.h"
#include "sha1.h"
#include "text.h"

#define CASE_FILE "case.json"
#define INPUT_FILE "input"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- loading ---------------------------------------------------------- */

static int load_one(const char *dir, const char *id, lh_case *c,
                    lh_buf *errors)
{
    char path[4300], why[4600];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    snprintf(c->input, sizeof c->input, "%s/" INPUT_FILE, dir);
    snprintf(path, sizeof path, "%s/" CASE_FILE, dir);
    c->meta = lh_json_load(path, why, sizeof why);
    if (!c->meta) {
        lh_buf_printf(errors, "%s\n", why);
        return -1;
    }
    static const char *required[] = {
        "workload", "script", "signature", "metric",
    };
    const char **slot[] = {
        &c->workload, &c->script, &c->signature, &c->metric,
    };
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        *slot[i] = lh_json_gets(c->meta, required[i], NULL);
        if (!*slot[i] || !**slot[i]) {
            lh_buf_printf(errors, "%s: missing string field '%s'\n", path,
                          required[i]);
            lh_json_free(c->meta);
            c->meta = NULL;
            return -1;
        }
    }
    c->target = lh_json_gets(c->meta, "target", NULL);
    if (access(c->input, R_OK) < 0) {
        lh_buf_printf(errors, "%s: %s\n", c->input, strerror(errno));
        lh_json_free(c->meta);
        c->meta = NULL;
        return -1;
    }
    return 0;
}

int lh_cases_load(const char *corpora, lh_case **out, lh_buf *errors)
{
    lh_case *cases = NULL;
    int n = 0;
    lh_buf targets = LH_BUF_INIT;
    *out = NULL;
    if (lh_list_dir(corpora, &targets) < 0) {
        int e = errno;
        if (e != ENOENT)
            lh_buf_printf(errors, "%s: cannot list the corpora: %s\n",
                          corpora, strerror(e));
        lh_buf_free(&targets);
        return 0;   /* no corpora: no cases (callers check it exists) */
    }
    for (const char *t = lh_buf_str(&targets); *t; t += strlen(t) + 1) {
        char regdir[4200];
        struct stat st;
        snprintf(regdir, sizeof regdir, "%s/%s/regressions", corpora, t);
        if (stat(regdir, &st) < 0)
            continue;   /* a corpus without cases */
        lh_buf ids = LH_BUF_INIT;
        if (!S_ISDIR(st.st_mode) || lh_list_dir(regdir, &ids) < 0) {
            int e = errno;
            lh_buf_printf(errors, "%s: %s\n", regdir,
                          S_ISDIR(st.st_mode) ? strerror(e)
                          : "not a directory (regression cases are "
                            "directories in it)");
            lh_buf_free(&ids);
            continue;
        }
        for (const char *id = lh_buf_str(&ids); *id; id += strlen(id) + 1) {
            char dir[4400];
            snprintf(dir, sizeof dir, "%s/%s", regdir, id);
            if (!is_dir(dir)) {
                lh_buf_printf(errors, "%s: not a regression case (a case "
                              "is a directory holding " CASE_FILE " and "
                              INPUT_FILE ")\n", dir);
                continue;
            }
            cases = lh_xrealloc(cases, (size_t)(n + 1) * sizeof *cases);
            if (load_one(dir, id, &cases[n], errors) == 0)
                n++;
        }
        lh_buf_free(&ids);
    }
    lh_buf_free(&targets);
    *out = cases;
    return n;
}

void lh_cases_free(lh_case *cases, int n)
{
    for (int i = 0; i < n; i++)
        lh_json_free(cases[i].meta);
    lh_raw_free(cases);
}

/* ---- filing ----------------------------------------------------------- */

/* One leak, one case: whether the fuzzer confirmed it by replaying the
 * input or by stepping distinct variants of it is how it was seen, not
 * what it is, so " per distinct input" does not enter the id. */
void lh_case_id(char *out, size_t len, const char *workload,
                const char *signature)
{
    char safe[256], sha[41], sig[1024];
    static const char how[] = " per distinct input";
    const char *cut = strstr(signature, how);
    if (cut)
        snprintf(sig, sizeof sig, "%.*s%s", (int)(cut - signature),
                 signature, cut + sizeof how - 1);
    else
        snprintf(sig, sizeof sig, "%s", signature);
    lh_safe_name(safe, sizeof safe, workload);
    lh_sha1_hex(sig, strlen(sig), sha);
    snprintf(out, len, "%s-%.12s", safe, sha);
}

static void case_json(lh_buf *b, const lh_json *ev, const char *id,
                      const char *sig, const char *rel_input,
                      const lh_found_by *how)
{
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    lh_buf_puts(b, "{\"leakhound\":\"" LH_VERSION "\",\"schema\":1,\"id\":");
    lh_json_str(b, id);
    static const char *copied[] = {
        "workload", "script", "target", "metric", "unit", "site", "sha1",
    };
    for (size_t i = 0; i < sizeof copied / sizeof *copied; i++)
        lh_json_field_str(b, copied[i], lh_json_gets(ev, copied[i], NULL));
    lh_json_field_str(b, "signature", sig);
    lh_json_field_str(b, "input", INPUT_FILE);
    lh_json_field_num(b, "size", lh_json_getn(ev, "size", 0));
    lh_json_field_num(b, "growth_per_rep",
                      lh_json_getn(ev, "growth_per_rep", 0));
    lh_buf_puts(b, ",\"found\":{\"date\":");
    lh_json_str(b, lh_json_gets(ev, "found", now));
    lh_json_field_str(b, "filed", now);
    lh_json_field_str(b, "by", how->by);
    lh_json_field_str(b, "engine", how->engine ? how->engine
                                               : lh_json_gets(ev, "engine",
                                                              NULL));
    lh_json_field_num(b, "seed", lh_json_getn(ev, "seed", 0));
    lh_json_field_num(b, "budget_seconds", how->budget > 0 ? how->budget
                                                           : NAN);
    lh_buf_printf(b, ",\"minimized\":%s", how->minimized ? "true" : "false");
    const char *commit = getenv("LEAKHOUND_COMMIT");
    lh_json_field_str(b, "commit", commit && *commit ? commit : NULL);
    lh_buf_puts(b, "},\"repro\":");
    lh_buf cmd = LH_BUF_INIT;
    lh_buf_puts(&cmd, "leakhound repro ");
    lh_shell_quote(&cmd, lh_json_gets(ev, "script", ""));
    lh_buf_puts(&cmd, " --workload ");
    lh_shell_quote(&cmd, lh_json_gets(ev, "workload", ""));
    lh_buf_putc(&cmd, ' ');
    lh_shell_quote(&cmd, rel_input);
    lh_json_str(b, lh_buf_str(&cmd));
    lh_buf_free(&cmd);
    lh_buf_puts(b, ",\"evidence\":");
    lh_json_write(b, ev);
    lh_buf_puts(b, "}\n");
}

/*
 * A case is assembled in regdir/.tmp-<id>-<pid> and renamed into place;
 * a filing process killed meanwhile leaves that directory behind (hidden
 * from the listing, but not from `git add corpora`).  Those of processes
 * that are gone are removed, with whatever files they hold.
 */
static void sweep_stale(const char *regdir)
{
    DIR *d = opendir(regdir);
    if (!d)
        return;
    struct dirent *e;
    char dir[4800], file[5200];
    while ((e = readdir(d)) != NULL) {
        const char *dash = strrchr(e->d_name, '-');
        if (strncmp(e->d_name, ".tmp-", 5) != 0 || !dash)
            continue;
        long pid = strtol(dash + 1, NULL, 10);
        if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(dir, sizeof dir, "%s/%s", regdir, e->d_name);
        DIR *t = opendir(dir);
        struct dirent *f;
        while (t && (f = readdir(t)) != NULL) {
            if (strcmp(f->d_name, ".") == 0 || strcmp(f->d_name, "..") == 0)
                continue;
            snprintf(file, sizeof file, "%s/%s", dir, f->d_name);
            unlink(file);
        }
        if (t)
            closedir(t);
        rmdir(dir);
    }
    closedir(d);
}

int lh_case_file(const char *corpora, const char *artifact,
                 const lh_found_by *how, char *id, size_t idlen,
                 lh_buf *err)
{
    char side[4200], why[4600];
    snprintf(side, sizeof side, "%s.json", artifact);
    lh_json *ev = lh_json_load(side, why, sizeof why);
    if (!ev) {
        lh_buf_printf(err, "%s", why);
        return -1;
    }
    const char *wl = lh_json_gets(ev, "workload", NULL);
    const char *sig = how->signature ? how->signature
                                     : lh_json_gets(ev, "signature", NULL);
    const char *target = lh_json_gets(ev, "target", NULL);
    if (!wl || !sig || !target || !lh_json_gets(ev, "script", NULL)) {
        lh_buf_printf(err, "%s: not a leak artifact (needs workload, "
                      "script, target and signature)", side);
        lh_json_free(ev);
        return -1;
    }
    char tname[256], regdir[4400], final[4800], tmp[4800];
    lh_target_name(tname, sizeof tname, target);
    lh_case_id(id, idlen, wl, sig);
    snprintf(regdir, sizeof regdir, "%s/%s/regressions", corpora, tname);
    snprintf(final, sizeof final, "%s/%s", regdir, id);
    sweep_stale(regdir);
    if (is_dir(final)) {
        lh_json_free(ev);
        return 0;
    }
    lh_buf input = LH_BUF_INIT, meta = LH_BUF_INIT, path = LH_BUF_INIT;
    int rc = -1;
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%d", regdir, id, (int)getpid());
    if (lh_read_file(artifact, &input) < 0) {
        lh_buf_printf(err, "%s: %s", artifact, strerror(errno));
        goto out;
    }
    if (lh_mkdir_p(tmp) < 0) {
        lh_buf_printf(err, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    char rel[4900];
    snprintf(rel, sizeof rel, "%s/" INPUT_FILE, final);
    case_json(&meta, ev, id, sig, rel, how);
    lh_buf_printf(&path, "%s/" INPUT_FILE, tmp);
    if (lh_write_atomic(lh_buf_str(&path), input.data ? input.data : "",
                        input.len) < 0)
        goto io_error;
    lh_buf_reset(&path);
    lh_buf_printf(&path, "%s/" CASE_FILE, tmp);
    if (lh_write_atomic(lh_buf_str(&path), meta.data, meta.len) < 0)
        goto io_error;
    if (rename(tmp, final) == 0) {
        rc = 1;
        goto out;
    }
    if (errno == EEXIST || errno == ENOTEMPTY) {
        rc = 0;     /* filed by someone else meanwhile */
        goto cleanup;
    }
io_error:
    lh_buf_printf(err, "%s: %s", lh_buf_str(&path), strerror(errno));
cleanup:
    lh_buf_reset(&path);
    lh_buf_printf(&path, "%s/" INPUT_FILE, tmp);
    unlink(lh_buf_str(&path));
    lh_buf_reset(&path);
    lh_buf_printf(&path, "%s/" CASE_FILE, tmp);
    unlink(lh_buf_str(&path));
    rmdir(tmp);
out:
    lh_buf_free(&input);
    lh_buf_free(&meta);
    lh_buf_free(&path);
    lh_json_free(ev);
    return rc;
}

/* ---- replaying -------------------------------------------------------- */

/* The last non-empty line of a file, for a one-line reason. */
static void last_line(const char *path, char *out, size_t len)
{
    lh_buf text = LH_BUF_INIT;
    out[0] = '\0';
    if (lh_read_file(path, &text) == 0 && text.len) {
        char *s = text.data;
        size_t n = text.len;
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
            s[--n] = '\0';
        char *nl = strrchr(s, '\n');
        snprintf(out, len, "%s", nl ? nl + 1 : s);
    }
    lh_buf_free(&text);
}

__attribute__((format(printf, 2, 3)))
static void append_line(const char *path, const char *fmt, ...)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return;     /* the reason is taken from the log: last_line says
                       "the replay died" without it */
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

void lh_case_replay(const lh_case *c, const char *self, const char *workdir,
                    double timeout, lh_replay *r)
{
    memset(r, 0, sizeof *r);
    char json[4400], to[32];
    snprintf(json, sizeof json, "%s/%s.verdict.json", workdir, c->id);
    snprintf(r->log, sizeof r->log, "%s/%s.log", workdir, c->id);
    snprintf(to, sizeof to, "%gs", timeout);
    if (lh_child_interrupted()) {
        r->status = "interrupted";
        snprintf(r->reason, sizeof r->reason, "not replayed: interrupted "
                 "(signal %d)", lh_child_interrupted());
        return;
    }
    unlink(json);
    /* The replay process itself (`leakhound repro` starts the same one):
     * fresh, and one process start per case instead of two, which a gate
     * with hundreds of cases pays for each (issue 13).  Its timeout, crash
     * and output are judged here as `repro` would. */
    char *argv[] = {
        (char *)self, "__repro", "--script", (char *)c->script,
        "--workload", (char *)c->workload, "--file", (char *)c->input,
        "--json", json,
        NULL,
    };
    lh_child_result pr = lh_child_run(argv, NULL, timeout, r->log);
    if (lh_child_interrupted()) {
        /* ended by us: neither a verdict nor a crash */
        r->status = "interrupted";
        snprintf(r->reason, sizeof r->reason, "interrupted (signal %d) "
                 "while replaying: not judged", lh_child_interrupted());
        return;
    }
    /* repro's status; a replay that died or hung is 3 as well, with the
     * line `repro` prints for it at the end of the log */
    int code = pr.end == LH_CHILD_EXITED ? pr.code
             : pr.end == LH_CHILD_NOSTART ? -1 : 3;
    if (pr.end == LH_CHILD_TIMEDOUT)
        append_line(r->log, "TIMEOUT  no verdict after %s replaying %s", to,
                    c->input);
    else if (pr.end == LH_CHILD_SIGNALLED)
        append_line(r->log, "CRASH  the worker died with signal %d (%s) "
                    "replaying %s", pr.code, strsignal(pr.code), c->input);
    char err[4600];
    if (code == 0 || code == 1) {
        /* the replay's verdict is its evidence: a status without one is
         * the target's exit(0) or exit(1), or its closing our files */
        r->evidence = lh_json_load(json, err, sizeof err);
        const char *kind = lh_json_gets(r->evidence, "kind", "");
        if (strcmp(kind, code ? "leak" : "none") != 0) {
            r->status = "crashed";
            snprintf(r->reason, sizeof r->reason, "the replay exited with "
                     "status %d without a verdict (the target called "
                     "exit, or closed the harness's files) replaying %s",
                     code, c->input);
            append_line(r->log, "CRASH  %s", r->reason);
            return;
        }
    }
    switch (code) {
    case 0:
        r->status = "fixed";
        snprintf(r->reason, sizeof r->reason, "no longer leaks: no watched "
                 "metric grew while the input was replayed");
        break;
    case 1:
        r->status = "leaks";
        snprintf(r->metric, sizeof r->metric, "%s",
                 lh_json_gets(r->evidence, "metric", "?"));
        r->growth = lh_json_getn(r->evidence, "growth_per_rep", 0);
        const char *site = lh_json_gets(r->evidence, "site", "");
        snprintf(r->reason, sizeof r->reason, "still leaks: %s %+.4g %s "
                 "per replay%s%s", r->metric, r->growth,
                 lh_json_gets(r->evidence, "unit", ""), *site ? " at " : "",
                 site);
        break;
    case 3: {
        char line[400];
        last_line(r->log, line, sizeof line);
        r->status = strncmp(line, "TIMEOUT", 7) == 0 ||
                    pr.end == LH_CHILD_TIMEDOUT ? "timeout" : "crashed";
        snprintf(r->reason, sizeof r->reason, "%s", *line ? line
                 : "the replay died");
        break;
    }
    default: {
        char line[400];
        last_line(r->log, line, sizeof line);
        r->status = "error";
        if (*line || code < 0)
            snprintf(r->reason, sizeof r->reason, "cannot replay: %s",
                     *line ? line : "the replay failed to start");
        else    /* its log too may be on a full disk */
            snprintf(r->reason, sizeof r->reason, "cannot replay: the "
                     "replay exited with status %d and its log %s is "
                     "empty (not writable? disk full?)", code, r->log);
        break;
    }
    }
}

void lh_replay_free(lh_replay *r)
{
    lh_json_free(r->evidence);
    r->evidence = NULL;
}
