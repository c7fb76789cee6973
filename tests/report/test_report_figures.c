/* bnnmc report on a real (short) digits run: one PNG per inline SVG figure, each a readable
 * 560-pixel-wide image; the worst-R-hat test inputs drawn with the pixels of the right test rows
 * (dark ink on white), and their bars at each chain's mean predicted probabilities. */
#define _POSIX_C_SOURCE 200809L
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/dataset.h"
#include "diag/diag_run.h"
#include "report/report.h"
#include "sample/run.h"

static int verdict(int ok, const char *what, double value)
{
    printf("%s %s (%.4g)\n", ok ? "ok" : "not ok", what, value);
    return ok;
}

static int make_run(const char *dir)
{
    bnn_dataset_options dopt = {.name = "digits", .csv = {.header = -1, .target_col = -1},
                                .standardize = 1};
    bnn_dataset data;
    if (bnn_dataset_load(&dopt, &data) != BNN_OK) return 1;
    bnn_run_config cfg;
    bnn_run_config_defaults(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "mlp:10");
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", dir);
    cfg.chains = 3;
    cfg.warmup = 30;
    cfg.samples = 30;
    cfg.hmc.max_leapfrog = 20;
    cfg.fs_points = 60;
    cfg.threads = 1;
    cfg.overwrite = 1;
    bnn_run *run;
    int rc = bnn_run_start(&cfg, &data, &dopt, &run) != BNN_OK;
    if (rc == 0) {
        bnn_run_progress p;
        for (bnn_run_poll(run, &p); !p.finished; bnn_run_poll(run, &p))
            nanosleep(&(struct timespec){0, 50000000L}, NULL);
        rc = bnn_run_finish(run) != BNN_OK;
        bnn_run_free(run);
    }
    bnn_dataset_free(&data);
    if (rc) return 1;
    bnn_diag_run_options opt = {.threads = 1};
    bnn_diag_run *d;
    if (bnn_diag_run_compute(dir, &opt, &d) != BNN_OK) return 1;
    rc = bnn_diag_run_write(d, dir) != BNN_OK;
    bnn_diag_run_free(d);
    return rc;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1 << 23, 1);
    if (f && buf) fread(buf, 1, (1 << 23) - 1, f);
    if (f) fclose(f);
    return buf;
}

/* Gray level (0..255) of pixel (x, y) of an RGB24 image. */
static int gray_at(cairo_surface_t *s, int x, int y)
{
    unsigned char *data = cairo_image_surface_get_data(s);
    uint32_t px = *(uint32_t *)(void *)(data + (size_t)cairo_image_surface_get_stride(s) * (size_t)y +
                                        4 * (size_t)x);
    return (int)((px >> 8) & 0xff); /* green; thumbnails are gray */
}

/* The thumbnails of worst_inputs.png: plot.c puts input i's 8x8 image at x 20..84,
 * y 30 + 100 i + 18 .. + 64 (8-pixel cells); its cell (r, c) must show 255 - scaled value. */
static int check_thumbnails(const char *dir, const char *html)
{
    bnn_dataset_options dopt = {.name = "digits", .csv = {.header = -1, .target_col = -1}};
    bnn_dataset raw;
    if (bnn_dataset_load(&dopt, &raw) != BNN_OK) return verdict(0, bnn_last_error(), 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/figures/worst_inputs.png", dir);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    int ok = verdict(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, "worst_inputs.png reads", 0);
    size_t n = 0, worst_err = 0;
    const char *p = html;
    for (; ok && (p = strstr(p, "test row ")); p++, n++) {
        size_t row = strtoul(p + 9, NULL, 10);
        const double *x = raw.test.x + row * 64;
        double lo = INFINITY, hi = -INFINITY;
        for (int j = 0; j < 64; j++) lo = fmin(lo, x[j]), hi = fmax(hi, x[j]);
        for (int j = 0; j < 64; j++) {
            int want = (int)lround(255 - (x[j] - lo) * 255 / (hi - lo));
            int got = gray_at(s, 20 + 8 * (j % 8) + 4, (int)(30 + 100 * n + 18) + 8 * (j / 8) + 4);
            size_t err = (size_t)abs(got - want);
            if (err > worst_err) worst_err = err;
        }
    }
    ok &= verdict(n >= 1 && worst_err <= 1, "thumbnail pixels = the test rows' pixels",
                  (double)worst_err);
    cairo_surface_destroy(s);
    bnn_dataset_free(&raw);
    return ok;
}

int main(void)
{
    char dir[] = "/tmp/bnnmc_report_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    int ok = verdict(make_run(dir) == 0, "digits run sampled and diagnosed", 0);
    ok = ok && verdict(bnn_report_write(dir, NULL, NULL) == BNN_OK, "report written", 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = ok ? read_all(path) : NULL;
    if (html) {
        const char *names[] = {"rhat_hist_weight", "rhat_hist_function", "trace_weight_1",
                               "trace_function_1", "islands_rhat_q90", "islands_tv",
                               "islands_agreement", "worst_inputs"};
        size_t good = 0, svg = 0;
        for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
            snprintf(path, sizeof path, "%s/figures/%s.png", dir, names[k]);
            cairo_surface_t *s = cairo_image_surface_create_from_png(path);
            good += cairo_surface_status(s) == CAIRO_STATUS_SUCCESS &&
                    cairo_image_surface_get_width(s) == 560 && cairo_image_surface_get_height(s) >= 300;
            cairo_surface_destroy(s);
        }
        for (const char *p = html; (p = strstr(p, "<svg")); p++) svg++;
        ok &= verdict(good == sizeof names / sizeof *names, "PNG figures, 560 wide", (double)good);
        ok &= verdict(strstr(html, "Test inputs with the worst function-space R-hat") != NULL,
                      "worst inputs section", 0);
        char needle[64];
        snprintf(needle, sizeof needle, "(%zu files)", svg);
        ok &= verdict(strstr(html, needle) != NULL, "one PNG per inline SVG", (double)svg);
        ok &= check_thumbnails(dir, html);
        free(html);
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return ok ? 0 : 1;
}
