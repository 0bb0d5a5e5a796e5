/*
 * report_plot.c - an invariant as an inline SVG line chart.
 *
 * The plot is what a reader looks at first, so it draws the verdict's
 * evidence, not just the data: the samples, the baseline (first sample),
 * the judged window shaded, the Theil-Sen line over it (slope =
 * growth_per_iter, intercept = median of y - slope*x over the judged
 * points, as the detector fits it), and the threshold the verdict used:
 *   stable      start of the judged window + slack, over the window
 *   baseline,
 *   bounded     baseline + threshold, across the plot
 *   max_growth  the slope limit per_iter, dashed, from the window's start
 * and, after `leakhound test` compared it, the stored baseline's growth
 * plus tolerance, sloped from the window's start.  A rate (a counter's
 * increase per iteration) is drawn per phase instead of as the counter:
 * each point is a phase's rate, the fit the median rate, the threshold
 * max and the stored rate plus its tolerance level lines.  A limit far from the
 * data is not scaled to (it would flatten the data into the x axis): a
 * note at the plot's edge says where it is.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "report_escape.h"
#include "report_model.h"
#include "report_render.h"

/* Geometry in SVG user units; the page scales the whole viewBox. */
#define W 560.0
#define ML 70.0         /* left: y tick labels */
#define MR 18.0
#define MB 40.0         /* bottom: x tick labels and axis title */
#define PW (W - ML - MR)
#define PH 180.0        /* the plot area; the legend above takes rows */
#define LEGEND_ROW 17.0
#define LEGEND_MAX 6

#define C_SERIES "#2563eb"
#define C_FIT "#ea580c"
#define C_LIMIT "#dc2626"
#define C_BASE "#64748b"
#define C_GRID "#e2e8f0"
#define C_TEXT "#475569"
#define C_JUDGED "#eef2f7"
#define C_STORED "#7c3aed"

typedef struct axis {
    double lo, hi, step;
    double scale;           /* bytes: 1024^k; else 1 */
    const char *suffix;     /* tick label unit: "KiB"... or "" */
} axis;

typedef struct legend_item {
    const char *color, *dash;   /* dash: "" solid, "area" a filled box */
    int dot;
    char label[96];
    double x, y;                /* laid out by layout_legend */
} legend_item;

/* A limit drawn over the data: the threshold, the stored baseline. */
typedef struct guide {
    double x0, y0, x1, y1;
    const char *color, *dash, *cls;
    char label[96];
    int off_scale;      /* too far from the data to share its y range */
} guide;

#define MAX_GUIDES 2

typedef struct plot {
    double *xs, *ys;
    size_t n, judged_from;  /* index of the first judged point */
    int has_fit;
    double slope, intercept;
    guide guides[MAX_GUIDES];
    int nguides;
    axis x, y;
    const char *unit, *kind;
    int rate;                   /* points are per-phase rates */
    legend_item legend[LEGEND_MAX];
    int nlegend;
    double mt;                  /* top margin: the legend's rows */
} plot;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A 1-2-5 step giving about `want` intervals over span, never finer than
 * min_step (counts do not have half goroutines). */
static double nice_step(double span, int want, double min_step)
{
    double raw = span / want;
    if (!(raw > 0))
        return min_step > 0 ? min_step : 1;
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    return step < min_step ? min_step : step;
}

static void make_axis(axis *a, double lo, double hi, int want,
                      const char *unit)
{
    a->scale = 1;
    a->suffix = "";
    if (unit && strcmp(unit, "B") == 0) {
        static const char *const names[] = { "B", "KiB", "MiB", "GiB",
                                             "TiB" };
        double big = fmax(fabs(lo), fabs(hi));
        int k = 0;
        while (big / a->scale >= 1024 && k < 4) {
            a->scale *= 1024;
            k++;
        }
        a->suffix = names[k];
    }
    if (hi <= lo) {
        /* A flat series: a band around it, so the line sits mid-plot. */
        double pad = fmax(fabs(lo) * 0.02, 1);
        lo -= pad;
        hi += pad;
    }
    double step = nice_step((hi - lo) / a->scale, want, 1 / a->scale);
    a->step = step * a->scale;
    a->lo = floor(lo / a->step) * a->step;
    a->hi = ceil(hi / a->step) * a->step;
    if (a->hi <= a->lo)
        a->hi = a->lo + a->step;
}

/* Where v sits along an axis, 0..1; the middle when the axis has no
 * usable extent (values so large that their spread is below precision). */
static double frac(const axis *a, double v)
{
    double span = a->hi - a->lo;
    return span > 0 && isfinite(span) ? (v - a->lo) / span : 0.5;
}

static double px(const plot *p, double x)
{
    return ML + frac(&p->x, x) * PW;
}

static double py(const plot *p, double y)
{
    return p->mt + PH - frac(&p->y, y) * PH;
}

/* How many ticks to draw: counted, never stepped until past the end, so
 * a step below the values' precision cannot loop forever. */
static int ticks(const axis *a)
{
    double n = (a->hi - a->lo) / a->step;
    if (!isfinite(n) || n < 0)
        return 0;
    return n > 20 ? 21 : (int)floor(n + 0.5) + 1;
}

/* Tick labels: 20000 -> "20k", 1.5 MiB -> "1.5 MiB". */
static void tick_label(lh_buf *b, double v, const axis *a)
{
    double s = v / a->scale;
    if (fabs(s) < 1e-9 * fmax(1, a->step / a->scale))
        s = 0;
    if (*a->suffix) {
        lh_buf_printf(b, "%.4g %s", s, a->suffix);
    } else if (fabs(s) >= 1e6 && fmod(s, 1e5) == 0) {
        lh_buf_printf(b, "%gM", s / 1e6);
    } else if (fabs(s) >= 1e4 && fmod(s, 100) == 0) {
        lh_buf_printf(b, "%gk", s / 1e3);
    } else {
        lh_buf_printf(b, "%.4g", s);
    }
}

static void line(lh_buf *b, double x0, double y0, double x1, double y1,
                 const char *color, double width, const char *dash,
                 const char *cls)
{
    lh_buf_printf(b, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" "
                  "x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                  "stroke-width=\"%g\"", cls, x0, y0, x1, y1, color, width);
    if (dash)
        lh_buf_printf(b, " stroke-dasharray=\"%s\"", dash);
    lh_buf_puts(b, "/>\n");
}

static void text(lh_buf *b, double x, double y, const char *anchor,
                 const char *s)
{
    lh_buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
                  x, y, anchor);
    lh_xml_puts(b, s);
    lh_buf_puts(b, "</text>\n");
}

static void axes(lh_buf *b, const plot *p)
{
    lh_buf label = LH_BUF_INIT;
    lh_buf_printf(b, "<g class=\"axes\" font-size=\"12\" fill=\"%s\">\n",
                  C_TEXT);
    for (int i = 0; i < ticks(&p->y); i++) {
        double v = p->y.lo + i * p->y.step;
        double y = py(p, v);
        line(b, ML, y, ML + PW, y, C_GRID, 1, NULL, "grid");
        lh_buf_reset(&label);
        tick_label(&label, v, &p->y);
        text(b, ML - 8, y + 4, "end", lh_buf_str(&label));
    }
    for (int i = 0; i < ticks(&p->x); i++) {
        double v = p->x.lo + i * p->x.step;
        double x = px(p, v);
        line(b, x, p->mt + PH, x, p->mt + PH + 4, C_BASE, 1, NULL, "tick");
        lh_buf_reset(&label);
        tick_label(&label, v, &p->x);
        text(b, x, p->mt + PH + 17, "middle", lh_buf_str(&label));
    }
    line(b, ML, p->mt + PH, ML + PW, p->mt + PH, C_BASE, 1, NULL, "axis");
    line(b, ML, p->mt, ML, p->mt + PH, C_BASE, 1, NULL, "axis");
    text(b, ML + PW / 2, p->mt + PH + MB - 6, "middle", "iterations");
    /* Byte ticks carry their unit; counts get it once, along the axis. */
    if (p->unit && *p->unit && strcmp(p->unit, "B") != 0)
    {
        lh_buf_printf(b, "<text transform=\"translate(14 %.1f) rotate(-90)\""
                      " text-anchor=\"middle\">", p->mt + PH / 2);
        lh_xml_puts(b, p->unit);
        lh_buf_puts(b, "</text>\n");
    }
    lh_buf_puts(b, "</g>\n");
    lh_buf_free(&label);
}

/* About 6.6 units per character at 12px in a sans-serif face. */
static double legend_width(const legend_item *it)
{
    return 23 + 6.6 * (double)strlen(it->label) + 14;
}

static void add_legend(plot *p, const char *color, const char *dash,
                       int dot, const char *label)
{
    if (p->nlegend == LEGEND_MAX)
        return;
    legend_item *it = &p->legend[p->nlegend++];
    it->color = color;
    it->dash = dash;
    it->dot = dot;
    snprintf(it->label, sizeof it->label, "%s", label);
}

/* The legend's entries, wrapped into rows above the plot area; sets the
 * top margin. */
static void layout_legend(plot *p)
{
    lh_buf label = LH_BUF_INIT;
    add_legend(p, C_SERIES, "", 1, p->rate ? "rate per phase" : "samples");
    if (!p->rate)
        add_legend(p, C_BASE, "2 3", 0, "baseline");
    if (p->has_fit) {
        lh_buf_puts(&label, p->rate ? "median " : "trend ");
        lh_rep_rate(&label, p->rate ? p->intercept : p->slope, p->unit);
        add_legend(p, C_FIT, "", 0, lh_buf_str(&label));
    }
    for (int i = 0; i < p->nguides; i++)
        add_legend(p, p->guides[i].color, p->guides[i].dash, 0,
                   p->guides[i].label);
    if (p->judged_from > 0)
        add_legend(p, C_JUDGED, "area", 0, "judged window");
    lh_buf_free(&label);

    double x = ML, y = 14;
    for (int i = 0; i < p->nlegend; i++) {
        double w = legend_width(&p->legend[i]);
        if (x > ML && x + w - 14 > W - MR) {
            x = ML;
            y += LEGEND_ROW;
        }
        p->legend[i].x = x;
        p->legend[i].y = y;
        x += w;
    }
    p->mt = y + 18;
}

static void legend(lh_buf *b, const plot *p)
{
    lh_buf_printf(b, "<g class=\"legend\" font-size=\"12\" fill=\"%s\">\n",
                  C_TEXT);
    for (int i = 0; i < p->nlegend; i++) {
        const legend_item *it = &p->legend[i];
        if (strcmp(it->dash, "area") == 0) {
            lh_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" "
                          "height=\"11\" fill=\"%s\" stroke=\"#cbd5e1\"/>\n",
                          it->x, it->y - 6, it->color);
        } else {
            line(b, it->x, it->y, it->x + 18, it->y, it->color, 2.5,
                 *it->dash ? it->dash : NULL, "key");
            if (it->dot)
                lh_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" "
                              "r=\"2.6\" fill=\"%s\"/>\n", it->x + 9, it->y,
                              it->color);
        }
        text(b, it->x + 23, it->y + 4, "start", it->label);
    }
    lh_buf_puts(b, "</g>\n");
}

static void series(lh_buf *b, const plot *p)
{
    /* A light area under the samples makes the shape readable at a
     * glance; the line and dots carry the values. */
    lh_buf_printf(b, "<path class=\"area\" fill=\"%s\" fill-opacity=\"0.08\""
                  " d=\"M%.1f,%.1f", C_SERIES, px(p, p->xs[0]), p->mt + PH);
    for (size_t i = 0; i < p->n; i++)
        lh_buf_printf(b, " L%.1f,%.1f", px(p, p->xs[i]), py(p, p->ys[i]));
    lh_buf_printf(b, " L%.1f,%.1f Z\"/>\n", px(p, p->xs[p->n - 1]), p->mt + PH);
    lh_buf_printf(b, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
                  "stroke-width=\"2\" stroke-linejoin=\"round\" points=\"",
                  C_SERIES);
    for (size_t i = 0; i < p->n; i++)
        lh_buf_printf(b, "%s%.1f,%.1f", i ? " " : "", px(p, p->xs[i]),
                      py(p, p->ys[i]));
    lh_buf_puts(b, "\"/>\n");
    if (p->n > 90)
        return;     /* dots would merge into a thick line */
    lh_buf value = LH_BUF_INIT;
    lh_buf_printf(b, "<g class=\"dots\" fill=\"%s\">\n", C_SERIES);
    for (size_t i = 0; i < p->n; i++) {
        lh_buf_reset(&value);
        lh_buf_printf(&value, "iteration %.0f: ", p->xs[i]);
        lh_rep_qty(&value, p->ys[i], p->unit);
        lh_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\"><title>",
                      px(p, p->xs[i]), py(p, p->ys[i]));
        lh_xml_puts(b, lh_buf_str(&value));
        lh_buf_puts(b, "</title></circle>\n");
    }
    lh_buf_puts(b, "</g>\n");
    lh_buf_free(&value);
}

/* A guide clipped to the plot's y range; one wholly outside it becomes a
 * note at the plot's top or bottom edge saying where it is. */
static void draw_guide(lh_buf *b, const plot *p, const guide *g, int *marks)
{
    double t0 = 0, t1 = 1, dy = g->y1 - g->y0;
    if (dy != 0) {
        double ta = (p->y.lo - g->y0) / dy, tb = (p->y.hi - g->y0) / dy;
        t0 = fmax(t0, fmin(ta, tb));
        t1 = fmin(t1, fmax(ta, tb));
    } else if (g->y0 < p->y.lo || g->y0 > p->y.hi) {
        t1 = -1;
    }
    if (t1 > t0) {
        line(b, px(p, g->x0 + t0 * (g->x1 - g->x0)), py(p, g->y0 + t0 * dy),
             px(p, g->x0 + t1 * (g->x1 - g->x0)), py(p, g->y0 + t1 * dy),
             g->color, 2, g->dash, g->cls);
        return;
    }
    int above = fmax(g->y0, g->y1) > p->y.hi;
    lh_buf note = LH_BUF_INIT;
    lh_buf_printf(&note, "%s %s: %s the plot, at ", above ? "\xe2\x96\xb2" :
                  "\xe2\x96\xbc", g->label, above ? "above" : "below");
    lh_rep_qty(&note, above ? fmax(g->y0, g->y1) : fmin(g->y0, g->y1),
               p->unit);
    double y = above ? p->mt + 14 + 14 * *marks : p->mt + PH - 6 - 14 * *marks;
    lh_buf_printf(b, "<text class=\"%s-note\" x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"end\" font-size=\"11.5\" fill=\"%s\">",
                  g->cls, ML + PW - 6, y, g->color);
    lh_xml_puts(b, lh_buf_str(&note));
    lh_buf_puts(b, "</text>\n");
    lh_buf_free(&note);
    (*marks)++;
}

/* A level line across the plot. */
static void level_guide(plot *p, const char *color, const char *dash,
                        const char *cls, double y, const char *label)
{
    guide *g = &p->guides[p->nguides++];
    g->color = color;
    g->dash = dash;
    g->cls = cls;
    g->x0 = p->xs[0];
    g->x1 = p->xs[p->n - 1];
    g->y0 = g->y1 = y;
    snprintf(g->label, sizeof g->label, "%s", label);
}

/* The counter's samples become one rate per phase, at the phase's end;
 * the fit is the median rate (slope 0), the limits are levels. */
static int load_rate(plot *p, const lh_json *inv)
{
    size_t m = 0;
    for (size_t i = 1; i < p->n; i++)
        if (p->xs[i] > p->xs[i - 1]) {
            double r = (p->ys[i] - p->ys[i - 1]) / (p->xs[i] - p->xs[i - 1]);
            p->xs[m] = p->xs[i];
            p->ys[m++] = r;
        }
    p->n = m;
    if (m == 0)
        return -1;
    p->judged_from = 0;
    double med = lh_rep_getn(inv, "growth_per_iter");
    if (isfinite(med)) {
        p->slope = 0;
        p->intercept = med;
        p->has_fit = 1;
    }
    lh_buf label = LH_BUF_INIT;
    double t = lh_rep_getn(inv, "threshold");
    if (isfinite(t)) {
        lh_buf_puts(&label, "max ");
        lh_rep_rate(&label, t, p->unit);
        level_guide(p, C_LIMIT, "6 4", "threshold", t, lh_buf_str(&label));
    }
    const lh_json *bl = lh_rep_stored_baseline(inv);
    double bg = lh_rep_getn(bl, "growth_per_iter");
    double tol = lh_rep_getn(lh_json_get(bl, "tolerance"), "per_iter");
    if (bl && isfinite(bg)) {
        lh_buf_reset(&label);
        lh_buf_puts(&label, "stored ");
        lh_rep_rate(&label, bg, p->unit);
        if (isfinite(tol)) {
            lh_buf_puts(&label, " +");
            lh_rep_qty(&label, tol, p->unit);
        }
        level_guide(p, C_STORED, "3 3", "stored",
                    bg + (isfinite(tol) ? tol : 0), lh_buf_str(&label));
    }
    lh_buf_free(&label);
    double xlo = p->xs[0], xhi = p->xs[0], ylo = 0, yhi = p->ys[0];
    for (size_t i = 0; i < p->n; i++) {
        xlo = fmin(xlo, p->xs[i]);
        xhi = fmax(xhi, p->xs[i]);
        ylo = fmin(ylo, p->ys[i]);
        yhi = fmax(yhi, p->ys[i]);
    }
    double span = yhi - ylo;
    if (span <= 0)
        span = fmax(fabs(yhi) * 0.02, 1);
    double dlo = ylo, dhi = yhi;
    for (int i = 0; i < p->nguides; i++) {
        guide *g = &p->guides[i];
        if (g->y0 > dhi + 1.5 * span || g->y0 < dlo - 1.5 * span) {
            g->off_scale = 1;
            continue;
        }
        ylo = fmin(ylo, g->y0);
        yhi = fmax(yhi, g->y0);
    }
    make_axis(&p->x, 0, xhi, 6, "");
    make_axis(&p->y, ylo, yhi, 5, p->unit);
    return 0;
}

/* Read the series and derive the fit and threshold lines. */
static int load(plot *p, const lh_json *inv)
{
    const lh_json *s = lh_json_get(inv, "series");
    size_t cap = s ? s->len : 0;
    p->xs = lh_xcalloc(cap ? cap : 1, sizeof *p->xs);
    p->ys = lh_xcalloc(cap ? cap : 1, sizeof *p->ys);
    for (const lh_json *e = lh_json_first(s); e; e = e->next) {
        const lh_json *x = lh_json_at(e, 0), *y = lh_json_at(e, 1);
        if (x && y && x->type == LH_JNUM && y->type == LH_JNUM &&
            isfinite(x->num) && isfinite(y->num)) {
            p->xs[p->n] = x->num;
            p->ys[p->n] = y->num;
            p->n++;
        }
    }
    if (p->n == 0)
        return -1;
    if (p->rate)
        return load_rate(p, inv);

    double judged = lh_rep_getn(inv, "judged_samples");
    size_t nj = isfinite(judged) && judged >= 1 && judged < (double)p->n ?
                (size_t)judged : p->n;
    p->judged_from = p->n - nj;

    p->slope = lh_rep_getn(inv, "growth_per_iter");
    if (isfinite(p->slope) && nj >= 2) {
        double *r = lh_xcalloc(nj, sizeof *r);
        for (size_t i = 0; i < nj; i++)
            r[i] = p->ys[p->judged_from + i] -
                   p->slope * p->xs[p->judged_from + i];
        p->intercept = median(r, nj);
        p->has_fit = 1;
        lh_raw_free(r);
    }

    double x0 = p->xs[p->judged_from], x1 = p->xs[p->n - 1];
    double y0 = p->ys[p->judged_from];
    double t = lh_rep_getn(inv, "threshold");
    if (isfinite(t)) {
        guide *g = &p->guides[p->nguides++];
        lh_buf label = LH_BUF_INIT;
        g->color = C_LIMIT;
        g->dash = "6 4";
        g->cls = "threshold";
        g->x0 = x0;
        g->x1 = x1;
        if (strcmp(p->kind, "stable") == 0) {
            g->y0 = g->y1 = y0 + t;
            lh_buf_puts(&label, "slack +");
            lh_rep_qty(&label, t, p->unit);
        } else if (strcmp(p->kind, "max_growth") == 0) {
            g->y0 = y0;
            g->y1 = y0 + t * (x1 - x0);
            lh_buf_puts(&label, "limit ");
            lh_rep_rate(&label, t, p->unit);
        } else {
            g->x0 = p->xs[0];
            g->y0 = g->y1 = p->ys[0] + t;
            lh_buf_puts(&label, strcmp(p->kind, "bounded") == 0 ?
                        "max +" : "slack +");
            lh_rep_qty(&label, t, p->unit);
        }
        snprintf(g->label, sizeof g->label, "%s", lh_buf_str(&label));
        lh_buf_free(&label);
    }
    /* The stored baseline's growth plus its tolerance, from the judged
     * window's start: a creeping regression shows as the trend climbing
     * past it while the threshold is still far away. */
    const lh_json *bl = lh_rep_stored_baseline(inv);
    double bg = lh_rep_getn(bl, "growth_per_iter");
    double tol = lh_rep_getn(lh_json_get(bl, "tolerance"), "per_iter");
    if (bl && isfinite(bg)) {
        guide *g = &p->guides[p->nguides++];
        lh_buf label = LH_BUF_INIT;
        double slope = bg + (isfinite(tol) ? tol : 0);
        g->color = C_STORED;
        g->dash = "3 3";
        g->cls = "stored";
        g->x0 = x0;
        g->x1 = x1;
        g->y0 = y0;
        g->y1 = y0 + slope * (x1 - x0);
        lh_buf_puts(&label, "stored ");
        lh_rep_rate(&label, bg, p->unit);
        if (isfinite(tol)) {
            lh_buf_puts(&label, " \xc2\xb1");
            lh_rep_qty(&label, tol, p->unit);
        }
        snprintf(g->label, sizeof g->label, "%s", lh_buf_str(&label));
        lh_buf_free(&label);
    }

    double xlo = p->xs[0], xhi = p->xs[0];
    double ylo = p->ys[0], yhi = p->ys[0];
    for (size_t i = 0; i < p->n; i++) {
        xlo = fmin(xlo, p->xs[i]);
        xhi = fmax(xhi, p->xs[i]);
        ylo = fmin(ylo, p->ys[i]);
        yhi = fmax(yhi, p->ys[i]);
    }
    if (p->has_fit) {
        double a = p->intercept + p->slope * x0;
        double b = p->intercept + p->slope * x1;
        ylo = fmin(ylo, fmin(a, b));
        yhi = fmax(yhi, fmax(a, b));
    }
    /* A limit far from the data would squash the data into a flat line
     * at the bottom: past 1.5 data spans it is marked, not scaled to. */
    double span = yhi - ylo;
    if (span <= 0)
        span = fmax(fabs(yhi) * 0.02, 1);
    double dlo = ylo, dhi = yhi;
    for (int i = 0; i < p->nguides; i++) {
        guide *g = &p->guides[i];
        double glo = fmin(g->y0, g->y1), ghi = fmax(g->y0, g->y1);
        if (ghi > dhi + 1.5 * span || glo < dlo - 1.5 * span) {
            g->off_scale = 1;
            continue;
        }
        ylo = fmin(ylo, glo);
        yhi = fmax(yhi, ghi);
    }
    make_axis(&p->x, xlo, xhi, 6, "");
    if (xlo >= 0)
        p->x.lo = 0;    /* iterations count from 0, the baseline */
    make_axis(&p->y, ylo, yhi, 5, p->unit);
    return 0;
}

void lh_report_plot(lh_buf *out, const lh_json *inv)
{
    plot p;
    memset(&p, 0, sizeof p);
    p.unit = lh_json_gets(inv, "unit", "");
    p.kind = lh_json_gets(inv, "kind", "");
    p.rate = strcmp(p.kind, "rate") == 0;
    const char *metric = lh_json_gets(inv, "metric", "?");
    int have = load(&p, inv) == 0;
    if (have)
        layout_legend(&p);
    else
        p.mt = 20;
    double h = p.mt + PH + MB;

    /* Inline SVG in HTML needs no xmlns: the page holds no URL at all. */
    lh_buf_printf(out, "<svg class=\"plot\" viewBox=\"0 0 %.0f %.0f\" "
                  "role=\"img\" aria-label=\"", W, h);
    lh_xml_attrs(out, metric);
    lh_buf_puts(out, p.rate ? " per iteration, phase by phase\">\n"
                            : " over iterations\">\n");
    if (!have) {
        lh_buf_printf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\""
                      " font-size=\"13\" fill=\"%s\">no samples</text>\n",
                      W / 2, h / 2, C_TEXT);
        lh_buf_puts(out, "</svg>\n");
        lh_raw_free(p.xs);
        lh_raw_free(p.ys);
        return;
    }

    double wx0 = px(&p, p.xs[p.judged_from]), wx1 = px(&p, p.xs[p.n - 1]);
    if (p.judged_from > 0)
        lh_buf_printf(out, "<rect class=\"judged\" x=\"%.1f\" y=\"%.1f\" "
                      "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                      wx0, p.mt, wx1 - wx0, PH, C_JUDGED);
    axes(out, &p);
    legend(out, &p);
    if (!p.rate) {      /* a rate has no baseline level */
        double by = py(&p, p.ys[0]);
        line(out, ML, by, ML + PW, by, C_BASE, 1.5, "2 3", "baseline");
    }
    series(out, &p);
    int marks = 0;
    for (int i = 0; i < p.nguides; i++)
        draw_guide(out, &p, &p.guides[i], &marks);
    if (p.has_fit) {
        double x0 = p.xs[p.judged_from], x1 = p.xs[p.n - 1];
        lh_buf_printf(out, "<path class=\"fit\" fill=\"none\" stroke=\"%s\" "
                      "stroke-width=\"3\" stroke-opacity=\"0.6\" "
                      "d=\"M%.1f,%.1f L%.1f,%.1f\"/>\n", C_FIT, px(&p, x0),
                      py(&p, p.intercept + p.slope * x0), px(&p, x1),
                      py(&p, p.intercept + p.slope * x1));
    }
    lh_buf_puts(out, "</svg>\n");
    lh_raw_free(p.xs);
    lh_raw_free(p.ys);
}
