/* The report's figures, drawn on a canvas (SVG or PNG): a histogram with a log-scale count
 * axis, trace lines per chain, a matrix heat map, and test images beside each chain's predicted
 * probabilities. Each function draws one whole figure of PLOT_WIDTH × its height. */
#ifndef BNN_REPORT_PLOT_H
#define BNN_REPORT_PLOT_H

#include <stddef.h>

#include "report/canvas.h"

#define PLOT_WIDTH 560.0
#define PLOT_HEIGHT 300.0

/* Histogram of `bins` equal bins over [lo, hi]: observed counts as bars, `expected` (may be
 * NULL) as a step line, vertical dashed lines at vlines (n_vlines). Counts on a log10 axis. */
void plot_histogram(canvas *c, const char *title, const char *xlabel, double lo, double hi,
                    size_t bins, const double *observed, const double *expected,
                    const double *vlines, size_t n_vlines);

/* One line per chain: y (K, n) chain-major. */
void plot_traces(canvas *c, const char *title, const double *y, size_t n, size_t K);

/* K x K matrix m (NaN cells grey), coloured from lo (green) to hi (red), values printed. */
void plot_heatmap(canvas *c, const char *title, const double *m, size_t K, double lo, double hi);

/* Test inputs with their predictions by chain. */
typedef struct {
    size_t n;                    /* inputs shown */
    size_t pw, ph;               /* image width and height in pixels */
    const unsigned char *images; /* (n, ph, pw, 3) RGB */
    const char *const *captions; /* (n) one line under each image, e.g. row, label, R-hat */
    const double *probs;         /* (n, K, C) each chain's mean predicted probabilities */
    size_t K, C;                 /* chains, classes */
} plot_inputs_data;

/* Height of the figure plot_inputs draws for n inputs. */
double plot_inputs_height(size_t n);

/* A row per input: the image, its caption, and grouped bars (class on x, one bar per chain). */
void plot_inputs(canvas *c, const char *title, const plot_inputs_data *d);

#endif
