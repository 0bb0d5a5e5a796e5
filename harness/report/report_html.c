/*
 * report_html.c - index.html: the run as one self-contained page.
 *
 * No external resource of any kind (fonts, scripts, styles, images): the
 * page is archived as a CI artifact and opened from disk or an artifact
 * browser, often offline or under a strict Content-Security-Policy.  It
 * reads fully without JavaScript; <details> folds what passed.
 *
 * Order follows what a reader needs: the gate, then a table of contents
 * with failing workloads first, regression and nightly sections, then one
 * card per workload with a plot per invariant before its numbers.
 */
#include <math.h>
#include <string.h>

#include "report_escape.h"
#include "report_model.h"
#include "text.h"
#include "report_render.h"

static const char style[] =
":root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f6f8fb;"
"--card:#fff;--ok:#15803d;--okbg:#dcfce7;--bad:#b91c1c;--badbg:#fee2e2;"
"--warn:#92400e;--warnbg:#fef3c7;--exp:#3730a3;--expbg:#e0e7ff}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;background:var(--bg);color:var(--fg);"
"font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',"
"Arial,sans-serif}\n"
"main,header.top>div,nav.toc{max-width:1200px;margin:0 auto;"
"padding:0 24px}\n"
"code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"
"'DejaVu Sans Mono',monospace;font-size:13px}\n"
"a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}\n"
"header.top{border-bottom:1px solid var(--line);background:#fff;"
"padding:18px 0 14px;border-top:6px solid var(--ok)}\n"
"header.top.bad{border-top-color:var(--bad)}\n"
"header.top h1{font-size:24px;margin:0 0 2px;display:flex;gap:12px;"
"align-items:center;flex-wrap:wrap}\n"
".gate{font-size:15px;font-weight:700;padding:3px 12px;border-radius:999px}"
"\n.gate.ok{background:var(--okbg);color:var(--ok)}"
".gate.bad{background:var(--badbg);color:var(--bad)}\n"
".why{color:var(--muted);margin:2px 0 10px}\n"
".chips{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}\n"
".chip{border:1px solid var(--line);border-radius:8px;padding:4px 10px;"
"background:#fff}.chip b{font-size:17px;margin-right:4px}\n"
".chip.bad{border-color:#fca5a5;background:#fff5f5}"
".chip.warn{border-color:#fcd34d;background:#fffbeb}\n"
".meta{color:var(--muted);font-size:13px;margin:6px 0 0}"
".meta code{color:var(--fg)}\n"
"nav.toc{margin-top:18px}\n"
"h2{font-size:19px;margin:26px 0 10px}"
"h3{font-size:16px;margin:18px 0 8px}\n"
".toclist{columns:3 300px;column-gap:28px;margin:0;padding:0;"
"list-style:none}\n"
".toclist li{break-inside:avoid;padding:2px 0;display:flex;gap:8px;"
"align-items:baseline}\n"
".toclist .sub{color:var(--muted);font-size:12.5px}\n"
".dot{display:inline-block;width:10px;height:10px;border-radius:50%;"
"flex:none;background:var(--ok)}\n"
".dot.bad{background:var(--bad)}.dot.warn{background:#d97706}"
".dot.exp{background:#6366f1}\n"
".badge{display:inline-block;font-size:12px;font-weight:600;"
"padding:1px 8px;border-radius:999px;white-space:nowrap;"
"vertical-align:middle}\n"
".b-pass{background:var(--okbg);color:var(--ok)}"
".b-fail{background:var(--badbg);color:var(--bad)}"
".b-warn{background:var(--warnbg);color:var(--warn)}"
".b-exp{background:var(--expbg);color:var(--exp)}"
".b-new{background:#f1f5f9;color:#334155}\n"
"details.wl{background:var(--card);border:1px solid var(--line);"
"border-left:5px solid var(--ok);border-radius:10px;margin:14px 0;"
"box-shadow:0 1px 2px rgba(15,23,42,.04)}\n"
"details.wl.bad{border-left-color:var(--bad)}"
"details.wl.warn{border-left-color:#d97706}"
"details.wl.exp{border-left-color:#6366f1}\n"
"details.wl>summary{cursor:pointer;padding:12px 18px;list-style:none;"
"display:flex;flex-wrap:wrap;gap:10px;align-items:center}\n"
"details.wl>summary::-webkit-details-marker{display:none}\n"
"details.wl>summary::before{content:'\\25B8';color:var(--muted);"
"width:12px}details.wl[open]>summary::before{content:'\\25BE'}\n"
"details.wl>summary .name{font-size:17px;font-weight:650}\n"
"details.wl>summary .sub{color:var(--muted);font-size:13px}\n"
".body{padding:0 18px 16px}\n"
".facts{display:flex;flex-wrap:wrap;gap:4px 18px;color:var(--muted);"
"font-size:13px;margin:0 0 8px}.facts b{color:var(--fg);font-weight:600}"
"\n.gatewhy{margin:0 0 8px}\n"
"pre.cmd{background:#0f172a;color:#e2e8f0;padding:8px 12px;"
"border-radius:6px;overflow-x:auto;margin:6px 0 12px;"
"white-space:pre-wrap;word-break:break-all}\n"
".problem{border:1px solid #fcd34d;background:#fffbeb;border-radius:8px;"
"padding:10px 14px;margin:8px 0}\n"
".problem.bad{border-color:#fca5a5;background:#fff5f5}\n"
".problem pre{background:#fff;border:1px solid var(--line);padding:8px;"
"border-radius:6px;max-height:320px;overflow:auto;white-space:pre-wrap;"
"word-break:break-all;margin:6px 0 0}\n"
".invs{display:grid;grid-template-columns:repeat(auto-fill,"
"minmax(520px,1fr));gap:14px}\n"
".inv{border:1px solid var(--line);border-radius:8px;padding:10px 12px;"
"min-width:0}\n"
".inv.bad{border-color:#fca5a5;box-shadow:inset 3px 0 0 var(--bad)}"
".inv.exp{box-shadow:inset 3px 0 0 #6366f1}\n"
".inv h3{margin:0;font-size:15px;display:flex;flex-wrap:wrap;gap:8px;"
"align-items:center}\n"
".inv h3 .rate{margin-left:auto;font-variant-numeric:tabular-nums}\n"
".inv .reason{margin:4px 0 2px;color:#334155;font-size:13.5px}\n"
"svg.plot{width:100%;height:auto;display:block;margin:4px 0;"
"font-family:inherit}\n"
"dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:1px 14px;"
"margin:6px 0;font-size:13px}\n"
"dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;"
"font-variant-numeric:tabular-nums}\n"
"table{border-collapse:collapse;width:100%;font-size:13px}\n"
"th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);"
"vertical-align:top}th{color:var(--muted);font-weight:600}\n"
"td.num{text-align:right;font-variant-numeric:tabular-nums;"
"white-space:nowrap}\n"
".share{width:92px;white-space:nowrap}\n"
".bar{display:inline-block;height:8px;border-radius:4px;"
"background:#f97316;vertical-align:middle;margin-right:6px}\n"
"table.sites{margin-top:6px}table.sites td{overflow-wrap:anywhere}\n"
".loc{color:var(--muted);font-family:ui-monospace,SFMono-Regular,Menlo,"
"Consolas,'DejaVu Sans Mono',monospace;font-size:12px}\n"
".detail{color:#334155;font-size:12.5px}\n"
"details.stack summary{cursor:pointer;color:var(--muted);font-size:12px}\n"
"details.stack ol{margin:4px 0 0;padding-left:22px;font-size:12px}\n"
".card{background:var(--card);border:1px solid var(--line);"
"border-radius:10px;padding:10px 16px;overflow-x:auto}\n"
"table.cases tbody tr:first-child td{border-bottom:0}\n"
"table.cases tr.repro td{padding-top:0}\n"
"table.cases tr.repro code{display:block;background:#f1f5f9;"
"border-radius:5px;padding:3px 8px;overflow-wrap:anywhere}\n"
".sub{color:var(--muted);font-size:12.5px}\n"
"footer{color:var(--muted);font-size:12px;text-align:center;"
"padding:24px}\n"
"@media print{details.wl{break-inside:avoid}}\n";

static void esc(lh_buf *b, const char *s)
{
    lh_xml_puts(b, s);
}

static void badge(lh_buf *b, const char *cls, const char *label)
{
    lh_buf_printf(b, "<span class=\"badge %s\">", cls);
    esc(b, label);
    lh_buf_puts(b, "</span>");
}

static const char *status_class(const char *status)
{
    if (strcmp(status, "pass") == 0 || strcmp(status, "fixed") == 0)
        return "b-pass";
    if (strcmp(status, "fail") == 0 || strcmp(status, "leaks") == 0)
        return "b-fail";
    if (strcmp(status, "new") == 0)
        return "b-new";
    return "b-warn";
}

/* How a workload looks in the TOC and on its card: "bad" when it fails
 * the gate, "warn" when it did not finish, "exp" when it failed as
 * expected, "" when clean. */
static const char *tone(const lh_json *w, int gate_ok)
{
    if (!gate_ok)
        return "bad";
    if (lh_rep_aborted(w))
        return "warn";
    if (strcmp(lh_rep_status(w), "pass") != 0)
        return "exp";
    const lh_json *invs = lh_json_get(w, "invariants");
    for (const lh_json *inv = lh_json_first(invs); inv; inv = inv->next)
        if (lh_rep_inv_verdict(w, inv, gate_ok, NULL) != LH_INV_PASS)
            return "exp";
    return "";
}

/* Groups of the table of contents, in page order: failing the gate,
 * did not finish (as expected), failed as expected, clean. */
static int toc_group(const lh_json *w)
{
    const char *tn = tone(w, lh_rep_workload_gate(w, NULL));
    return *tn == 'b' ? 0 : *tn == 'w' ? 1 : *tn == 'e' ? 2 : 3;
}

static void dt_dd(lh_buf *b, const char *dt, const char *dd)
{
    lh_buf_puts(b, "<dt>");
    esc(b, dt);
    lh_buf_puts(b, "</dt><dd>");
    esc(b, dd);
    lh_buf_puts(b, "</dd>");
}

static void header(lh_buf *b, const lh_json *r)
{
    lh_buf reason = LH_BUF_INIT, t = LH_BUF_INIT;
    int ok = lh_rep_run_gate(r, &reason);
    const char *kind = lh_json_gets(r, "kind", "run");
    const lh_json *ws = lh_json_get(r, "workloads");
    const lh_json *s = lh_json_get(r, "summary");
    int gate_failures = 0;
    for (const lh_json *w = lh_json_first(ws); w; w = w->next)
        gate_failures += !lh_rep_workload_gate(w, NULL);

    lh_buf_printf(b, "<header class=\"top %s\"><div>\n", ok ? "ok" : "bad");
    lh_buf_puts(b, "<h1>leakhound ");
    esc(b, kind);
    lh_buf_printf(b, " <span class=\"gate %s\">%s</span></h1>\n",
                  ok ? "ok" : "bad",
                  ok ? "\xe2\x9c\x93 gate passed" : "\xe2\x9c\x97 gate failed");
    lh_buf_puts(b, "<p class=\"why\">");
    esc(b, lh_buf_str(&reason));
    lh_buf_puts(b, "</p>\n<div class=\"chips\">");
    if (lh_json_first(ws)) {
        lh_buf_printf(b, "<span class=\"chip\"><b>%.0f</b>workloads</span>",
                      lh_json_getn(s, "workloads", (double)ws->len));
        lh_buf_printf(b, "<span class=\"chip%s\"><b>%d</b>failing the gate"
                      "</span>", gate_failures ? " bad" : "", gate_failures);
        static const char *const keys[] = { "pass", "fail", "error",
                                            "crashed", "timeout",
                                            "unresolved" };
        for (size_t k = 0; k < 6; k++) {
            double v = lh_json_getn(s, keys[k], 0);
            const char *cls = v > 0 && k > 1 ? " warn" : "";
            lh_buf_printf(b, "<span class=\"chip%s\"><b>%.0f</b>%s</span>",
                          cls, v, keys[k]);
        }
    }
    const lh_json *nightly = lh_json_get(r, "nightly");
    if (nightly && nightly->type == LH_JOBJ) {
        static const char *const groups[] = { "new", "known", "fixed" };
        for (size_t k = 0; k < 3; k++) {
            const lh_json *g = lh_json_get(nightly, groups[k]);
            size_t count = g && g->type == LH_JARR ? g->len : 0;
            lh_buf_printf(b, "<a class=\"chip%s\" href=\"#nightly\"><b>%zu"
                          "</b>%s finding%s</a>", k == 0 && count ? " bad" : "",
                          count, groups[k], count == 1 ? "" : "s");
        }
    }
    const lh_json *regs = lh_json_get(r, "regressions");
    if (lh_json_first(regs)) {
        int failing = 0;
        for (const lh_json *c = lh_json_first(regs); c; c = c->next)
            failing += !lh_rep_case_gate(c, NULL);
        lh_buf_printf(b, "<a class=\"chip%s\" href=\"#regressions\"><b>%d"
                      "</b>of %zu regression cases failing</a>",
                      failing ? " bad" : "", failing, regs->len);
    }
    const lh_json *bl = lh_json_get(r, "baseline");
    if (bl && bl->type == LH_JOBJ) {
        double failed = lh_json_getn(bl, "failed", 0);
        lh_buf_printf(b, "<span class=\"chip%s\" title=\"", failed > 0 ?
                      " bad" : "");
        lh_xml_attrs(b, lh_json_gets(bl, "file", ""));
        lh_buf_printf(b, "\"><b>%.0f</b>of %.0f past the stored baseline%s"
                      "</span>", failed, lh_json_getn(bl, "compared", 0),
                      lh_json_getb(bl, "updated", 0) ? " (updated)" : "");
    }
    lh_buf_puts(b, "</div>\n<p class=\"meta\">");
    lh_buf_printf(&t, "%s \xe2\x86\x92 %s", lh_json_gets(r, "started", "?"),
                  lh_json_gets(r, "finished", "?"));
    esc(b, lh_buf_str(&t));
    lh_buf_printf(b, " \xc2\xb7 seed %.0f \xc2\xb7 leakhound ",
                  lh_json_getn(r, "seed", 0));
    esc(b, lh_json_gets(r, "leakhound", "?"));
    const lh_json *cmd = lh_json_get(r, "command");
    if (lh_json_first(cmd)) {
        lh_buf_reset(&t);
        for (const lh_json *a = lh_json_first(cmd); a; a = a->next) {
            if (a != lh_json_first(cmd))
                lh_buf_putc(&t, ' ');
            if (a->type == LH_JSTR)
                lh_shell_quote(&t, a->str);
        }
        lh_buf_puts(b, " \xc2\xb7 <code>");
        esc(b, lh_buf_str(&t));
        lh_buf_puts(b, "</code>");
    }
    if (bl && bl->type == LH_JOBJ) {
        lh_buf_puts(b, " \xc2\xb7 baseline <code>");
        esc(b, lh_json_gets(bl, "file", "?"));
        lh_buf_puts(b, "</code>");
    }
    lh_buf_puts(b, "</p>\n</div></header>\n");
    lh_buf_free(&reason);
    lh_buf_free(&t);
}

static void toc_entry(lh_buf *b, const lh_json *w, size_t idx, int gate_ok)
{
    const char *tn = tone(w, gate_ok);
    const lh_json *inv = lh_rep_worst_invariant(w, gate_ok);
    lh_buf_printf(b, "<li><span class=\"dot %s\"></span><span><a "
                  "href=\"#w%zu\">", tn, idx);
    esc(b, lh_json_gets(w, "name", "?"));
    lh_buf_puts(b, "</a> <span class=\"sub\">");
    if (lh_rep_aborted(w) || !inv) {
        esc(b, lh_rep_status(w));
    } else {
        lh_buf t = LH_BUF_INIT;
        lh_buf_printf(&t, "%s ", lh_json_gets(inv, "metric", "?"));
        lh_rep_rate(&t, lh_rep_getn(inv, "growth_per_iter"),
                    lh_json_gets(inv, "unit", ""));
        esc(b, lh_buf_str(&t));
        lh_buf_free(&t);
    }
    lh_buf_puts(b, "</span></span></li>\n");
}

static void toc(lh_buf *b, const lh_json *workloads)
{
    if (!lh_json_first(workloads))
        return;
    static const char *const titles[] = {
        "Failing the gate", "Did not finish (as expected)",
        "Failed as expected", "Passing",
    };
    lh_buf_puts(b, "<nav class=\"toc\">\n");
    for (int group = 0; group < 4; group++) {
        int any = 0;
        size_t idx = 0;
        for (const lh_json *w = lh_json_first(workloads); w;
             w = w->next, idx++) {
            if (toc_group(w) != group)
                continue;
            int ok = lh_rep_workload_gate(w, NULL);
            if (!any)
                lh_buf_printf(b, "<h2>%s</h2>\n<ul class=\"toclist\">\n",
                              titles[group]);
            any = 1;
            toc_entry(b, w, idx, ok);
        }
        if (any)
            lh_buf_puts(b, "</ul>\n");
    }
    lh_buf_puts(b, "</nav>\n");
}

static void sites_table(lh_buf *b, const lh_json *inv)
{
    const lh_json *sites = lh_json_get(inv, "sites");
    if (!lh_json_first(sites))
        return;
    const char *unit = lh_json_gets(inv, "unit", "");
    double total = lh_rep_sites_total(sites, unit);
    lh_buf_puts(b, "<table class=\"sites\"><thead><tr><th>share</th>"
                "<th>grew by</th><th>where</th></tr></thead>"
                "<tbody>\n");
    for (const lh_json *s = lh_json_first(sites); s; s = s->next) {
        lh_buf amount = LH_BUF_INIT;
        double v;
        lh_rep_site_amount(&amount, s, unit, &v);
        double pct = total > 0 && v > 0 ? 100 * v / total : 0;
        lh_buf_printf(b, "<tr><td class=\"share\"><span class=\"bar\" "
                      "style=\"width:%.0fpx\"></span>%.0f%%</td>"
                      "<td class=\"num\">", pct * 0.5 + 2, pct);
        esc(b, lh_buf_str(&amount));
        lh_buf_puts(b, "</td><td><code>");
        esc(b, lh_json_gets(s, "func", "?"));
        lh_buf_puts(b, "</code>");
        const char *loc = lh_json_gets(s, "location", "");
        if (*loc) {
            lh_buf_puts(b, " <span class=\"loc\">");
            esc(b, loc);
            lh_buf_puts(b, "</span>");
        }
        const char *detail = lh_json_gets(s, "detail", "");
        if (*detail) {
            lh_buf_puts(b, "<div class=\"detail\">");
            esc(b, detail);
            lh_buf_puts(b, "</div>");
        }
        /* Folded stacks run root;...;leaf: shown leaf first, as a
         * debugger does. */
        const char *stack = lh_json_gets(s, "stack", "");
        if (*stack) {
            size_t frames = 1;
            for (const char *p = stack; *p; p++)
                frames += *p == ';';
            lh_buf_printf(b, "<details class=\"stack\"><summary>stack "
                          "(%zu frame%s)</summary><ol>", frames,
                          frames == 1 ? "" : "s");
            const char *end = stack + strlen(stack);
            while (end > stack) {
                const char *start = end;
                while (start > stack && start[-1] != ';')
                    start--;
                lh_buf_puts(b, "<li><code>");
                lh_xml_text(b, start, (size_t)(end - start));
                lh_buf_puts(b, "</code></li>");
                end = start > stack ? start - 1 : stack;
            }
            lh_buf_puts(b, "</ol></details>");
        }
        lh_buf_puts(b, "</td></tr>\n");
        lh_buf_free(&amount);
    }
    lh_buf_puts(b, "</tbody></table>\n");
}

static void inv_facts(lh_buf *b, const lh_json *inv)
{
    const char *unit = lh_json_gets(inv, "unit", "");
    const char *kind = lh_json_gets(inv, "kind", "");
    lh_buf t = LH_BUF_INIT;
    lh_buf_puts(b, "<dl class=\"kv\">");
    lh_rep_rate(&t, lh_rep_getn(inv, "growth_per_iter"), unit);
    double lo = lh_rep_getn(inv, "slope_lo"), hi = lh_rep_getn(inv,
                                                              "slope_hi");
    if (!isnan(lo) && !isnan(hi)) {
        lh_buf_puts(&t, "  [");
        lh_rep_num(&t, lo);
        lh_buf_puts(&t, " \xe2\x80\xa6 ");
        lh_rep_num(&t, hi);
        lh_buf_puts(&t, "]");
    }
    lh_buf_puts(&t, ", ");
    lh_rep_pvalue(&t, lh_rep_getn(inv, "p_value"));
    dt_dd(b, "growth / iteration", lh_buf_str(&t));

    lh_buf_reset(&t);
    int per_iter = strcmp(kind, "max_growth") == 0 ||
                   strcmp(kind, "rate") == 0;
    if (strcmp(kind, "rate") == 0)      /* the whole run's, per iteration */
        lh_rep_rate(&t, lh_rep_getn(inv, "growth"), unit);
    else
        lh_rep_qty(&t, lh_rep_getn(inv, "growth"), unit);
    lh_buf_puts(&t, per_iter ? " vs limit " : " vs threshold ");
    if (per_iter)
        lh_rep_rate(&t, lh_rep_getn(inv, "threshold"), unit);
    else
        lh_rep_qty(&t, lh_rep_getn(inv, "threshold"), unit);
    dt_dd(b, "judged growth", lh_buf_str(&t));

    lh_buf_reset(&t);
    lh_rep_qty(&t, lh_rep_first_value(inv), unit);
    lh_buf_puts(&t, " \xe2\x86\x92 ");
    lh_rep_qty(&t, lh_rep_getn(inv, "final"), unit);
    lh_buf_puts(&t, " (peak ");
    lh_rep_qty(&t, lh_rep_getn(inv, "peak"), unit);
    lh_buf_puts(&t, ")");
    dt_dd(b, "baseline \xe2\x86\x92 final", lh_buf_str(&t));

    lh_buf_reset(&t);
    lh_buf_printf(&t, "%.0f of %.0f (alpha %g)",
                  lh_json_getn(inv, "judged_samples", 0),
                  lh_json_getn(inv, "samples", 0),
                  lh_json_getn(inv, "alpha", 0));
    dt_dd(b, "samples judged", lh_buf_str(&t));

    const lh_json *bl = lh_rep_stored_baseline(inv);
    if (bl) {
        const char *st = lh_json_gets(bl, "status", "?");
        const lh_json *tol = lh_json_get(bl, "tolerance");
        lh_buf_puts(b, "<dt>stored baseline</dt><dd>");
        badge(b, status_class(st), st);
        lh_buf_puts(b, " ");
        lh_buf_reset(&t);
        lh_buf_printf(&t, "%s \xe2\x80\x94 was ",
                      lh_json_gets(bl, "reason", ""));
        lh_rep_rate(&t, lh_rep_getn(bl, "growth_per_iter"), unit);
        lh_buf_puts(&t, " (\xc2\xb1");
        lh_rep_qty(&t, lh_rep_getn(tol, "per_iter"), unit);
        lh_buf_puts(&t, ")");
        if (isfinite(lh_rep_getn(bl, "peak"))) {  /* a rate has none */
            lh_buf_puts(&t, ", peak ");
            lh_rep_qty(&t, lh_rep_getn(bl, "peak"), unit);
            lh_buf_puts(&t, " (\xc2\xb1");
            lh_rep_qty(&t, lh_rep_getn(tol, "peak"), unit);
            lh_buf_puts(&t, ")");
        }
        esc(b, lh_buf_str(&t));
        lh_buf_puts(b, "</dd>");
    }
    lh_buf_puts(b, "</dl>\n");
    lh_buf_free(&t);
}

static void invariant_card(lh_buf *b, const lh_json *w, const lh_json *inv,
                           int gate_ok)
{
    lh_buf why = LH_BUF_INIT, t = LH_BUF_INIT;
    lh_inv_verdict v = lh_rep_inv_verdict(w, inv, gate_ok, &why);
    const char *status = lh_json_gets(inv, "status", "?");
    lh_buf_printf(b, "<div class=\"inv%s\">\n<h3>",
                  v == LH_INV_FAIL ? " bad" :
                  v == LH_INV_EXPECTED_FAIL ? " exp" : "");
    if (v == LH_INV_FAIL && strcmp(status, "fail") == 0)
        badge(b, "b-fail", "FAIL");
    else if (v == LH_INV_FAIL)
        badge(b, "b-fail", lh_rep_verdict_word(inv, v));
    else if (v == LH_INV_EXPECTED_FAIL)
        badge(b, "b-exp", "failed as expected");
    else
        badge(b, "b-pass", "pass");
    lh_buf_puts(b, " <code>");
    esc(b, lh_json_gets(inv, "metric", "?"));
    lh_buf_puts(b, "</code> <span class=\"sub\">");
    esc(b, lh_json_gets(inv, "kind", ""));
    lh_buf_puts(b, "</span><span class=\"rate\">");
    lh_rep_rate(&t, lh_rep_getn(inv, "growth_per_iter"),
                lh_json_gets(inv, "unit", ""));
    esc(b, lh_buf_str(&t));
    lh_buf_puts(b, "</span></h3>\n<p class=\"reason\">");
    esc(b, lh_buf_str(&why));
    lh_buf_puts(b, "</p>\n");
    lh_report_plot(b, inv);
    inv_facts(b, inv);
    sites_table(b, inv);
    lh_buf_puts(b, "</div>\n");
    lh_buf_free(&why);
    lh_buf_free(&t);
}

static void problem_box(lh_buf *b, const lh_json *w, int gate_ok)
{
    const char *status = lh_rep_status(w);
    const lh_json *d;
    lh_buf_printf(b, "<div class=\"problem%s\">", gate_ok ? "" : " bad");
    lh_buf t = LH_BUF_INIT;
    lh_rep_abort_message(&t, w, &d);
    if (strcmp(status, "error") == 0) {
        lh_buf_puts(b, "<b>error:</b> <span class=\"mono\">");
        esc(b, lh_buf_str(&t));
        lh_buf_puts(b, "</span>");
    } else {
        lh_buf_puts(b, "<b>");
        esc(b, lh_buf_str(&t));
        lh_buf_puts(b, "</b>");
    }
    const lh_json *inputs = lh_json_get(d, "inputs");
    if (lh_json_first(inputs)) {
        lh_buf_puts(b, "<table><thead><tr><th>input in flight</th>"
                    "<th>thread</th><th>iteration</th><th>bytes</th>"
                    "<th>first bytes (hex)</th></tr></thead><tbody>\n");
        for (const lh_json *in = lh_json_first(inputs); in; in = in->next) {
            lh_buf_puts(b, "<tr><td class=\"mono\">");
            esc(b, lh_json_gets(in, "file", "?"));
            lh_buf_printf(b, "</td><td class=\"num\">%.0f</td>"
                          "<td class=\"num\">%.0f</td><td class=\"num\">%.0f"
                          "%s</td><td class=\"mono\">",
                          lh_json_getn(in, "thread", 0),
                          lh_json_getn(in, "iteration", 0),
                          lh_json_getn(in, "size", 0),
                          lh_json_getb(in, "truncated", 0) ?
                              " (truncated)" : "");
            esc(b, lh_json_gets(in, "hex", ""));
            lh_buf_puts(b, "</td></tr>\n");
        }
        lh_buf_puts(b, "</tbody></table>\n");
    }
    const char *tb = lh_json_gets(d, "traceback", "");
    if (*tb) {
        lh_buf_puts(b, "<pre>");
        esc(b, tb);
        lh_buf_puts(b, "</pre>");
    }
    const char *tail = lh_json_gets(d, "output_tail", "");
    if (*tail) {
        lh_buf_puts(b, "<div>worker output (last lines):</div><pre>");
        esc(b, tail);
        lh_buf_puts(b, "</pre>");
    }
    lh_buf_puts(b, "</div>\n");
    lh_buf_free(&t);
}

static void workload_card(lh_buf *b, const lh_json *w, size_t idx)
{
    lh_buf reason = LH_BUF_INIT, t = LH_BUF_INIT;
    int gate_ok = lh_rep_workload_gate(w, &reason);
    const char *tn = tone(w, gate_ok);
    const char *status = lh_rep_status(w);
    /* Clean workloads start folded: the page opens on what needs eyes. */
    lh_buf_printf(b, "<details class=\"wl %s\" id=\"w%zu\"%s>\n<summary>",
                  tn, idx, *tn ? " open" : "");
    badge(b, status_class(status), status);
    if (!gate_ok)
        badge(b, "b-fail", "gate failed");
    else if (*tn == 'e' || *tn == 'w')
        badge(b, "b-exp", "as expected");
    lh_buf_puts(b, " <span class=\"name\">");
    esc(b, lh_json_gets(w, "name", "?"));
    lh_buf_puts(b, "</span> <span class=\"sub\">");
    esc(b, lh_json_gets(w, "source", lh_json_gets(w, "script", "")));
    lh_buf_puts(b, "</span></summary>\n<div class=\"body\">\n");

    lh_buf_printf(b, "<p class=\"gatewhy\">gate: <b>%s</b> \xe2\x80\x94 ",
                  gate_ok ? "ok" : "failed");
    esc(b, lh_buf_str(&reason));
    lh_buf_puts(b, "</p>\n<div class=\"facts\">");
    const char *target = lh_json_gets(w, "target", NULL);
    if (target) {
        lh_buf_puts(b, "<span>target <b class=\"mono\">");
        esc(b, target);
        lh_buf_puts(b, "</b></span>");
    }
    if (lh_json_get(w, "iterations"))
        lh_buf_printf(b, "<span><b>%.0f</b> iterations</span>",
                      lh_json_getn(w, "iterations", 0));
    if (lh_json_get(w, "threads"))
        lh_buf_printf(b, "<span><b>%.0f</b> threads</span>",
                      lh_json_getn(w, "threads", 0));
    double secs = lh_rep_getn(w, "seconds"), rate = lh_rep_getn(w, "rate");
    if (!isnan(secs))
        lh_buf_printf(b, "<span><b>%.3g</b> s</span>", secs);
    if (!isnan(rate) && rate > 0)
        lh_buf_printf(b, "<span><b>%.0f</b> iter/s</span>", rate);
    const lh_json *st = lh_json_get(w, "stopped");
    if (st && st->type == LH_JOBJ) {
        lh_buf_printf(b, "<span>stopped at sample <b>%.0f</b> of %.0f: ",
                      lh_json_getn(st, "sample", 0),
                      lh_json_getn(st, "of", 0));
        esc(b, lh_json_gets(st, "text", "?"));
        lh_buf_puts(b, "</span>");
    }
    const lh_json *lat = lh_json_get(w, "latency_us");
    if (lat && !lh_rep_aborted(w))
        lh_buf_printf(b, "<span>latency p50 <b>%.3g</b> \xc2\xb5s, p99 "
                      "<b>%.3g</b> \xc2\xb5s</span>",
                      lh_json_getn(lat, "p50", 0),
                      lh_json_getn(lat, "p99", 0));
    lh_buf_puts(b, "</div>\n");

    if (lh_rep_aborted(w))
        problem_box(b, w, gate_ok);

    lh_buf_puts(b, "<div class=\"mono\">repro:</div><pre class=\"cmd\">");
    lh_rep_repro(&t, w);
    esc(b, lh_buf_str(&t));
    lh_buf_puts(b, "</pre>\n");

    const lh_json *invs = lh_json_get(w, "invariants");
    if (lh_json_first(invs)) {
        lh_buf_puts(b, "<div class=\"invs\">\n");
        for (const lh_json *inv = lh_json_first(invs); inv; inv = inv->next)
            invariant_card(b, w, inv, gate_ok);
        lh_buf_puts(b, "</div>\n");
    }
    const char *gp = lh_json_gets(w, "goroutine_profile", NULL);
    if (gp) {
        lh_buf_puts(b, "<details class=\"stack\"><summary>goroutine profile "
                    "at the end</summary><div class=\"problem\"><pre>");
        esc(b, gp);
        lh_buf_puts(b, "</pre></div></details>\n");
    }
    lh_buf_puts(b, "</div>\n</details>\n");
    lh_buf_free(&reason);
    lh_buf_free(&t);
}

/* Regression cases (and nightly findings, which have the same shape):
 * one row of facts, and the repro command on a full-width row under it,
 * where it can be read (and copied) whole. */
static void cases_table(lh_buf *b, const lh_json *cases)
{
    lh_buf_puts(b, "<div class=\"card\"><table class=\"cases\"><thead><tr>"
                "<th>gate</th><th>case</th><th>workload \xc2\xb7 metric</th>"
                "<th>status</th><th class=\"num\">growth / input</th>"
                "<th>why</th></tr></thead>\n");
    for (const lh_json *c = lh_json_first(cases); c; c = c->next) {
        lh_buf reason = LH_BUF_INIT, t = LH_BUF_INIT;
        int ok = lh_rep_case_gate(c, &reason);
        const char *status = lh_json_gets(c, "status", "?");
        lh_buf_puts(b, "<tbody><tr><td>");
        badge(b, ok ? "b-pass" : "b-fail", ok ? "ok" : "failed");
        lh_buf_puts(b, "</td><td><code>");
        esc(b, lh_json_gets(c, "id", "?"));
        lh_buf_puts(b, "</code></td><td>");
        esc(b, lh_json_gets(c, "workload", "?"));
        lh_buf_puts(b, " \xc2\xb7 <code>");
        esc(b, lh_json_gets(c, "metric", "?"));
        lh_buf_puts(b, "</code><br><span class=\"loc\">");
        esc(b, lh_json_gets(c, "script", ""));
        lh_buf_puts(b, "</span></td><td>");
        badge(b, status_class(status), status);
        if (lh_json_getb(c, "expect_leak", 0))
            lh_buf_puts(b, "<br><span class=\"sub\">leak expected</span>");
        lh_buf_puts(b, "</td><td class=\"num\">");
        double g = lh_rep_getn(c, "growth_per_input");
        if (!isnan(g)) {
            lh_rep_num(&t, g);
            esc(b, lh_buf_str(&t));
        }
        lh_buf_puts(b, "</td><td>");
        if (!ok && reason.len) {
            lh_buf_puts(b, "<b>");
            esc(b, lh_buf_str(&reason));
            lh_buf_puts(b, "</b><br>");
        }
        esc(b, lh_json_gets(c, "reason", ""));
        const lh_json *f = lh_json_get(c, "found");
        if (f) {
            lh_buf_reset(&t);
            lh_buf_printf(&t, "found %s by %s (%s, seed %.0f, commit %.12s)",
                          lh_json_gets(f, "date", "?"),
                          lh_json_gets(f, "by", "?"),
                          lh_json_gets(f, "engine", "?"),
                          lh_json_getn(f, "seed", 0),
                          lh_json_gets(f, "commit", "?"));
            lh_buf_puts(b, "<br><span class=\"sub\">");
            esc(b, lh_buf_str(&t));
            lh_buf_puts(b, "</span>");
        }
        lh_buf_puts(b, "</td></tr>\n");
        const char *repro = lh_json_gets(c, "repro", "");
        if (*repro) {
            lh_buf_puts(b, "<tr class=\"repro\"><td></td><td colspan=\"5\">"
                        "<code>");
            esc(b, repro);
            lh_buf_puts(b, "</code></td></tr>\n");
        }
        lh_buf_puts(b, "</tbody>\n");
        lh_buf_free(&t);
        lh_buf_free(&reason);
    }
    lh_buf_puts(b, "</table></div>\n");
}

static void nightly_section(lh_buf *b, const lh_json *n)
{
    if (!n || n->type != LH_JOBJ)
        return;
    lh_buf_printf(b, "<section id=\"nightly\"><h2>Nightly fuzzing "
                  "<span class=\"sub\">budget %gs</span></h2>\n",
                  lh_json_getn(n, "budget_seconds", 0));
    const lh_json *ws = lh_json_get(n, "workloads");
    if (lh_json_first(ws)) {
        lh_buf_puts(b, "<div class=\"card\"><table><thead><tr><th>workload"
                    "</th><th>script</th><th>seconds</th><th>status</th>"
                    "<th>findings</th></tr></thead><tbody>\n");
        for (const lh_json *w = lh_json_first(ws); w; w = w->next) {
            const char *st = lh_json_gets(w, "status", "?");
            lh_buf_puts(b, "<tr><td>");
            esc(b, lh_json_gets(w, "name", "?"));
            lh_buf_puts(b, "</td><td class=\"mono\">");
            esc(b, lh_json_gets(w, "script", ""));
            lh_buf_printf(b, "</td><td class=\"num\">%.0f</td><td>",
                          lh_json_getn(w, "seconds", 0));
            badge(b, strcmp(st, "ok") == 0 || strcmp(st, "pass") == 0 ||
                     strcmp(st, "clean") == 0 ? "b-pass" : "b-warn", st);
            lh_buf_printf(b, "</td><td class=\"num\">%.0f</td></tr>\n",
                          lh_json_getn(w, "findings", 0));
        }
        lh_buf_puts(b, "</tbody></table></div>\n");
    }
    static const char *const groups[][2] = {
        { "new", "New findings" },
        { "fixed", "Fixed since they were found" },
        { "known", "Known, still leaking" },
    };
    for (size_t g = 0; g < 3; g++) {
        const lh_json *cases = lh_json_get(n, groups[g][0]);
        lh_buf_printf(b, "<h3>%s (%zu)</h3>\n", groups[g][1],
                      cases ? cases->len : 0);
        if (lh_json_first(cases))
            cases_table(b, cases);
    }
    lh_buf_puts(b, "</section>\n");
}

void lh_report_html(const lh_json *report, lh_buf *out)
{
    const lh_json *ws = lh_json_get(report, "workloads");
    lh_buf reason = LH_BUF_INIT;
    int ok = lh_rep_run_gate(report, &reason);
    lh_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                "content=\"width=device-width, initial-scale=1\">\n<title>");
    lh_xml_printf(out, "%s leakhound %s: gate %s",
                  ok ? "\xe2\x9c\x93" : "\xe2\x9c\x97",
                  lh_json_gets(report, "kind", "run"),
                  ok ? "passed" : "failed");
    lh_buf_printf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n",
                  style);
    header(out, report);
    toc(out, ws);
    lh_buf_puts(out, "<main>\n");
    const lh_json *regs = lh_json_get(report, "regressions");
    if (lh_json_first(regs)) {
        lh_buf_puts(out, "<section id=\"regressions\"><h2>Regression cases"
                    "</h2>\n");
        cases_table(out, regs);
        lh_buf_puts(out, "</section>\n");
    }
    nightly_section(out, lh_json_get(report, "nightly"));
    if (lh_json_first(ws)) {
        lh_buf_puts(out, "<section id=\"workloads\"><h2>Workloads</h2>\n");
        /* In the table of contents' order: what fails the gate first. */
        for (int group = 0; group < 4; group++) {
            size_t idx = 0;
            for (const lh_json *w = lh_json_first(ws); w;
                 w = w->next, idx++)
                if (toc_group(w) == group)
                    workload_card(out, w, idx);
        }
        lh_buf_puts(out, "</section>\n");
    }
    lh_buf_puts(out, "</main>\n<footer>rendered from report.json by "
                "<code>leakhound report</code></footer>\n</body>\n</html>\n");
    lh_buf_free(&reason);
}
