/*
 * report_md.c - summary.md: the run at a glance in a CI job summary
 * (GitHub's $GITHUB_STEP_SUMMARY, GitLab/Jenkins Markdown viewers).
 *
 * Gate failures come first, so when a huge run hits the size cap the rows
 * that are dropped are the passing ones.  Every cell is cut to a bounded
 * length, which keeps each row small and the cap meaningful.
 */
#include <math.h>
#include <string.h>

#include "report_escape.h"
#include "report_model.h"
#include "report_render.h"

#define NAME_MAX_BYTES 120
#define REASON_MAX_BYTES 160
/* Room kept under the cap for the closing notes of every section. */
#define NOTES_RESERVE 4096

typedef struct md_out {
    lh_buf *b;
    size_t limit;       /* stop adding rows past this length */
} md_out;

static int room(const md_out *o)
{
    return o->b->len < o->limit;
}

static void omitted_note(md_out *o, size_t omitted, const char *what)
{
    if (omitted)
        lh_buf_printf(o->b, "\n_%zu %s omitted: summary.md is capped at "
                      "%zu KiB; index.html and report.json have them "
                      "all._\n", omitted, what,
                      (o->limit + NOTES_RESERVE) / 1024);
}

static void name_cell(lh_buf *b, const char *name)
{
    lh_buf_puts(b, "**");
    lh_md_name(b, name, NAME_MAX_BYTES);
    lh_buf_puts(b, "**");
}

/* Against the stored baseline, per iteration: "0 \u2192 1 allocs/iter",
 * with the run's interval for a rate; a dash when nothing was stored. */
static void before_after(lh_buf *b, const lh_json *inv)
{
    const lh_json *bl = lh_rep_stored_baseline(inv);
    double before = lh_rep_getn(bl, "growth_per_iter");
    if (!bl || !isfinite(before)) {
        lh_buf_puts(b, "\xe2\x80\x94");
        return;
    }
    const char *unit = lh_json_gets(inv, "unit", "");
    lh_buf_printf(b, "%.4g \xe2\x86\x92 ", before);
    lh_rep_rate(b, lh_rep_getn(inv, "growth_per_iter"), unit);
    double lo = lh_rep_getn(inv, "rate_lo"), hi = lh_rep_getn(inv, "rate_hi");
    if (isfinite(lo) && isfinite(hi))
        lh_buf_printf(b, " (CI %.4g..%.4g)", lo, hi);
}

static void workload_row(md_out *o, const lh_json *w, int gate_ok,
                         const lh_buf *gate_reason)
{
    lh_buf *b = o->b;
    /* a crash or timeout judged on its samples has invariants too */
    const lh_json *inv = lh_rep_aborted(w) && !lh_json_get(w, "partial") ?
                         NULL : lh_rep_worst_invariant(w, gate_ok);
    lh_buf why = LH_BUF_INIT;
    lh_inv_verdict v = inv ? lh_rep_inv_verdict(w, inv, gate_ok, &why) :
                             LH_INV_PASS;
    lh_buf_puts(b, gate_ok ? "| \xe2\x9c\x85 | " : "| \xe2\x9d\x8c | ");
    name_cell(b, lh_json_gets(w, "name", "?"));
    lh_buf_printf(b, " | %s | %s | ", lh_rep_status(w),
                  gate_ok ? "passed" : "**failed**");
    if (inv) {
        lh_md_code(b, lh_json_gets(inv, "metric", "?"), 1);
        lh_buf_putc(b, ' ');
        lh_md_text(b, lh_json_gets(inv, "kind", ""), 40);
        lh_buf_printf(b, ": %s | ", lh_rep_verdict_word(inv, v));
        lh_rep_rate(b, lh_rep_getn(inv, "growth_per_iter"),
                    lh_json_gets(inv, "unit", ""));
        lh_buf_puts(b, " | ");
        before_after(b, inv);
        lh_buf_puts(b, " | ");
    } else {
        lh_buf_puts(b, "\xe2\x80\x94 | \xe2\x80\x94 | \xe2\x80\x94 | ");
    }
    /* Why: what stopped the worker, else the worst invariant's evidence
     * when it explains the verdict, else the gate's own reason. */
    if (lh_rep_aborted(w)) {
        lh_buf_reset(&why);
        lh_rep_abort_message(&why, w, NULL);
        if (gate_ok)
            lh_buf_printf(&why, " (%s)", lh_buf_str(gate_reason));
    } else if (!inv || (!gate_ok && v == LH_INV_PASS)) {
        lh_buf_reset(&why);
        lh_buf_puts(&why, lh_buf_str(gate_reason));
    }
    /* stopped near a limit: said first, it explains the short run */
    const lh_json *st = lh_json_get(w, "stopped");
    if (st && st->type == LH_JOBJ) {
        lh_buf all = LH_BUF_INIT;
        lh_buf_printf(&all, "stopped at sample %.0f of %.0f: %s; %s",
                      lh_json_getn(st, "sample", 0),
                      lh_json_getn(st, "of", 0),
                      lh_json_gets(st, "text", "?"), lh_buf_str(&why));
        lh_buf_reset(&why);
        lh_buf_puts(&why, lh_buf_str(&all));
        lh_buf_free(&all);
    }
    lh_md_text(b, lh_buf_str(&why), REASON_MAX_BYTES);
    lh_buf_puts(b, " |\n");
    lh_buf_free(&why);
}

static void workloads_table(md_out *o, const lh_json *workloads)
{
    if (!lh_json_first(workloads))
        return;
    lh_buf_puts(o->b, "\n### Workloads\n\n"
                "| | workload | status | gate | worst invariant "
                "| growth | before \xe2\x86\x92 after | why |\n"
                "|---|---|---|---|---|---:|---:|---|\n");
    size_t omitted = 0;
    /* Pass 0: gate failures; pass 1: the rest. */
    for (int pass = 0; pass < 2; pass++) {
        for (const lh_json *w = lh_json_first(workloads); w; w = w->next) {
            lh_buf reason = LH_BUF_INIT;
            int ok = lh_rep_workload_gate(w, &reason);
            if (ok == (pass == 0)) {
                lh_buf_free(&reason);
                continue;
            }
            if (room(o))
                workload_row(o, w, ok, &reason);
            else
                omitted++;
            lh_buf_free(&reason);
        }
    }
    omitted_note(o, omitted, "workload rows");
}

static void case_row(md_out *o, const lh_json *c)
{
    lh_buf *b = o->b;
    lh_buf reason = LH_BUF_INIT;
    int ok = lh_rep_case_gate(c, &reason);
    lh_buf_puts(b, ok ? "| \xe2\x9c\x85 | " : "| \xe2\x9d\x8c | ");
    lh_md_code(b, lh_json_gets(c, "id", "?"), 1);
    lh_buf_puts(b, " | ");
    lh_md_name(b, lh_json_gets(c, "workload", "?"), NAME_MAX_BYTES);
    lh_buf_puts(b, " | ");
    lh_md_code(b, lh_json_gets(c, "metric", "?"), 1);
    lh_buf_printf(b, " | %s | ", lh_json_gets(c, "status", "?"));
    const char *why = lh_json_gets(c, "reason", "");
    if (!ok) {
        lh_md_text(b, lh_buf_str(&reason), REASON_MAX_BYTES / 2);
        lh_buf_puts(b, ": ");
    }
    lh_md_text(b, why, REASON_MAX_BYTES);
    lh_buf_puts(b, " |\n");
    lh_buf_free(&reason);
}

static void cases_table(md_out *o, const lh_json *cases, const char *title,
                        const char *what)
{
    if (!lh_json_first(cases))
        return;
    lh_buf_printf(o->b, "\n%s\n\n| | case | workload | metric | status "
                  "| why |\n|---|---|---|---|---|---|\n", title);
    size_t omitted = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (const lh_json *c = lh_json_first(cases); c; c = c->next) {
            if (lh_rep_case_gate(c, NULL) == (pass == 0))
                continue;
            if (room(o))
                case_row(o, c);
            else
                omitted++;
        }
    }
    omitted_note(o, omitted, what);
}

static void nightly_section(md_out *o, const lh_json *n)
{
    if (!n || n->type != LH_JOBJ)
        return;
    lh_buf *b = o->b;
    const lh_json *ws = lh_json_get(n, "workloads");
    const lh_json *fresh = lh_json_get(n, "new");
    const lh_json *known = lh_json_get(n, "known");
    const lh_json *fixed = lh_json_get(n, "fixed");
    lh_buf_printf(b, "\n### Nightly fuzzing\n\nBudget %gs; %zu workloads "
                  "fuzzed; findings: %zu new, %zu known, %zu fixed.\n",
                  lh_json_getn(n, "budget_seconds", 0), ws ? ws->len : 0,
                  fresh ? fresh->len : 0, known ? known->len : 0,
                  fixed ? fixed->len : 0);
    if (lh_json_first(ws)) {
        lh_buf_puts(b, "\n| workload | script | seconds | status "
                    "| findings |\n|---|---|---:|---|---:|\n");
        size_t omitted = 0;
        for (const lh_json *w = lh_json_first(ws); w; w = w->next) {
            if (!room(o)) {
                omitted++;
                continue;
            }
            lh_buf_puts(b, "| ");
            lh_md_name(b, lh_json_gets(w, "name", "?"), NAME_MAX_BYTES);
            lh_buf_puts(b, " | ");
            lh_md_text(b, lh_json_gets(w, "script", ""), NAME_MAX_BYTES);
            lh_buf_printf(b, " | %.0f | ", lh_json_getn(w, "seconds", 0));
            lh_md_text(b, lh_json_gets(w, "status", "?"), 40);
            lh_buf_printf(b, " | %.0f |\n", lh_json_getn(w, "findings", 0));
        }
        omitted_note(o, omitted, "fuzzed workload rows");
    }
    cases_table(o, fresh, "#### New findings", "new findings");
    cases_table(o, fixed, "#### Fixed since they were found",
                "fixed cases");
    cases_table(o, known, "#### Known, still leaking", "known cases");
}

/* The top site of each failing invariant: where to look first. */
static void sites_section(md_out *o, const lh_json *workloads)
{
    lh_buf *b = o->b;
    int header = 0;
    size_t omitted = 0;
    for (const lh_json *w = lh_json_first(workloads); w; w = w->next) {
        int gate_ok = lh_rep_workload_gate(w, NULL);
        if (gate_ok)
            continue;
        const lh_json *invs = lh_json_get(w, "invariants");
        for (const lh_json *inv = lh_json_first(invs); inv; inv = inv->next) {
            const lh_json *site = lh_json_first(lh_json_get(inv, "sites"));
            if (!site ||
                lh_rep_inv_verdict(w, inv, gate_ok, NULL) != LH_INV_FAIL)
                continue;
            if (!room(o)) {
                omitted++;
                continue;
            }
            if (!header) {
                lh_buf_puts(b, "\n### Where it grows\n\n");
                header = 1;
            }
            lh_buf_puts(b, "- ");
            name_cell(b, lh_json_gets(w, "name", "?"));
            lh_buf_puts(b, " ");
            lh_md_code(b, lh_json_gets(inv, "metric", "?"), 0);
            lh_buf_puts(b, ": ");
            lh_rep_site_amount(b, site, lh_json_gets(inv, "unit", ""), NULL);
            lh_buf_puts(b, " in ");
            lh_md_code(b, lh_json_gets(site, "func", "?"), 0);
            const char *loc = lh_json_gets(site, "location", "");
            if (*loc) {
                lh_buf_puts(b, " (");
                lh_md_text(b, loc, NAME_MAX_BYTES);
                lh_buf_puts(b, ")");
            }
            const char *detail = lh_json_gets(site, "detail", "");
            if (*detail) {
                lh_buf_puts(b, " \xe2\x80\x94 ");
                lh_md_text(b, detail, REASON_MAX_BYTES);
            }
            lh_buf_puts(b, "  \n  repro: ");
            lh_buf repro = LH_BUF_INIT;
            lh_rep_repro(&repro, w);
            lh_md_code(b, lh_buf_str(&repro), 0);
            lh_buf_free(&repro);
            lh_buf_putc(b, '\n');
        }
    }
    omitted_note(o, omitted, "sites");
}

static void headline(lh_buf *b, const lh_json *r)
{
    lh_buf reason = LH_BUF_INIT;
    int ok = lh_rep_run_gate(r, &reason);
    const char *kind = lh_json_gets(r, "kind", "run");
    lh_buf_printf(b, "## %s leakhound ", ok ? "\xe2\x9c\x85" :
                  "\xe2\x9d\x8c");
    lh_md_text(b, kind, 40);
    lh_buf_printf(b, ": gate %s", ok ? "passed" : "failed");
    if (reason.len) {
        lh_buf_puts(b, " \xe2\x80\x94 ");
        lh_md_text(b, lh_buf_str(&reason), REASON_MAX_BYTES);
    }
    lh_buf_puts(b, "\n\n");
    lh_buf_free(&reason);

    const lh_json *s = lh_json_get(r, "summary");
    const lh_json *ws = lh_json_get(r, "workloads");
    if (!lh_json_first(ws) && !lh_json_first(lh_json_get(r, "regressions")))
        goto trailer;   /* e.g. a nightly report: nothing to count */
    int gate_failures = 0;
    for (const lh_json *w = lh_json_first(ws); w; w = w->next)
        gate_failures += !lh_rep_workload_gate(w, NULL);
    lh_buf_printf(b, "%.0f workloads: %.0f pass, %.0f fail, %.0f error, "
                  "%.0f crashed, %.0f timeout; **%d failing the gate**",
                  lh_json_getn(s, "workloads", ws ? (double)ws->len : 0),
                  lh_json_getn(s, "pass", 0), lh_json_getn(s, "fail", 0),
                  lh_json_getn(s, "error", 0), lh_json_getn(s, "crashed", 0),
                  lh_json_getn(s, "timeout", 0), gate_failures);
    if (lh_json_getn(s, "unresolved", 0) > 0)
        lh_buf_printf(b, "; %.0f unresolved (not judged: see below)",
                      lh_json_getn(s, "unresolved", 0));
    const lh_json *regs = lh_json_get(r, "regressions");
    if (lh_json_first(regs)) {
        int failing = 0;
        for (const lh_json *c = lh_json_first(regs); c; c = c->next)
            failing += !lh_rep_case_gate(c, NULL);
        lh_buf_printf(b, "; %zu regression cases, **%d failing**",
                      regs->len, failing);
    }
    lh_buf_puts(b, ".  \n");
trailer:;
    const lh_json *bl = lh_json_get(r, "baseline");
    if (bl && bl->type == LH_JOBJ) {
        lh_buf_puts(b, "Baseline ");
        lh_md_code(b, lh_json_gets(bl, "file", "?"), 0);
        lh_buf_printf(b, ": %.0f invariants compared, %.0f grew past it%s."
                      "  \n", lh_json_getn(bl, "compared", 0),
                      lh_json_getn(bl, "failed", 0),
                      lh_json_getb(bl, "updated", 0) ? " (updated)" : "");
    }
    lh_buf_printf(b, "Started %s, finished %s, seed %.0f, leakhound %s.\n",
                  lh_json_gets(r, "started", "?"),
                  lh_json_gets(r, "finished", "?"),
                  lh_json_getn(r, "seed", 0),
                  lh_json_gets(r, "leakhound", "?"));
}

void lh_report_markdown(const lh_json *report, lh_buf *out, size_t max_bytes)
{
    md_out o = { out, max_bytes > 2 * NOTES_RESERVE ?
                      max_bytes - NOTES_RESERVE : max_bytes / 2 };
    size_t start = out->len;
    o.limit += start;
    const lh_json *workloads = lh_json_get(report, "workloads");
    headline(out, report);
    workloads_table(&o, workloads);
    cases_table(&o, lh_json_get(report, "regressions"),
                "### Regression cases", "regression case rows");
    nightly_section(&o, lh_json_get(report, "nightly"));
    sites_section(&o, workloads);
    lh_buf_puts(out, "\n_Plots and full evidence: `index.html`; for CI: "
                "`junit.xml`; everything: `report.json`._\n");
}
