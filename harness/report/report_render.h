/*
 * report_render.h - the renderers behind lh_report_render: each appends
 * one output file's full text, rendered from a parsed report.json, to a
 * buffer.  They never fail: a field that is missing or of the wrong type
 * renders as absent.
 */
#ifndef LEAKHOUND_REPORT_RENDER_H
#define LEAKHOUND_REPORT_RENDER_H

#include <stddef.h>

#include "buf.h"
#include "json.h"

/* junit.xml: a testsuite per script (and one for regression cases). */
void lh_report_junit(const lh_json *report, lh_buf *out);

/* summary.md, at most about max_bytes (rows past it are counted in a
 * closing note, never cut in half). */
void lh_report_markdown(const lh_json *report, lh_buf *out, size_t max_bytes);

/* index.html: one self-contained page. */
void lh_report_html(const lh_json *report, lh_buf *out);

/* An inline SVG plot of an invariant's series (iteration 0 is the
 * baseline) with the baseline, the Theil-Sen line fitted over the judged
 * window, the threshold, axes with units and a legend (report_plot.c). */
void lh_report_plot(lh_buf *out, const lh_json *inv);

#endif
