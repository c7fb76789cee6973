/* Hand-written SVG plots for the run report: a histogram with a log-scale count axis, trace
 * lines per chain, and a matrix heat map. Each function writes one complete <svg> element. */
#ifndef BNN_REPORT_SVG_H
#define BNN_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

/* Histogram of `bins` equal bins over [lo, hi]: observed counts as bars, `expected` (may be
 * NULL) as a step line, vertical dashed lines at vlines (n_vlines). Counts on a log10 axis. */
void svg_histogram(FILE *f, const char *title, const char *xlabel, double lo, double hi,
                   size_t bins, const double *observed, const double *expected,
                   const double *vlines, size_t n_vlines);

/* One line per chain: y (K, n) chain-major. */
void svg_traces(FILE *f, const char *title, const double *y, size_t n, size_t K);

/* K x K matrix m (NaN cells grey), coloured from lo (green) to hi (red), values printed. */
void svg_heatmap(FILE *f, const char *title, const double *m, size_t K, double lo, double hi);

/* Escapes &, <, > for HTML text. */
void html_text(FILE *f, const char *s);

#endif
