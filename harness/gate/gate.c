/* gate.c - gate verdicts for workloads, regression cases and the run. */
#include "gate.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "regress.h"
#include "exit.h"

static void set_gate(lh_json *obj, int ok, const char *reason)
{
    lh_buf b = LH_BUF_INIT;
    lh_buf_printf(&b, "{\"ok\":%s", ok ? "true" : "false");
    lh_json_field_str(&b, "reason", reason);
    lh_buf_putc(&b, '}');
    lh_json_set(obj, "gate", lh_json_from(&b));
    lh_buf_free(&b);
}

/* Why a workload ended as it did, in one line. */
static void outcome(const lh_json *w, char *out, size_t len)
{
    const char *st = lh_json_gets(w, "status", "error");
    const lh_json *c;
    if (strcmp(st, "fail") == 0 || strcmp(st, "unresolved") == 0) {
        for (const lh_json *inv = lh_json_first(lh_json_get(w,
                                                            "invariants"));
             inv; inv = inv->next)
            if (strcmp(lh_json_gets(inv, "status", ""), st) == 0) {
                snprintf(out, len, "%s: %s", lh_json_gets(inv, "metric", "?"),
                         lh_json_gets(inv, "reason", "failed"));
                return;
            }
        snprintf(out, len, "an invariant failed");
    } else if (strcmp(st, "error") == 0) {
        snprintf(out, len, "error: %s", lh_json_gets(lh_json_get(w, "error"),
                                                     "message", "?"));
    } else if ((c = lh_json_get(w, "crash"))) {
        if (lh_json_get(c, "signal_name"))
            snprintf(out, len, "crashed: %s in %s",
                     lh_json_gets(c, "signal_name", "?"),
                     lh_json_gets(c, "phase", "?"));
        else
            snprintf(out, len, "crashed: exit status %g in %s",
                     lh_json_getn(c, "exit_code", -1),
                     lh_json_gets(c, "phase", "?"));
    } else if ((c = lh_json_get(w, "timeout"))) {
        snprintf(out, len, "timed out after %gs in %s",
                 lh_json_getn(c, "seconds", 0), lh_json_gets(c, "phase", "?"));
    } else {
        snprintf(out, len, "every invariant holds");
    }
}

void lh_gate_workloads(lh_json *doc)
{
    for (lh_json *w = (lh_json *)lh_json_first(lh_json_get(doc,
                                                            "workloads"));
         w; w = w->next) {
        char why[1024], reason[1400];
        outcome(w, why, sizeof why);
        const lh_json *ex = lh_json_get(w, "expect");
        const char *st = lh_json_gets(w, "status", "error");
        int ok;
        if (ex && ex->type == LH_JOBJ) {
            ok = lh_json_getb(ex, "met", 0);
            const char *want = lh_json_gets(ex, "status", "?");
            if (ok)
                snprintf(reason, sizeof reason, "%s as expected (%s)",
                         strcmp(want, "clean") == 0 ? "clean" :
                         strcmp(want, "fail") == 0 ? "failed" : want, why);
            else
                snprintf(reason, sizeof reason, "expected %s, got %s: %s",
                         want, st, why);
        } else {
            ok = strcmp(st, "pass") == 0;
            snprintf(reason, sizeof reason, "%s", why);
        }
        /* a creeping regression fails even when the invariants hold */
        for (const lh_json *inv = lh_json_first(lh_json_get(w, "invariants"));
             inv && ok; inv = inv->next) {
            const lh_json *b = lh_json_get(inv, "stored_baseline");
            if (strcmp(lh_json_gets(b, "status", ""), "fail") == 0) {
                ok = 0;
                snprintf(reason, sizeof reason, "exceeds the baseline: %s",
                         lh_json_gets(b, "reason", "?"));
            }
        }
        set_gate(w, ok, reason);
    }
}

/* ---- regression cases ------------------------------------------------- */

static int same_file(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    if (!realpath(a, ra) || !realpath(b, rb))
        return strcmp(a, b) == 0;
    return strcmp(ra, rb) == 0;
}

/* The workload of doc the case belongs to; *script_known says whether the
 * case's script is one that ran. */
static const lh_json *case_workload(const lh_json *doc, const lh_case *c,
                                    int *script_known)
{
    *script_known = 0;
    for (const lh_json *w = lh_json_first(lh_json_get(doc, "workloads")); w;
         w = w->next) {
        const char *script = lh_json_gets(w, "script", "");
        if (!same_file(script, c->script))
            continue;
        *script_known = 1;
        if (strcmp(lh_json_gets(w, "name", ""), c->workload) == 0)
            return w;
    }
    return NULL;
}

static void case_json(lh_buf *b, const lh_case *c, const char *status,
                      int expect_leak, int ok, const char *reason,
                      const lh_replay *r)
{
    lh_buf_puts(b, "{\"id\":");
    lh_json_str(b, c->id);
    lh_json_field_str(b, "dir", c->dir);
    lh_json_field_str(b, "workload", c->workload);
    lh_json_field_str(b, "script", c->script);
    lh_json_field_str(b, "target", c->target);
    lh_json_field_str(b, "metric", c->metric);
    lh_json_field_str(b, "signature", c->signature);
    lh_json_field_str(b, "site", lh_json_gets(c->meta, "site", NULL));
    lh_buf_puts(b, ",\"found\":");
    const lh_json *found = lh_json_get(c->meta, "found");
    if (found)
        lh_json_write(b, found);
    else
        lh_buf_puts(b, "null");
    lh_json_field_str(b, "status", status);
    lh_buf_printf(b, ",\"expect_leak\":%s,\"gate\":{\"ok\":%s",
                  expect_leak ? "true" : "false", ok ? "true" : "false");
    lh_json_field_str(b, "reason", reason);
    lh_buf_putc(b, '}');
    lh_json_field_str(b, "reason", reason);
    lh_json_field_str(b, "repro", lh_json_gets(c->meta, "repro", NULL));
    lh_json_field_str(b, "input", c->input);
    lh_json_field_num(b, "growth_per_input",
                      r && r->growth ? r->growth
                                     : lh_json_getn(c->meta, "growth_per_rep",
                                                    NAN));
    if (r) {
        lh_json_field_str(b, "replayed_metric", r->metric[0] ? r->metric
                                                             : NULL);
        lh_json_field_str(b, "log", r->log);
    }
    lh_buf_putc(b, '}');
}

int lh_gate_regressions(lh_json *doc, const char *corpora,
                        const char *workdir, double timeout, int filtered)
{
    lh_case *cases;
    lh_buf errors = LH_BUF_INIT, arr = LH_BUF_INIT;
    int n = lh_cases_load(corpora, &cases, &errors);
    int failed = 0, first = 1;
    lh_buf_putc(&arr, '[');
    /* unreadable case files fail the gate: a case must not vanish */
    for (const char *e = lh_buf_str(&errors); *e;) {
        size_t len = strcspn(e, "\n");
        lh_buf_puts(&arr, first ? "{\"id\":" : ",{\"id\":");
        first = 0;
        lh_json_strn(&arr, e, strcspn(e, ":"));
        lh_buf_puts(&arr, ",\"status\":\"error\",\"gate\":{\"ok\":false,"
                    "\"reason\":");
        lh_json_strn(&arr, e, len);
        lh_buf_puts(&arr, "},\"reason\":");
        lh_json_strn(&arr, e, len);
        lh_buf_putc(&arr, '}');
        printf("ERROR regression case %.*s\n", (int)len, e);
        failed++;
        e += len + (e[len] ? 1 : 0);
    }
    int header = 0;
    for (int i = 0; i < n; i++) {
        lh_case *c = &cases[i];
        int script_known;
        const lh_json *w = case_workload(doc, c, &script_known);
        int gone = access(c->script, F_OK) < 0;
        if (!w && !gone && (!script_known || filtered))
            continue;   /* belongs to a workload not run now */
        lh_buf_puts(&arr, first ? "" : ",");
        first = 0;
        if (!header++)
            printf("regression cases under %s/:\n", corpora);
        if (gone) {
            /* a renamed script must not take its cases with it */
            char reason[1024];
            snprintf(reason, sizeof reason, "%s/case.json names script "
                     "'%s', which does not exist (renamed or moved? update "
                     "the case's \"script\")", c->dir, c->script);
            case_json(&arr, c, "error", 0, 0, reason, NULL);
            printf("ERROR regression %s  %s\n", c->id, reason);
            failed++;
            continue;
        }
        if (!w) {
            char reason[1024];
            snprintf(reason, sizeof reason, "%s/case.json names workload "
                     "'%s', which %s no longer declares", c->dir,
                     c->workload, c->script);
            case_json(&arr, c, "error", 0, 0, reason, NULL);
            printf("ERROR regression %s  %s\n", c->id, reason);
            failed++;
            continue;
        }
        const lh_json *ex = lh_json_get(w, "expect");
        int expect_leak = strcmp(lh_json_gets(ex, "status", ""), "fail") == 0;
        lh_replay r;
        lh_case_replay(c, "/proc/self/exe", workdir, timeout, &r);
        int ok = expect_leak ? strcmp(r.status, "leaks") == 0
                             : strcmp(r.status, "fixed") == 0;
        int intr = strcmp(r.status, "interrupted") == 0;
        char reason[1024];
        if (intr)
            snprintf(reason, sizeof reason, "%s", r.reason);
        else if (expect_leak && ok)
            snprintf(reason, sizeof reason, "leaks as its workload expects "
                     "(%s)", r.reason);
        else if (expect_leak)
            snprintf(reason, sizeof reason, "its workload expects a leak, "
                     "but: %s", r.reason);
        else
            snprintf(reason, sizeof reason, "%s", r.reason);
        case_json(&arr, c, r.status, expect_leak, ok, reason, &r);
        printf("%-5s regression %s  %s\n      replay: leakhound repro %s "
               "--workload '%s' %s\n", intr ? "INTR" : ok ? "ok" : "FAIL",
               c->id, reason,
               c->script, c->workload, c->input);
        if (!ok)
            failed++;
        lh_replay_free(&r);
    }
    lh_buf_putc(&arr, ']');
    fflush(stdout);
    lh_json_set(doc, "regressions", lh_json_from(&arr));
    lh_buf_free(&arr);
    lh_buf_free(&errors);
    lh_cases_free(cases, n);
    return failed;
}

/* ---- the run ---------------------------------------------------------- */

static int exit_class(const char *status)
{
    if (strcmp(status, "crashed") == 0 || strcmp(status, "timeout") == 0)
        return LH_EXIT_CRASH;
    if (strcmp(status, "error") == 0)
        return LH_EXIT_ERROR;
    return LH_EXIT_FAIL;
}

int lh_gate_finish(lh_json *doc, const char *kind)
{
    int code = LH_EXIT_PASS, wl_bad = 0, case_bad = 0, wl = 0, cases = 0;
    for (const lh_json *w = lh_json_first(lh_json_get(doc, "workloads")); w;
         w = w->next, wl++)
        if (!lh_json_getb(lh_json_get(w, "gate"), "ok", 0)) {
            wl_bad++;
            int c = exit_class(lh_json_gets(w, "status", "error"));
            code = c > code ? c : code;
        }
    for (const lh_json *r = lh_json_first(lh_json_get(doc, "regressions"));
         r; r = r->next, cases++)
        if (!lh_json_getb(lh_json_get(r, "gate"), "ok", 0)) {
            case_bad++;
            const char *st = lh_json_gets(r, "status", "error");
            int c = strcmp(st, "leaks") == 0 || strcmp(st, "fixed") == 0
                        ? LH_EXIT_FAIL : exit_class(st);
            code = c > code ? c : code;
        }
    char reason[512];
    if (code == LH_EXIT_PASS)
        snprintf(reason, sizeof reason, "%d workload%s and %d regression "
                 "case%s pass", wl, wl == 1 ? "" : "s", cases,
                 cases == 1 ? "" : "s");
    else
        snprintf(reason, sizeof reason, "%d of %d workload%s and %d of %d "
                 "regression case%s fail the gate", wl_bad, wl,
                 wl == 1 ? "" : "s", case_bad, cases, cases == 1 ? "" : "s");
    set_gate(doc, code == LH_EXIT_PASS, reason);
    lh_buf b = LH_BUF_INIT;
    lh_json_str(&b, kind);
    lh_json_set(doc, "kind", lh_json_from(&b));
    lh_buf_reset(&b);
    lh_buf_puts(&b, "2");
    lh_json_set(doc, "schema", lh_json_from(&b));
    lh_buf_reset(&b);
    lh_buf_printf(&b, "%d", code);
    lh_json_set(doc, "exit_code", lh_json_from(&b));
    lh_buf_free(&b);
    return code;
}
