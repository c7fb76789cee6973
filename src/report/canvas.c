/* The canvas's two renderings: SVG elements written as text, and cairo drawing on an image. */
#include "report/canvas.h"

#include <cairo.h>
#include <math.h>

void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '&') fputs("&amp;", f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

static void cairo_colour(cairo_t *cr, uint32_t rgb, double alpha)
{
    cairo_set_source_rgba(cr, (double)((rgb >> 16) & 0xff) / 255.0,
                          (double)((rgb >> 8) & 0xff) / 255.0, (double)(rgb & 0xff) / 255.0, alpha);
}

void canvas_begin_svg(canvas *c, FILE *f, double width, double height)
{
    *c = (canvas){.kind = CANVAS_SVG, .width = width, .height = height, .svg = f};
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" "
               "height=\"100%%\" fill=\"white\"/>\n", width, height);
}

bnn_status canvas_begin_png(canvas *c, double width, double height)
{
    *c = (canvas){.kind = CANVAS_PNG, .width = width, .height = height};
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)ceil(width),
                                                    (int)ceil(height));
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return BNN_ERROR(BNN_ENOMEM, "cannot create a %.0f x %.0f image", width, height);
    }
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    c->surface = s;
    c->cr = cr;
    return BNN_OK;
}

bnn_status canvas_end(canvas *c, const char *png_path)
{
    if (c->kind == CANVAS_SVG) {
        fprintf(c->svg, "</svg>\n");
        return BNN_OK;
    }
    cairo_surface_t *s = c->surface;
    cairo_status_t st = cairo_status(c->cr);
    cairo_destroy(c->cr);
    if (st == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(s);
        st = cairo_surface_write_to_png(s, png_path);
    }
    cairo_surface_destroy(s);
    c->surface = c->cr = NULL;
    if (st != CAIRO_STATUS_SUCCESS)
        return BNN_ERROR(BNN_EIO, "%s: cannot write the PNG: %s", png_path,
                         cairo_status_to_string(st));
    return BNN_OK;
}

void canvas_line(canvas *c, double x1, double y1, double x2, double y2, uint32_t rgb,
                 double line_width, int dashed)
{
    if (c->kind == CANVAS_SVG) {
        fprintf(c->svg, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"#%06x\" stroke-width=\"%g\"%s/>\n", x1, y1, x2, y2,
                (unsigned)rgb, line_width, dashed ? " stroke-dasharray=\"4,3\"" : "");
        return;
    }
    cairo_t *cr = c->cr;
    const double dash[2] = {4, 3};
    cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
    cairo_set_line_width(cr, line_width);
    cairo_colour(cr, rgb, 1);
    cairo_move_to(cr, x1, y1);
    cairo_line_to(cr, x2, y2);
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
}

void canvas_rect(canvas *c, double x, double y, double w, double h, uint32_t fill_rgb,
                 uint32_t stroke_rgb)
{
    if (c->kind == CANVAS_SVG) {
        fprintf(c->svg, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"#%06x\"", x, y, w, h, (unsigned)fill_rgb);
        if (stroke_rgb != CANVAS_NONE) fprintf(c->svg, " stroke=\"#%06x\"", (unsigned)stroke_rgb);
        fprintf(c->svg, "/>\n");
        return;
    }
    cairo_t *cr = c->cr;
    cairo_rectangle(cr, x, y, w, h);
    cairo_colour(cr, fill_rgb, 1);
    if (stroke_rgb == CANVAS_NONE) {
        cairo_fill(cr);
        return;
    }
    cairo_fill_preserve(cr);
    cairo_set_line_width(cr, 1);
    cairo_colour(cr, stroke_rgb, 1);
    cairo_stroke(cr);
}

void canvas_polyline(canvas *c, const double *x, const double *y, size_t n, uint32_t rgb,
                     double line_width, double opacity)
{
    if (c->kind == CANVAS_SVG) {
        fprintf(c->svg, "<polyline fill=\"none\" stroke=\"#%06x\" stroke-width=\"%g\" "
                        "opacity=\"%g\" points=\"", (unsigned)rgb, line_width, opacity);
        for (size_t i = 0; i < n; i++)
            if (isfinite(x[i]) && isfinite(y[i])) fprintf(c->svg, "%.1f,%.1f ", x[i], y[i]);
        fprintf(c->svg, "\"/>\n");
        return;
    }
    cairo_t *cr = c->cr;
    int started = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        if (started) cairo_line_to(cr, x[i], y[i]);
        else cairo_move_to(cr, x[i], y[i]);
        started = 1;
    }
    cairo_set_line_width(cr, line_width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_colour(cr, rgb, opacity);
    cairo_stroke(cr);
}

void canvas_text(canvas *c, double x, double y, const char *text, canvas_anchor anchor,
                 double size, uint32_t rgb)
{
    if (c->kind == CANVAS_SVG) {
        static const char *const anchors[3] = {"start", "middle", "end"};
        fprintf(c->svg, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%g\" fill=\"#%06x\" "
                        "text-anchor=\"%s\">", x, y, size, (unsigned)rgb, anchors[anchor + 1]);
        html_text(c->svg, text);
        fprintf(c->svg, "</text>\n");
        return;
    }
    cairo_t *cr = c->cr;
    cairo_set_font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, text, &e);
    double shift = anchor == CANVAS_START ? 0 : anchor == CANVAS_MIDDLE ? e.x_advance / 2
                                                                          : e.x_advance;
    cairo_colour(cr, rgb, 1);
    cairo_move_to(cr, x - shift, y);
    cairo_show_text(cr, text);
}

void canvas_image(canvas *c, double x, double y, double w, double h, const unsigned char *rgb,
                  size_t pw, size_t ph)
{
    double sx = w / (double)pw, sy = h / (double)ph;
    if (c->kind == CANVAS_SVG) { /* one rectangle per pixel: thumbnails are small */
        fprintf(c->svg, "<g shape-rendering=\"crispEdges\">");
        for (size_t i = 0; i < ph; i++)
            for (size_t j = 0; j < pw; j++) {
                const unsigned char *p = rgb + 3 * (i * pw + j);
                fprintf(c->svg, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                                "fill=\"#%02x%02x%02x\"/>", x + sx * (double)j,
                        y + sy * (double)i, sx, sy, p[0], p[1], p[2]);
            }
        fprintf(c->svg, "</g>\n");
        return;
    }
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)pw, (int)ph);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return;
    }
    cairo_surface_flush(img);
    unsigned char *data = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (size_t i = 0; i < ph; i++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)stride * i);
        for (size_t j = 0; j < pw; j++) {
            const unsigned char *p = rgb + 3 * (i * pw + j);
            row[j] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
    }
    cairo_surface_mark_dirty(img);
    cairo_t *cr = c->cr;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, sx, sy);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, (double)pw, (double)ph);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
}
