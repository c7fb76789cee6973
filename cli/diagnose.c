/* bnnmc diagnose: convergence of a run in weight space and function space, plus sample stats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "diag/diag_run.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bnnmc diagnose RUN [--threads N]\n\n"
            "R-hat (rank-normalised, folded: posterior's rhat), bulk and tail ESS of every\n"
            "weight and of every recorded test-point output (function space), and per-chain\n"
            "acceptance, divergences, step size, leapfrog steps and E-BFMI.\n"
            "Writes RUN/diagnostics.json (schema: docs/diagnostics-json.md) and\n"
            "RUN/diag_{weight,function}_{rhat,ess_bulk,ess_tail}.npy for plotting.\n\n"
            "options:\n"
            "  --threads N   worker threads (default 2)\n"
            "  --help        this text\n\n"
            "example:\n"
            "  bnnmc diagnose runs/digits\n");
}

static void print_space(const bnn_diag_run *r, const bnn_diag_space *sp, int weights)
{
    printf("\n%s space: %zu quantities, %zu chains x %zu draws", weights ? "weight" : "function",
           sp->n, r->n_chain, sp->draws);
    if (sp->n_nan) printf(" (%zu with R-hat NaN: constant or non-finite draws)", sp->n_nan);
    printf("\n  R-hat     q50 %.4f  q90 %.4f  q99 %.4f  max %.4f\n", sp->rhat_q50, sp->rhat_q90,
           sp->rhat_q99, sp->rhat_max);
    printf("  R-hat >   1.01: %5.1f %%   1.05: %5.1f %%   1.1: %5.1f %%\n",
           100 * sp->frac_gt_101, 100 * sp->frac_gt_105, 100 * sp->frac_gt_110);
    printf("  ESS bulk  min %.1f  median %.1f     ESS tail  min %.1f  median %.1f\n",
           sp->ess_bulk_min, sp->ess_bulk_median, sp->ess_tail_min, sp->ess_tail_median);
    printf("  worst:  %-24s %10s %10s %10s\n", "name", "rhat", "ess_bulk", "ess_tail");
    for (size_t k = 0; k < sp->n_worst; k++) {
        char name[128];
        size_t i = sp->worst[k];
        if (weights) bnn_diag_weight_name(r, i, name, sizeof name);
        else bnn_diag_function_name(r, i, name, sizeof name);
        printf("          %-24s %10.4f %10.1f %10.1f\n", name, sp->rhat[i], sp->ess_bulk[i],
               sp->ess_tail[i]);
    }
}

static void print_report(const bnn_diag_run *r, const char *dir, double seconds)
{
    printf("diagnose %s: %zu chains (%.1f s)\n", dir, r->n_chain, seconds);
    if (r->weight.present) print_space(r, &r->weight, 1);
    else printf("\nweight space: no weights.npy\n");
    if (r->function.present) print_space(r, &r->function, 0);
    else printf("\nfunction space: no fs.npy\n");
    printf("\nsample stats (sampling iterations):\n  %5s %10s %10s %10s %6s %10s %10s %8s\n",
           "chain", "iters", "accept_p", "accepted", "div", "step", "leapfrog", "E-BFMI");
    for (size_t c = 0; c < r->n_chain; c++) {
        const bnn_diag_chain_stats *s = &r->chain[c];
        printf("  %5zu %10zu %10.3f %10.3f %6zu %10.4g %10.1f %8.3f%s\n", c, s->iterations,
               s->accept_prob, s->accept_rate, s->divergences, s->step_size, s->n_leapfrog,
               s->ebfmi, s->ebfmi < 0.3 ? "  (low E-BFMI)" : "");
    }
    printf("\nwrote %s/diagnostics.json\n", dir);
}

int cmd_diagnose(int argc, char **argv)
{
    const char *dir = NULL;
    bnn_diag_run_options opt = {.threads = 2, .block_bytes = 0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || t < 1 || t > 64) {
                fprintf(stderr, "bnnmc diagnose: --threads: '%s' is not an integer in 1..64\n",
                        argv[i]);
                return 2;
            }
            opt.threads = (size_t)t;
        } else if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "bnnmc diagnose: unexpected argument '%s'\n", argv[i]);
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
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bnn_diag_run *r;
    if (bnn_diag_run_compute(dir, &opt, &r) != BNN_OK) {
        fprintf(stderr, "bnnmc diagnose: %s\n", bnn_last_error());
        return 1;
    }
    int rc = 0;
    if (bnn_diag_run_write(r, dir) != BNN_OK) {
        fprintf(stderr, "bnnmc diagnose: %s\n", bnn_last_error());
        rc = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == 0)
        print_report(r, dir, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    bnn_diag_run_free(r);
    return rc;
}
