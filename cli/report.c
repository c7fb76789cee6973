/* bnnmc report: the HTML page of a diagnosed run. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report/report.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: bnnmc report RUN [--out FILE] [--figures DIR | --no-png]\n\n"
               "Writes RUN/report.html: R-hat tables and histograms (log count axis) of weight\n"
               "space raw and aligned and of function space, with the 1.01/1.05/1.1 lines and\n"
               "the null reference; traces of the worst quantities per chain; the chain-island\n"
               "heat maps; for image classification, the test images with the worst\n"
               "function-space R-hat beside each chain's predicted probabilities; posterior\n"
               "marginals against the prior; sample statistics. Every figure is inline SVG in\n"
               "the page and also a PNG file (RUN/figures/*.png).\n"
               "Reads RUN/diagnostics.json: run `bnnmc diagnose RUN --align` first.\n\n"
               "options:\n"
               "  --out FILE     write FILE instead of RUN/report.html\n"
               "  --figures DIR  write the PNG files into DIR instead of RUN/figures\n"
               "  --no-png       no PNG files\n"
               "  --help         this text\n\n"
               "example:\n"
               "  bnnmc diagnose runs/digits --align && bnnmc report runs/digits\n");
}

int cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *figures = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--figures") && i + 1 < argc) {
            figures = argv[++i];
        } else if (!strcmp(argv[i], "--no-png")) {
            figures = "";
        } else if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "bnnmc report: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            dir = argv[i];
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    if (bnn_report_write(dir, out, figures) != BNN_OK) {
        fprintf(stderr, "bnnmc report: %s\n", bnn_last_error());
        return 1;
    }
    printf("wrote %s%s\n", out ? out : dir, out ? "" : "/report.html");
    return 0;
}
