/*
 * report_junit.c - junit.xml: what GitLab, GitHub (test-reporter
 * actions) and Jenkins read to list failing tests.
 *
 * One testcase per invariant (classname: the workload, name: "metric
 * kind"), so a CI server tracks each invariant across runs; a workload
 * that errored, crashed or timed out is one testcase with an <error>; a
 * regression case is one testcase in the "regressions" suite, a nightly
 * finding one in the "nightly" suite.  The
 * failure text carries the evidence a reader needs without opening
 * report.json: reason, slope, threshold, p-value, sites, repro command.
 */
#include <math.h>
#include <string.h>

#include "report_escape.h"
#include "report_model.h"
#include "report_render.h"

typedef struct suite_counts {
    int tests, failures, errors;
    double seconds;
} suite_counts;

static void attr(lh_buf *b, const char *name, const char *value)
{
    lh_buf_printf(b, " %s=\"", name);
    lh_xml_attrs(b, value);
    lh_buf_putc(b, '"');
}

static void open_case(lh_buf *b, const char *classname, const char *name,
                      const char *file, double seconds)
{
    lh_buf_puts(b, "    <testcase");
    attr(b, "classname", classname);
    attr(b, "name", name);
    if (file)
        attr(b, "file", file);
    lh_buf_printf(b, " time=\"%.3f\">\n",
                  isfinite(seconds) && seconds > 0 ? seconds : 0.0);
}

/* <failure> or <error> with a one-line message and the evidence text. */
static void problem(lh_buf *b, const char *tag, const char *type,
                    const char *message, const char *text)
{
    lh_buf_printf(b, "      <%s", tag);
    attr(b, "message", message);
    attr(b, "type", type);
    lh_buf_puts(b, ">");
    lh_xml_puts(b, text);
    lh_buf_printf(b, "</%s>\n", tag);
}

static void system_out(lh_buf *b, const char *text)
{
    lh_buf_puts(b, "      <system-out>");
    lh_xml_puts(b, text);
    lh_buf_puts(b, "</system-out>\n");
}

static void sites_text(lh_buf *t, const lh_json *inv)
{
    const lh_json *sites = lh_json_get(inv, "sites");
    if (!lh_json_first(sites))
        return;
    const char *unit = lh_json_gets(inv, "unit", "");
    double total = lh_rep_sites_total(sites, unit);
    lh_buf_puts(t, "where it grows:\n");
    for (const lh_json *s = lh_json_first(sites); s; s = s->next) {
        double v;
        lh_buf_puts(t, "  ");
        lh_rep_site_amount(t, s, unit, &v);
        if (total > 0)
            lh_buf_printf(t, "  %3.0f%%", 100 * v / total);
        lh_buf_printf(t, "  %s", lh_json_gets(s, "func", "?"));
        const char *loc = lh_json_gets(s, "location", "");
        if (*loc)
            lh_buf_printf(t, " (%s)", loc);
        const char *detail = lh_json_gets(s, "detail", "");
        if (*detail)
            lh_buf_printf(t, "  %s", detail);
        lh_buf_putc(t, '\n');
    }
}

static void evidence_text(lh_buf *t, const lh_json *w, const lh_json *inv)
{
    const char *unit = lh_json_gets(inv, "unit", "");
    lh_buf_printf(t, "%s %s %s: %s\n", lh_json_gets(inv, "status", "?"),
                  lh_json_gets(inv, "metric", "?"),
                  lh_json_gets(inv, "kind", "?"),
                  lh_json_gets(inv, "reason", ""));
    lh_buf_puts(t, "growth_per_iter: ");
    lh_rep_rate(t, lh_rep_getn(inv, "growth_per_iter"), unit);
    double lo = lh_rep_getn(inv, "slope_lo"), hi = lh_rep_getn(inv,
                                                              "slope_hi");
    if (!isnan(lo) && !isnan(hi)) {
        lh_buf_puts(t, " [");
        lh_rep_num(t, lo);
        lh_buf_puts(t, ", ");
        lh_rep_num(t, hi);
        lh_buf_puts(t, "]");
    }
    lh_buf_puts(t, "  ");
    lh_rep_pvalue(t, lh_rep_getn(inv, "p_value"));
    lh_buf_printf(t, "  (%.0f of %.0f samples judged)\n",
                  lh_json_getn(inv, "judged_samples", 0),
                  lh_json_getn(inv, "samples", 0));
    lh_buf_puts(t, "growth: ");
    lh_rep_qty(t, lh_rep_getn(inv, "growth"), unit);
    lh_buf_puts(t, "  threshold: ");
    if (strcmp(lh_json_gets(inv, "kind", ""), "max_growth") == 0 ||
        strcmp(lh_json_gets(inv, "kind", ""), "rate") == 0)
        lh_rep_rate(t, lh_rep_getn(inv, "threshold"), unit);
    else
        lh_rep_qty(t, lh_rep_getn(inv, "threshold"), unit);
    lh_buf_puts(t, "\nbaseline ");
    lh_rep_qty(t, lh_rep_first_value(inv), unit);
    lh_buf_puts(t, " -> final ");
    lh_rep_qty(t, lh_rep_getn(inv, "final"), unit);
    lh_buf_puts(t, " (peak ");
    lh_rep_qty(t, lh_rep_getn(inv, "peak"), unit);
    lh_buf_puts(t, ")\n");
    const lh_json *bl = lh_rep_stored_baseline(inv);
    if (bl) {
        const lh_json *tol = lh_json_get(bl, "tolerance");
        lh_buf_printf(t, "stored baseline: %s: %s\n  growth_per_iter ",
                      lh_json_gets(bl, "status", "?"),
                      lh_json_gets(bl, "reason", ""));
        lh_rep_rate(t, lh_rep_getn(bl, "growth_per_iter"), unit);
        lh_buf_puts(t, " (tolerance ");
        lh_rep_rate(t, lh_rep_getn(tol, "per_iter"), unit);
        lh_buf_puts(t, ")");
        if (isfinite(lh_rep_getn(bl, "peak"))) {  /* a rate has none */
            lh_buf_puts(t, ", peak ");
            lh_rep_qty(t, lh_rep_getn(bl, "peak"), unit);
            lh_buf_puts(t, " (tolerance ");
            lh_rep_qty(t, lh_rep_getn(tol, "peak"), unit);
            lh_buf_puts(t, ")");
        }
        lh_buf_putc(t, '\n');
    }
    sites_text(t, inv);
    lh_buf_puts(t, "repro: ");
    lh_rep_repro(t, w);
    lh_buf_putc(t, '\n');
}

/* Where a worker died and what it left: message, phase, input, output. */
static void abort_text(lh_buf *t, const lh_json *w, lh_buf *message)
{
    const lh_json *d;
    lh_rep_abort_message(message, w, &d);
    lh_buf_printf(t, "%s\n", lh_buf_str(message));
    const char *tb = lh_json_gets(d, "traceback", "");
    if (*tb)
        lh_buf_printf(t, "%s\n", tb);
    for (const lh_json *in = lh_json_first(lh_json_get(d, "inputs")); in;
         in = in->next)
        lh_buf_printf(t, "input in flight: thread %.0f, iteration %.0f, "
                      "%.0f bytes, saved as %s\n  hex: %s\n",
                      lh_json_getn(in, "thread", 0),
                      lh_json_getn(in, "iteration", 0),
                      lh_json_getn(in, "size", 0),
                      lh_json_gets(in, "file", "?"),
                      lh_json_gets(in, "hex", ""));
    const char *tail = lh_json_gets(d, "output_tail", "");
    if (*tail)
        lh_buf_printf(t, "output (tail):\n%s\n", tail);
    lh_buf_puts(t, "repro: ");
    lh_rep_repro(t, w);
    lh_buf_putc(t, '\n');
}

static void workload_cases(lh_buf *b, const lh_json *w, suite_counts *n)
{
    const char *name = lh_json_gets(w, "name", "?");
    const char *script = lh_json_gets(w, "script", NULL);
    lh_buf gate_reason = LH_BUF_INIT;
    int gate_ok = lh_rep_workload_gate(w, &gate_reason);
    const lh_json *invs = lh_json_get(w, "invariants");
    size_t ninv = invs ? invs->len : 0;
    double seconds = lh_json_getn(w, "seconds", 0);
    int failed_cases = 0;

    if (lh_rep_aborted(w)) {
        lh_buf text = LH_BUF_INIT, message = LH_BUF_INIT;
        abort_text(&text, w, &message);
        open_case(b, name, "workload", script, seconds);
        n->tests++;
        if (gate_ok) {
            lh_buf note = LH_BUF_INIT;
            lh_buf_printf(&note, "%s as expected (%s)\n%s",
                          lh_rep_status(w), lh_buf_str(&gate_reason),
                          lh_buf_str(&text));
            system_out(b, lh_buf_str(&note));
            lh_buf_free(&note);
        } else {
            problem(b, "error", lh_rep_status(w), lh_buf_str(&message),
                    lh_buf_str(&text));
            n->errors++;
            failed_cases++;
        }
        lh_buf_puts(b, "    </testcase>\n");
        lh_buf_free(&text);
        lh_buf_free(&message);
    }

    int k = 0;
    for (const lh_json *inv = lh_json_first(invs); inv; inv = inv->next) {
        lh_buf case_name = LH_BUF_INIT, why = LH_BUF_INIT,
               text = LH_BUF_INIT;
        const char *metric = lh_json_gets(inv, "metric", "?");
        const char *kind = lh_json_gets(inv, "kind", "?");
        lh_buf_printf(&case_name, "%s %s", metric, kind);
        /* Two invariants of one kind on one metric keep distinct names. */
        int same = 0;
        for (const lh_json *o = lh_json_first(invs); o != inv; o = o->next)
            same += strcmp(lh_json_gets(o, "metric", "?"), metric) == 0 &&
                    strcmp(lh_json_gets(o, "kind", "?"), kind) == 0;
        if (same)
            lh_buf_printf(&case_name, " #%d", same + 1);
        lh_inv_verdict v = lh_rep_inv_verdict(w, inv, gate_ok, &why);
        evidence_text(&text, w, inv);
        open_case(b, name, lh_buf_str(&case_name), script,
                  ninv ? seconds / (double)ninv : 0);
        n->tests++;
        if (v == LH_INV_FAIL &&
            strcmp(lh_json_gets(inv, "status", ""), "unresolved") == 0) {
            /* not a failure found: one leakhound could not judge */
            problem(b, "error", "unresolved", lh_buf_str(&why),
                    lh_buf_str(&text));
            n->errors++;
            failed_cases++;
        } else if (v == LH_INV_FAIL) {
            const lh_json *bl = lh_rep_stored_baseline(inv);
            int by_baseline = strcmp(lh_json_gets(bl, "status", ""),
                                     "fail") == 0;
            problem(b, "failure", by_baseline ? "baseline" : kind,
                    lh_buf_str(&why), lh_buf_str(&text));
            n->failures++;
            failed_cases++;
        } else {
            lh_buf note = LH_BUF_INIT;
            if (v == LH_INV_EXPECTED_FAIL)
                lh_buf_printf(&note, "%s\n", lh_buf_str(&why));
            lh_buf_puts(&note, lh_buf_str(&text));
            system_out(b, lh_buf_str(&note));
            lh_buf_free(&note);
        }
        lh_buf_puts(b, "    </testcase>\n");
        lh_buf_free(&case_name);
        lh_buf_free(&why);
        lh_buf_free(&text);
        k++;
    }

    /* A workload with nothing else to show, or whose gate failed without
     * any single invariant to blame (e.g. expected to fail, but every
     * invariant passed), still gets a testcase that carries the gate. */
    if (!lh_rep_aborted(w) && (k == 0 || (!gate_ok && failed_cases == 0))) {
        lh_buf text = LH_BUF_INIT;
        lh_buf_printf(&text, "status %s; gate: %s\nrepro: ",
                      lh_rep_status(w), lh_buf_str(&gate_reason));
        lh_rep_repro(&text, w);
        lh_buf_putc(&text, '\n');
        open_case(b, name, k ? "expectation" : "workload", script,
                  k ? 0 : seconds);
        n->tests++;
        if (gate_ok) {
            system_out(b, lh_buf_str(&text));
        } else {
            problem(b, "failure", "gate", lh_buf_str(&gate_reason),
                    lh_buf_str(&text));
            n->failures++;
        }
        lh_buf_puts(b, "    </testcase>\n");
        lh_buf_free(&text);
    }
    n->seconds += isfinite(seconds) ? seconds : 0;
    lh_buf_free(&gate_reason);
}

static void regression_case(lh_buf *b, const lh_json *c,
                            const char *classname, suite_counts *n)
{
    const char *id = lh_json_gets(c, "id", "?");
    const lh_json *found = lh_json_get(c, "found");
    lh_buf text = LH_BUF_INIT, reason = LH_BUF_INIT;
    int ok = lh_rep_case_gate(c, &reason);
    if (!reason.len)
        lh_buf_puts(&reason, lh_json_gets(c, "reason", "regression"));
    lh_buf_printf(&text, "status: %s%s\nreason: %s\n",
                  lh_json_gets(c, "status", "?"),
                  lh_json_getb(c, "expect_leak", 0) ?
                      " (a leak is expected)" : "",
                  lh_json_gets(c, "reason", ""));
    lh_buf_printf(&text, "workload: %s (%s)\nmetric: %s\n",
                  lh_json_gets(c, "workload", "?"),
                  lh_json_gets(c, "script", "?"),
                  lh_json_gets(c, "metric", "?"));
    double g = lh_rep_getn(c, "growth_per_input");
    if (!isnan(g)) {
        lh_buf_puts(&text, "growth per input: ");
        lh_rep_num(&text, g);
        lh_buf_putc(&text, '\n');
    }
    lh_buf_printf(&text, "signature: %s\ninput: %s\ncase: %s\n",
                  lh_json_gets(c, "signature", ""),
                  lh_json_gets(c, "input", ""), lh_json_gets(c, "dir", ""));
    if (found)
        lh_buf_printf(&text, "found %s by %s (%s, seed %.0f, commit %s)\n",
                      lh_json_gets(found, "date", "?"),
                      lh_json_gets(found, "by", "?"),
                      lh_json_gets(found, "engine", "?"),
                      lh_json_getn(found, "seed", 0),
                      lh_json_gets(found, "commit", "?"));
    lh_buf_printf(&text, "repro: %s\n", lh_json_gets(c, "repro", ""));
    open_case(b, classname, id, lh_json_gets(c, "script", NULL), 0);
    n->tests++;
    if (ok) {
        system_out(b, lh_buf_str(&text));
    } else {
        problem(b, "failure", lh_json_gets(c, "status", "?"),
                lh_buf_str(&reason), lh_buf_str(&text));
        n->failures++;
    }
    lh_buf_puts(b, "    </testcase>\n");
    lh_buf_free(&text);
    lh_buf_free(&reason);
}

static void suite(lh_buf *out, const char *name, const char *timestamp,
                  const suite_counts *n, const lh_buf *cases)
{
    lh_buf_puts(out, "  <testsuite");
    attr(out, "name", name);
    lh_buf_printf(out, " tests=\"%d\" failures=\"%d\" errors=\"%d\" "
                  "skipped=\"0\" time=\"%.3f\"", n->tests, n->failures,
                  n->errors, n->seconds);
    if (timestamp)
        attr(out, "timestamp", timestamp);
    lh_buf_puts(out, ">\n");
    lh_buf_puts(out, lh_buf_str(cases));
    lh_buf_puts(out, "  </testsuite>\n");
}

static int seen_script(const lh_json *workloads, const lh_json *upto,
                       const char *script)
{
    for (const lh_json *w = lh_json_first(workloads); w != upto; w = w->next)
        if (strcmp(lh_json_gets(w, "script", ""), script) == 0)
            return 1;
    return 0;
}

void lh_report_junit(const lh_json *report, lh_buf *out)
{
    const lh_json *workloads = lh_json_get(report, "workloads");
    const char *started = lh_json_gets(report, "started", NULL);
    suite_counts all = { 0, 0, 0, 0 };
    lh_buf suites = LH_BUF_INIT;

    /* One testsuite per script, in the order the scripts first ran. */
    for (const lh_json *w = lh_json_first(workloads); w; w = w->next) {
        const char *script = lh_json_gets(w, "script", "");
        if (seen_script(workloads, w, script))
            continue;
        suite_counts n = { 0, 0, 0, 0 };
        lh_buf cases = LH_BUF_INIT;
        for (const lh_json *o = w; o; o = o->next)
            if (strcmp(lh_json_gets(o, "script", ""), script) == 0)
                workload_cases(&cases, o, &n);
        suite(&suites, *script ? script : "leakhound", started, &n, &cases);
        all.tests += n.tests;
        all.failures += n.failures;
        all.errors += n.errors;
        all.seconds += n.seconds;
        lh_buf_free(&cases);
    }

    const lh_json *regressions = lh_json_get(report, "regressions");
    if (lh_json_first(regressions)) {
        suite_counts n = { 0, 0, 0, 0 };
        lh_buf cases = LH_BUF_INIT;
        for (const lh_json *c = lh_json_first(regressions); c; c = c->next)
            regression_case(&cases, c, "regressions", &n);
        suite(&suites, "regressions", started, &n, &cases);
        all.tests += n.tests;
        all.failures += n.failures;
        all.errors += n.errors;
        lh_buf_free(&cases);
    }

    /* Nightly findings as cases too, so a CI server shows a new leak as a
     * failing test (classname: the group, new, known or fixed). */
    const lh_json *nightly = lh_json_get(report, "nightly");
    if (nightly && nightly->type == LH_JOBJ) {
        static const char *const groups[][2] = {
            { "new", "nightly.new" }, { "known", "nightly.known" },
            { "fixed", "nightly.fixed" },
        };
        suite_counts n = { 0, 0, 0, 0 };
        lh_buf cases = LH_BUF_INIT;
        for (size_t g = 0; g < 3; g++) {
            const lh_json *list = lh_json_get(nightly, groups[g][0]);
            for (const lh_json *c = lh_json_first(list); c; c = c->next)
                regression_case(&cases, c, groups[g][1], &n);
        }
        n.seconds = lh_json_getn(nightly, "budget_seconds", 0);
        if (n.tests) {
            suite(&suites, "nightly", started, &n, &cases);
            all.tests += n.tests;
            all.failures += n.failures;
            all.errors += n.errors;
        }
        lh_buf_free(&cases);
    }

    lh_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    lh_buf_puts(out, "<testsuites name=\"leakhound\"");
    lh_buf_printf(out, " tests=\"%d\" failures=\"%d\" errors=\"%d\" "
                  "skipped=\"0\" time=\"%.3f\"", all.tests, all.failures,
                  all.errors, all.seconds);
    if (started)
        attr(out, "timestamp", started);
    lh_buf_puts(out, ">\n");
    lh_buf_puts(out, lh_buf_str(&suites));
    lh_buf_puts(out, "</testsuites>\n");
    lh_buf_free(&suites);
}
