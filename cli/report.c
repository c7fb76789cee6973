/* bnnmc report: the HTML page of a diagnosed run. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report/report.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: bnnmc report RUN [--out FILE]\n\n"
               "Writes RUN/report.html: R-hat tables and histograms (log count axis) of weight\n"
               "space raw and aligned and of function space, with the 1.01/1.05/1.1 lines and\n"
               "the null reference; traces of the worst quantities per chain; the chain-island\n"
               "heat maps; posterior marginals against the prior; sample statistics.\n"
               "Reads RUN/diagnostics.json: run `bnnmc diagnose RUN --align` first.\n\n"
               "options:\n"
               "  --out FILE   write FILE instead of RUN/report.html\n"
               "  --help       this text\n\n"
               "example:\n"
               "  bnnmc diagnose runs/digits --align && bnnmc report runs/digits\n");
}

int cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
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
    if (bnn_report_write(dir, out) != BNN_OK) {
        fprintf(stderr, "bnnmc report: %s\n", bnn_last_error());
        return 1;
    }
    printf("wrote %s%s\n", out ? out : dir, out ? "" : "/report.html");
    return 0;
}
