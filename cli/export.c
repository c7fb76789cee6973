/* bnnmc export: a run directory as NetCDF (ArviZ), CmdStan-style CSV or plain .npy arrays. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "opts.h"
#include "store/export.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bnnmc export RUN --format netcdf|stan-csv|npy [--out PATH] [--vars LIST]\n\n"
            "Writes a run directory in a form other tools open without custom code. Chains of\n"
            "unequal length (an interrupted run) are cut to the shortest.\n\n"
            "formats:\n"
            "  netcdf     one NetCDF-4 file in ArviZ's InferenceData layout: groups posterior\n"
            "             (one variable per weight tensor, and per precision of a hierarchical\n"
            "             prior: tau_layer0, ...), predictions (p: chain, draw, point,\n"
            "             output), sample_stats (acceptance_rate, energy, step_size, n_steps,\n"
            "             diverging, lp = (log_lik + log_prior) / temperature, ...),\n"
            "             observed_data (y at the recorded test points)\n"
            "             default --out RUN/posterior.nc\n"
            "  stan-csv   one CmdStan-style CSV per chain, PATH/output_<chain>.csv, with the\n"
            "             sampler columns (lp__ ... energy__), a hierarchical prior's\n"
            "             precisions (tau_layer0, ...) and the --vars quantities;\n"
            "             `bnnmc summary PATH/output_*.csv` and R's posterior read them\n"
            "             default --out RUN/stan\n"
            "  npy        the run's arrays copied to PATH with PATH/arrays.json naming every\n"
            "             file's dtype, shape, dims and coordinates\n"
            "             default --out RUN/export-npy\n\n"
            "options:\n"
            "  --format F     netcdf | stan-csv | npy (required)\n"
            "  --out PATH     output file (netcdf) or directory (stan-csv, npy)\n"
            "  --vars LIST    stan-csv: quantities, 0-based indices as `bnnmc diagnose` names\n"
            "                 them, comma-separated: NAME or NAME[IDX,...] with IDX one of\n"
            "                 * (all), N, or A:B (A <= i < B); NAME a weight tensor of the run\n"
            "                 (layer0.w, layer1.b, ...) or p (function space: point, output).\n"
            "                 Default p[0:3,*]; lp__ and the sampler columns are always written.\n"
            "                 CSV names are CmdStan's: layer0.w[3,0] -> layer0_w.4.1\n"
            "  --block-mb N   memory for one block of draws, MiB (default 64)\n"
            "  --help         this text\n\n"
            "examples:\n"
            "  bnnmc export runs/digits --format netcdf --out digits.nc\n"
            "  bnnmc export runs/digits --format stan-csv --vars 'p[0:2,*],layer1.b' --out csv\n"
            "  bnnmc export runs/digits --format npy --out digits-npy\n");
}

enum { FORMAT_NONE, FORMAT_NETCDF, FORMAT_STAN_CSV, FORMAT_NPY };

static int parse_format(const char *text)
{
    if (!strcmp(text, "netcdf")) return FORMAT_NETCDF;
    if (!strcmp(text, "stan-csv")) return FORMAT_STAN_CSV;
    if (!strcmp(text, "npy")) return FORMAT_NPY;
    return FORMAT_NONE;
}

static int run_export(const char *dir, int format, const char *out, const bnn_export_options *opt)
{
    static const char *const default_out[] = {NULL, "posterior.nc", "stan", "export-npy"};
    char path[1100];
    if (!out) {
        snprintf(path, sizeof path, "%s/%s", dir, default_out[format]);
        out = path;
    }
    bnn_status st;
    size_t n_files = 1;
    if (format == FORMAT_NETCDF) st = bnn_export_netcdf(dir, out, opt);
    else if (format == FORMAT_STAN_CSV) st = bnn_export_stan_csv(dir, out, opt, &n_files);
    else st = bnn_export_npy(dir, out, opt);
    if (st != BNN_OK) {
        fprintf(stderr, "bnnmc export: %s\n", bnn_last_error());
        return 1;
    }
    if (format == FORMAT_STAN_CSV) printf("wrote %s/output_{1..%zu}.csv\n", out, n_files);
    else if (format == FORMAT_NPY) printf("wrote %s (arrays.json describes the files)\n", out);
    else printf("wrote %s\n", out);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    int format = FORMAT_NONE;
    bnn_export_options opt = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--format") && i + 1 < argc) {
            if (!(format = parse_format(argv[++i]))) {
                fprintf(stderr, "bnnmc export: --format: '%s' is not netcdf, stan-csv or npy\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--vars") && i + 1 < argc) {
            opt.vars = argv[++i];
        } else if (!strcmp(a, "--block-mb") && i + 1 < argc) {
            size_t mb;
            if (opt_size("--block-mb", argv[++i], &mb)) return 2;
            if (mb < 1 || mb > ((size_t)1 << 20)) {
                fprintf(stderr, "bnnmc export: --block-mb: %zu is not in 1..1048576\n", mb);
                return 2;
            }
            opt.block_bytes = mb << 20;
        } else if (a[0] == '-' || dir) {
            fprintf(stderr, "bnnmc export: unexpected or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            dir = a;
        }
    }
    if (!dir || format == FORMAT_NONE) {
        fprintf(stderr, "bnnmc export: %s\n", !dir ? "no run directory" : "--format is required");
        usage(stderr);
        return 2;
    }
    if (opt.vars && format != FORMAT_STAN_CSV) {
        fprintf(stderr, "bnnmc export: --vars applies to --format stan-csv only\n");
        return 2;
    }
    return run_export(dir, format, out, &opt);
}
