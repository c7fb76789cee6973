/* examples/digits.c: libbnnmc from a C program. Samples a small Bayesian MLP on the bundled
 * digits data, prints the model-average accuracy and R-hat in weight and function space, and
 * exports the draws for ArviZ (NetCDF) and R (CmdStan CSV).
 *
 * Build against the installed library with pkg-config alone:
 *     cc digits.c $(pkg-config --cflags --libs bnnmc) -o digits
 *     ./digits /tmp/digits-run          # BNNMC_DATA_DIR=... if the data lives elsewhere */
#define _POSIX_C_SOURCE 200809L
#include <bnnmc.h>
#include <stdio.h>
#include <time.h>

/* Prints the library's last error after what failed; returns 1 (the exit status). */
static int fail(const char *what)
{
    fprintf(stderr, "digits: %s: %s\n", what, bnn_last_error());
    return 1;
}

/* Starts the run, polls it every 0.2 s with a progress line, and finishes it. */
static int sample(const bnn_run_config *cfg, const bnn_dataset *data,
                  const bnn_dataset_options *dopt)
{
    bnn_run *run;
    if (bnn_run_start(cfg, data, dopt, &run) != BNN_OK) return fail("start");
    bnn_run_progress p;
    for (bnn_run_poll(run, &p); !p.finished; bnn_run_poll(run, &p)) {
        fprintf(stderr, "\riteration %zu/%zu", p.done_min, p.iterations);
        nanosleep(&(struct timespec){0, 200000000L}, NULL);
    }
    fprintf(stderr, "\n");
    bnn_status st = bnn_run_finish(run);
    bnn_run_free(run);
    return st == BNN_OK ? 0 : fail("sampling");
}

/* Model-average accuracy, then R-hat of every weight and every recorded prediction. */
static int report(const char *dir)
{
    bnn_predict_result pr;
    if (bnn_predict_run(dir, &pr) != BNN_OK) return fail("predict");
    printf("model-average test accuracy %.4f over %zu draws\n", pr.overall.accuracy, pr.n_draws);
    bnn_predict_result_free(&pr);
    bnn_diag_run_options opt = {.threads = 2};
    bnn_diag_run *d;
    if (bnn_diag_run_compute(dir, &opt, &d) != BNN_OK) return fail("diagnose");
    printf("R-hat max: weights %.4f, function space %.4f (%zu chains x %zu draws)\n",
           d->weight.rhat_max, d->function.rhat_max, d->n_chain, d->function.draws);
    bnn_diag_run_free(d);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "runs/example";
    bnn_dataset_options dopt = {.name = "digits", .csv = {.header = -1, .target_col = -1},
                                .standardize = 1};
    bnn_dataset data;
    if (bnn_dataset_load(&dopt, &data) != BNN_OK) return fail("data");
    printf("bnnmc %s: digits, %zu training and %zu test rows of %zu features\n", BNNMC_VERSION,
           data.train.n, data.test.n, data.train.d);

    bnn_run_config cfg;
    bnn_run_config_defaults(&cfg);
    snprintf(cfg.arch, sizeof cfg.arch, "mlp:8");
    snprintf(cfg.out_dir, sizeof cfg.out_dir, "%s", dir);
    cfg.chains = 2;
    cfg.warmup = 20;
    cfg.samples = 40;
    cfg.fs_points = 10;
    cfg.overwrite = 1;
    int rc = sample(&cfg, &data, &dopt);
    bnn_dataset_free(&data);
    if (rc == 0) rc = report(dir);

    char nc[1100], csv[1100];
    snprintf(nc, sizeof nc, "%s/posterior.nc", dir);
    snprintf(csv, sizeof csv, "%s/stan", dir);
    size_t n_files;
    bnn_export_options eopt = {.vars = "p[0:2,*],layer1.b"};
    if (rc == 0 && bnn_export_netcdf(dir, nc, NULL) != BNN_OK) rc = fail("export netcdf");
    if (rc == 0 && bnn_export_stan_csv(dir, csv, &eopt, &n_files) != BNN_OK) rc = fail("export csv");
    if (rc == 0) printf("wrote %s and %zu CSV files in %s\n", nc, n_files, csv);
    return rc;
}
