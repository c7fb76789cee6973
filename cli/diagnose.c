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
            "usage: bnnmc diagnose RUN [--align | --align-per-chain] [--threads N]\n\n"
            "R-hat (rank-normalised, folded: posterior's rhat), bulk and tail ESS of every\n"
            "weight and of every recorded test-point output (function space), and per-chain\n"
            "acceptance, divergences, step size, leapfrog steps and E-BFMI.\n"
            "Writes RUN/diagnostics.json (schema: docs/diagnostics-json.md) and\n"
            "RUN/diag_{weight,function}_{rhat,ess_bulk,ess_tail}.npy for plotting. With a\n"
            "hierarchical prior (sample --prior-hyper, --noise-hyper), the same for every\n"
            "hyperparameter over the sampling iterations of hyper.npy (diag_hyper_*.npy).\n\n"
            "Also: nested R-hat when run.json has config.superchains > 1 (chain c in superchain\n"
            "floor(c / (K/S))); chain islands (pairwise function-space agreement, total\n"
            "variation, 2-chain R-hat); per-layer posterior marginals against the prior; and a\n"
            "null reference: the R-hat counts above 1.01/1.05/1.1 expected for converged chains\n"
            "with the same chains, draws and per-quantity ESS.\n\n"
            "options:\n"
            "  --align             remove hidden-unit permutations (and sign flips for tanh/erf)\n"
            "                      by aligning every draw to a reference; writes\n"
            "                      RUN/chain_NNN/aligned_weights.npy and weight_aligned\n"
            "  --align-per-chain   one alignment per chain (its last draw): cheaper, wrong if\n"
            "                      chains switch labels (e.g. with sample --symmetry-moves)\n"
            "  --island-threshold R  link two chains when the 90%% quantile of their 2-chain\n"
            "                      function-space R-hat is <= R (default 1.1)\n"
            "  --null-reps N       simulated replicates per ESS bin of the null (default 200)\n"
            "  --threads N         worker threads (default 2)\n"
            "  --help              this text\n\n"
            "example:\n"
            "  bnnmc diagnose runs/digits --align\n");
}

static void print_space(const bnn_diag_run *r, const bnn_diag_space *sp, const char *what)
{
    printf("\n%s: %zu quantities, %zu chains x %zu draws", what, sp->n, r->n_chain, sp->draws);
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
        bnn_diag_quantity_name(r, sp, i, name, sizeof name);
        printf("          %-24s %10.4f %10.1f %10.1f\n", name, sp->rhat[i], sp->ess_bulk[i],
               sp->ess_tail[i]);
    }
}

/* Nested R-hat and the null reference of a space. */
static void print_extras(const bnn_diag_space *sp)
{
    if (sp->rhat_nested)
        printf("  nested R-hat  q50 %.4f  q90 %.4f  q99 %.4f  max %.4f  (> 1.01: %.1f %%)\n",
               sp->nested_q50, sp->nested_q90, sp->nested_q99, sp->nested_max,
               100 * sp->nested_frac_gt_101);
    if (!sp->has_null) return;
    printf("  count above   ");
    for (size_t t = 0; t < BNN_NULL_N_THRESHOLDS; t++)
        printf("%g: %.0f (null %.1f ± %.1f)   ", sp->null.thresholds[t], sp->null.observed[t],
               sp->null.expected[t], sp->null.expected_sd[t]);
    printf("\n");
}

static void print_islands_marginals(const bnn_diag_run *r)
{
    if (r->has_islands) {
        const bnn_islands *s = &r->islands;
        printf("\nislands (2-chain function R-hat q90 <= %g): %zu  [", s->threshold, s->n_islands);
        for (size_t c = 0; c < r->n_chain; c++) printf(c ? " %zu" : "%zu", s->island[c]);
        printf("]  (island of each chain)\n");
    }
    if (!r->has_marginals) return;
    const bnn_marginals *m = &r->marginals;
    printf("\nmarginals vs prior (%zu prior-like, %zu data-informed parameters):\n",
           m->n_prior_like, m->n_informed);
    printf("  %-10s %8s %10s %10s %9s %9s %9s\n", "block", "size", "var/prior", "ex.kurt",
           "norm", "radius", "prior-like");
    for (size_t b = 0; b < m->n_blocks; b++) {
        const bnn_marginal_block *k = &m->blocks[b];
        printf("  %-10s %8zu %10.3f %10.3f %9.2f %9.2f %9zu\n", k->name, k->size,
               k->var / k->prior_var, k->excess_kurtosis, k->norm_rms, k->prior_radius,
               k->n_prior_like);
    }
    printf("  R-hat q90 raw: prior-like %.4f, data-informed %.4f", m->raw[0].q90, m->raw[1].q90);
    if (m->aligned[0].n + m->aligned[1].n)
        printf("; aligned: prior-like %.4f, data-informed %.4f", m->aligned[0].q90, m->aligned[1].q90);
    printf("\n");
}

static void print_report(const bnn_diag_run *r, const char *dir, double seconds)
{
    printf("diagnose %s: %zu chains", dir, r->n_chain);
    if (r->superchains > 1) printf(" in %zu superchains", r->superchains);
    printf(" (%.1f s)\n", seconds);
    if (r->weight.present) {
        print_space(r, &r->weight, "weight space");
        print_extras(&r->weight);
    } else {
        printf("\nweight space: no weights.npy\n");
    }
    if (r->weight_aligned.present) {
        printf("\naligned (%s; %zu draws moved, %.2f sweeps per draw):",
               r->align_mode == 2 ? "per chain" : "per draw", r->align_changed,
               r->align_mean_sweeps);
        print_space(r, &r->weight_aligned, "weight space");
        print_extras(&r->weight_aligned);
    }
    if (r->function.present) {
        print_space(r, &r->function, "function space");
        print_extras(&r->function);
    } else {
        printf("\nfunction space: no fs.npy\n");
    }
    if (r->hyper.present) {
        print_space(r, &r->hyper, "hyperparameters (precisions of the hierarchical prior)");
        print_extras(&r->hyper);
    }
    print_islands_marginals(r);
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
        } else if (!strcmp(argv[i], "--align")) {
            opt.align = 1;
        } else if (!strcmp(argv[i], "--align-per-chain")) {
            opt.align = 2;
        } else if (!strcmp(argv[i], "--island-threshold") && i + 1 < argc) {
            char *end;
            double v = strtod(argv[++i], &end);
            if (*end || end == argv[i] || !(v >= 1 && v <= 100)) {
                fprintf(stderr, "bnnmc diagnose: --island-threshold: '%s' is not a number in "
                        "[1, 100]\n", argv[i]);
                return 2;
            }
            opt.island_threshold = v;
        } else if (!strcmp(argv[i], "--null-reps") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 10 || v > 100000) {
                fprintf(stderr, "bnnmc diagnose: --null-reps: '%s' is not an integer in "
                        "10..100000\n", argv[i]);
                return 2;
            }
            opt.null_reps = (size_t)v;
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
