/* SVG drawing for the report: axes, bars, step and trace lines, heat-map cells. */
#include "report/svg.h"

#include <math.h>

#define W 560.0
#define H 300.0
#define ML 60.0 /* margins: left, right, top, bottom */
#define MR 20.0
#define MT 30.0
#define MB 45.0

static const char *const chain_colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                            "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                            "#bcbd22", "#17becf"};

void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '&') fputs("&amp;", f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else fputc(*s, f);
    }
}

static void begin(FILE *f, const char *title)
{
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" "
               "height=\"100%%\" fill=\"white\"/>\n<text x=\"%.0f\" y=\"18\" "
               "font-size=\"13\" text-anchor=\"middle\">", W, H, W / 2);
    html_text(f, title);
    fprintf(f, "</text>\n");
}

/* Plot-area coordinates of x in [lo, hi] and of y in [ylo, yhi]. */
static double px(double x, double lo, double hi) { return ML + (x - lo) / (hi - lo) * (W - ML - MR); }
static double py(double y, double lo, double hi) { return H - MB - (y - lo) / (hi - lo) * (H - MT - MB); }

static void x_axis(FILE *f, double lo, double hi, const char *label)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", ML,
            H - MB, W - MR, H - MB);
    for (int k = 0; k <= 5; k++) {
        double v = lo + (hi - lo) * k / 5.0, x = px(v, lo, hi);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>\n",
                x, H - MB, x, H - MB + 4, x, H - MB + 16, v);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (ML + W - MR) / 2, H - 8);
    html_text(f, label);
    fprintf(f, "</text>\n");
}

void svg_histogram(FILE *f, const char *title, const char *xlabel, double lo, double hi,
                   size_t bins, const double *observed, const double *expected,
                   const double *vlines, size_t n_vlines)
{
    begin(f, title);
    double top = 1;
    for (size_t b = 0; b < bins; b++) {
        top = fmax(top, observed[b]);
        if (expected) top = fmax(top, expected[b]);
    }
    double ylo = -0.3, yhi = ceil(log10(top)) + 0.1; /* log10 count; 0.5 sits below 1 */
    for (int e = 0; e <= (int)yhi; e++) {
        double y = py(e, ylo, yhi);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">1e%d</text>\n",
                ML, y, W - MR, y, ML - 4, y + 4, e);
    }
    double bw = (W - ML - MR) / (double)bins;
    for (size_t b = 0; b < bins; b++) {
        if (observed[b] < 1) continue;
        double y = py(log10(observed[b]), ylo, yhi);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4c78a8\"/>\n",
                ML + bw * (double)b, y, bw * 0.95, H - MB - y);
    }
    if (expected) { /* step line; empty expected bins drop to the axis */
        fprintf(f, "<polyline fill=\"none\" stroke=\"#e45756\" stroke-width=\"2\" points=\"");
        for (size_t b = 0; b < bins; b++) {
            double v = expected[b] > 0.5 ? log10(expected[b]) : ylo;
            double y = py(v, ylo, yhi);
            fprintf(f, "%.1f,%.1f %.1f,%.1f ", ML + bw * (double)b, y, ML + bw * (double)(b + 1), y);
        }
        fprintf(f, "\"/>\n<text x=\"%.1f\" y=\"%.1f\" fill=\"#e45756\" text-anchor=\"end\">"
                   "null (converged chains, same ESS)</text>\n", W - MR, MT + 12);
    }
    for (size_t k = 0; k < n_vlines; k++) {
        if (vlines[k] < lo || vlines[k] > hi) continue;
        double x = px(vlines[k], lo, hi);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" "
                   "stroke-dasharray=\"4,3\"/><text x=\"%.1f\" y=\"%.1f\">%g</text>\n",
                x, MT, x, H - MB, x + 2, MT + 24 + 12 * (double)k, vlines[k]);
    }
    x_axis(f, lo, hi, xlabel);
    fprintf(f, "</svg>\n");
}

void svg_traces(FILE *f, const char *title, const double *y, size_t n, size_t K)
{
    begin(f, title);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n * K; i++)
        if (isfinite(y[i])) lo = fmin(lo, y[i]), hi = fmax(hi, y[i]);
    if (!(hi > lo)) lo -= 1, hi += 1;
    for (int k = 0; k <= 4; k++) {
        double v = lo + (hi - lo) * k / 4.0, yy = py(v, lo, hi);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                ML, yy, W - MR, yy, ML - 4, yy + 4, v);
    }
    for (size_t c = 0; c < K; c++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1\" opacity=\"0.8\" "
                   "points=\"", chain_colours[c % 10]);
        for (size_t i = 0; i < n; i++)
            if (isfinite(y[c * n + i]))
                fprintf(f, "%.1f,%.1f ", px((double)i, 0, n > 1 ? (double)(n - 1) : 1),
                        py(y[c * n + i], lo, hi));
        fprintf(f, "\"/>\n");
    }
    x_axis(f, 0, n > 1 ? (double)(n - 1) : 1, "draw (colour = chain)");
    fprintf(f, "</svg>\n");
}

void svg_heatmap(FILE *f, const char *title, const double *m, size_t K, double lo, double hi)
{
    begin(f, title);
    double side = fmin(W - ML - MR, H - MT - MB) / (double)(K ? K : 1);
    for (size_t a = 0; a < K; a++) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%zu</text>\n", ML - 4,
                MT + side * ((double)a + 0.5) + 4, a);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%zu</text>\n",
                ML + side * ((double)a + 0.5), MT + side * (double)K + 14, a);
        for (size_t b = 0; b < K; b++) {
            double v = m[a * K + b], t = isfinite(v) ? fmin(1, fmax(0, (v - lo) / (hi - lo))) : 0;
            char fill[16];
            if (isfinite(v))
                snprintf(fill, sizeof fill, "#%02x%02x40", (int)(60 + 195 * t), (int)(200 - 160 * t));
            else
                snprintf(fill, sizeof fill, "#cccccc");
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                       "stroke=\"white\"/>", ML + side * (double)b, MT + side * (double)a, side,
                    side, fill);
            if (isfinite(v) && K <= 16)
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3f</text>",
                        ML + side * ((double)b + 0.5), MT + side * ((double)a + 0.5) + 4, v);
            fprintf(f, "\n");
        }
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">chain x chain; green %.3g .. red %.3g</text>\n",
            ML + side * (double)K + 10, MT + 12, lo, hi);
    fprintf(f, "</svg>\n");
}
