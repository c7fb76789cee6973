/* A drawing surface for the report's figures with two renderings of the same calls: SVG text
 * (inline in the HTML page) and a cairo image written as PNG (for papers and slides). The plot
 * functions (src/report/plot.h) draw once against this interface and never know which.
 *
 * Coordinates are pixels from the top-left corner; colours are 0xRRGGBB. */
#ifndef BNN_REPORT_CANVAS_H
#define BNN_REPORT_CANVAS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

typedef enum { CANVAS_SVG, CANVAS_PNG } canvas_kind;

typedef enum { CANVAS_START = -1, CANVAS_MIDDLE = 0, CANVAS_END = 1 } canvas_anchor;

typedef struct {
    canvas_kind kind;
    double width, height;
    FILE *svg;      /* CANVAS_SVG: where the <svg> element goes (borrowed) */
    void *surface;  /* CANVAS_PNG: cairo_surface_t (owned) */
    void *cr;       /* CANVAS_PNG: cairo_t (owned) */
} canvas;

/* Starts an SVG element of width × height on f (white background). */
void canvas_begin_svg(canvas *c, FILE *f, double width, double height);

/* Starts an image of width × height pixels (white background). */
bnn_status canvas_begin_png(canvas *c, double width, double height);

/* Closes the element (SVG) or writes the image to png_path and frees it (PNG; png_path is
 * ignored for SVG). Always releases the canvas. */
bnn_status canvas_end(canvas *c, const char *png_path);

/* A straight line; dashed: 4 on, 3 off. */
void canvas_line(canvas *c, double x1, double y1, double x2, double y2, uint32_t rgb,
                 double line_width, int dashed);

/* A filled rectangle; stroke_rgb is drawn around it unless it is CANVAS_NONE. */
#define CANVAS_NONE UINT32_MAX
void canvas_rect(canvas *c, double x, double y, double w, double h, uint32_t fill_rgb,
                 uint32_t stroke_rgb);

/* A polyline through (x[i], y[i]), i < n; points with a non-finite coordinate are skipped. */
void canvas_polyline(canvas *c, const double *x, const double *y, size_t n, uint32_t rgb,
                     double line_width, double opacity);

/* Text with its baseline at y, anchored at x by its start, middle or end. */
void canvas_text(canvas *c, double x, double y, const char *text, canvas_anchor anchor,
                 double size, uint32_t rgb);

/* An image of pw × ph pixels, rgb (ph, pw, 3) bytes, scaled without smoothing into the
 * rectangle (x, y, w, h). */
void canvas_image(canvas *c, double x, double y, double w, double h, const unsigned char *rgb,
                  size_t pw, size_t ph);

/* Escapes &, <, > (and quotes) for HTML and SVG text. */
void html_text(FILE *f, const char *s);

#endif
