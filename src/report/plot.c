/* The report's figures: axes, bars, step and trace lines, heat-map cells, image rows. */
#include "report/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define W PLOT_WIDTH
#define H PLOT_HEIGHT
#define ML 60.0 /* margins: left, right, top, bottom */
#define MR 20.0
#define MT 30.0
#define MB 45.0

#define BLACK 0x000000u
#define GRID 0xddddddu
#define BARS 0x4c78a8u
#define NULL_LINE 0xe45756u

static const uint32_t chain_colours[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                           0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

static void title_text(canvas *c, const char *title)
{
    canvas_text(c, c->width / 2, 18, title, CANVAS_MIDDLE, 13, BLACK);
}

/* Plot-area coordinates of x in [lo, hi] and of y in [ylo, yhi]. */
static double px(double x, double lo, double hi) { return ML + (x - lo) / (hi - lo) * (W - ML - MR); }
static double py(double y, double lo, double hi) { return H - MB - (y - lo) / (hi - lo) * (H - MT - MB); }

static void x_axis(canvas *c, double lo, double hi, const char *label)
{
    canvas_line(c, ML, H - MB, W - MR, H - MB, BLACK, 1, 0);
    for (int k = 0; k <= 5; k++) {
        double v = lo + (hi - lo) * k / 5.0, x = px(v, lo, hi);
        char tick[32];
        snprintf(tick, sizeof tick, "%.3g", v);
        canvas_line(c, x, H - MB, x, H - MB + 4, BLACK, 1, 0);
        canvas_text(c, x, H - MB + 16, tick, CANVAS_MIDDLE, 11, BLACK);
    }
    canvas_text(c, (ML + W - MR) / 2, H - 8, label, CANVAS_MIDDLE, 11, BLACK);
}

void plot_histogram(canvas *c, const char *title, const char *xlabel, double lo, double hi,
                    size_t bins, const double *observed, const double *expected,
                    const double *vlines, size_t n_vlines)
{
    title_text(c, title);
    double top = 1;
    for (size_t b = 0; b < bins; b++) {
        top = fmax(top, observed[b]);
        if (expected) top = fmax(top, expected[b]);
    }
    double ylo = -0.3, yhi = ceil(log10(top)) + 0.1; /* log10 count; 0.5 sits below 1 */
    for (int e = 0; e <= (int)yhi; e++) {
        double y = py(e, ylo, yhi);
        char tick[16];
        snprintf(tick, sizeof tick, "1e%d", e);
        canvas_line(c, ML, y, W - MR, y, GRID, 1, 0);
        canvas_text(c, ML - 4, y + 4, tick, CANVAS_END, 11, BLACK);
    }
    double bw = (W - ML - MR) / (double)bins;
    for (size_t b = 0; b < bins; b++) {
        if (observed[b] < 1) continue;
        double y = py(log10(observed[b]), ylo, yhi);
        canvas_rect(c, ML + bw * (double)b, y, bw * 0.95, H - MB - y, BARS, CANVAS_NONE);
    }
    if (expected) { /* step line; empty expected bins drop to the axis */
        double *xs = malloc(4 * bins * sizeof *xs), *ys = xs ? xs + 2 * bins : NULL;
        size_t n = 0;
        for (size_t b = 0; xs && b < bins; b++) {
            double v = expected[b] > 0.5 ? log10(expected[b]) : ylo;
            xs[n] = ML + bw * (double)b, xs[n + 1] = ML + bw * (double)(b + 1);
            ys[n] = ys[n + 1] = py(v, ylo, yhi);
            n += 2;
        }
        canvas_polyline(c, xs, ys, n, NULL_LINE, 2, 1);
        free(xs);
        canvas_text(c, W - MR, MT + 12, "null (converged chains, same ESS)", CANVAS_END, 11,
                    NULL_LINE);
    }
    for (size_t k = 0; k < n_vlines; k++) {
        if (vlines[k] < lo || vlines[k] > hi) continue;
        double x = px(vlines[k], lo, hi);
        char label[32];
        snprintf(label, sizeof label, "%g", vlines[k]);
        canvas_line(c, x, MT, x, H - MB, BLACK, 1, 1);
        canvas_text(c, x + 2, MT + 24 + 12 * (double)k, label, CANVAS_START, 11, BLACK);
    }
    x_axis(c, lo, hi, xlabel);
}

void plot_traces(canvas *c, const char *title, const double *y, size_t n, size_t K)
{
    title_text(c, title);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n * K; i++)
        if (isfinite(y[i])) lo = fmin(lo, y[i]), hi = fmax(hi, y[i]);
    if (!(hi > lo)) lo -= 1, hi += 1;
    for (int k = 0; k <= 4; k++) {
        double v = lo + (hi - lo) * k / 4.0, yy = py(v, lo, hi);
        char tick[32];
        snprintf(tick, sizeof tick, "%.3g", v);
        canvas_line(c, ML, yy, W - MR, yy, 0xeeeeeeu, 1, 0);
        canvas_text(c, ML - 4, yy + 4, tick, CANVAS_END, 11, BLACK);
    }
    double xmax = n > 1 ? (double)(n - 1) : 1;
    enum { CHUNK = 256 };
    for (size_t ch = 0; ch < K; ch++) {
        /* in chunks that share their end points, so the line is continuous */
        for (size_t start = 0; start + 1 < n || (start == 0 && n == 1); start += CHUNK - 1) {
            double xs[CHUNK], ys[CHUNK];
            size_t m = 0;
            for (size_t i = start; i < n && m < CHUNK; i++, m++) {
                xs[m] = px((double)i, 0, xmax);
                ys[m] = isfinite(y[ch * n + i]) ? py(y[ch * n + i], lo, hi) : NAN;
            }
            canvas_polyline(c, xs, ys, m, chain_colours[ch % 10], 1, 0.8);
            if (n == 1) break;
        }
    }
    x_axis(c, 0, xmax, "draw (colour = chain)");
}

void plot_heatmap(canvas *c, const char *title, const double *m, size_t K, double lo, double hi)
{
    title_text(c, title);
    double side = fmin(W - ML - MR, H - MT - MB) / (double)(K ? K : 1);
    char text[64];
    for (size_t a = 0; a < K; a++) {
        snprintf(text, sizeof text, "%zu", a);
        canvas_text(c, ML - 4, MT + side * ((double)a + 0.5) + 4, text, CANVAS_END, 11, BLACK);
        canvas_text(c, ML + side * ((double)a + 0.5), MT + side * (double)K + 14, text,
                    CANVAS_MIDDLE, 11, BLACK);
        for (size_t b = 0; b < K; b++) {
            double v = m[a * K + b], t = isfinite(v) ? fmin(1, fmax(0, (v - lo) / (hi - lo))) : 0;
            uint32_t fill = isfinite(v) ? (uint32_t)(60 + 195 * t) << 16 |
                                              (uint32_t)(200 - 160 * t) << 8 | 0x40u
                                        : 0xccccccu;
            canvas_rect(c, ML + side * (double)b, MT + side * (double)a, side, side, fill,
                        0xffffffu);
            if (isfinite(v) && K <= 16) {
                snprintf(text, sizeof text, "%.3f", v);
                canvas_text(c, ML + side * ((double)b + 0.5), MT + side * ((double)a + 0.5) + 4,
                            text, CANVAS_MIDDLE, 11, BLACK);
            }
        }
    }
    snprintf(text, sizeof text, "chain x chain; green %.3g .. red %.3g", lo, hi);
    canvas_text(c, ML + side * (double)K + 10, MT + 12, text, CANVAS_START, 11, BLACK);
}

#define ROW_H 100.0 /* one input: its caption, a 64-pixel image beside the bars */
#define IMG 64.0

double plot_inputs_height(size_t n) { return MT + ROW_H * (double)n + 20; }

void plot_inputs(canvas *c, const char *title, const plot_inputs_data *d)
{
    title_text(c, title);
    const double bx = 20 + IMG + 50, bw = W - bx - MR; /* the bar area of each row */
    for (size_t i = 0; i < d->n; i++) {
        double top = MT + ROW_H * (double)i;
        canvas_text(c, 20, top + 12, d->captions[i], CANVAS_START, 10, BLACK);
        canvas_image(c, 20, top + 18, IMG, IMG, d->images + i * d->ph * d->pw * 3, d->pw, d->ph);
        double base = top + 18 + IMG, height = IMG - 8, slot = bw / (double)d->C;
        canvas_line(c, bx, base, bx + bw, base, BLACK, 1, 0);
        canvas_line(c, bx, base - height, bx + bw, base - height, GRID, 1, 1);
        canvas_text(c, bx - 4, base - height + 4, "1", CANVAS_END, 9, BLACK);
        canvas_text(c, bx - 4, base, "0", CANVAS_END, 9, BLACK);
        for (size_t k = 0; k < d->C; k++) {
            char label[24];
            snprintf(label, sizeof label, "%zu", k);
            canvas_text(c, bx + slot * ((double)k + 0.5), base + 11, label, CANVAS_MIDDLE, 9,
                        BLACK);
            double w = slot * 0.8 / (double)d->K;
            for (size_t ch = 0; ch < d->K; ch++) {
                double p = d->probs[(i * d->K + ch) * d->C + k];
                if (!(p > 0)) continue;
                double h = height * fmin(p, 1);
                canvas_rect(c, bx + slot * ((double)k + 0.1) + w * (double)ch, base - h, w, h,
                            chain_colours[ch % 10], CANVAS_NONE);
            }
        }
    }
    canvas_text(c, W - MR, c->height - 6, "bars: each chain's mean predicted probability per "
                "class (colour = chain)", CANVAS_END, 10, BLACK);
}
