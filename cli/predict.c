/* bnnmc predict: the Bayesian model average of a run, overall and per chain. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "eval/predict.h"
#include "opts.h"

static const char usage_text[] =
    "usage: bnnmc predict RUN [--json]\n"
    "\n"
    "Bayesian model average over every post-warm-up iteration of every chain of the run in\n"
    "directory RUN (a rejected proposal counts the repeated state): accuracy, NLL, ECE (20\n"
    "equal-count bins) and Brier score for classification, RMSE and NLL for regression;\n"
    "overall and per chain, with each chain's acceptance rate and divergences.\n"
    "Regression: the predictive distribution at a test input is the mixture over draws of\n"
    "N(μ, σ²) (σ = --noise-sd, or the hetero-gaussian head's own σ); NLL is -log of the\n"
    "average density over draws, sd (mean_sd) the mixture's standard deviation averaged over\n"
    "the test set; --json also lists predictive_mean and predictive_sd per test input.\n"
    "\n"
    "example:\n"
    "  bnnmc predict runs/digits --json\n";

static void print_text(const bnn_predict_result *r)
{
    printf("Bayesian model average over %zu draws (%zu chains), %zu test inputs\n", r->n_draws,
           r->n_chains, r->n_test);
    if (r->classification) {
        printf("%-8s %9s %9s %9s %9s %9s %9s %10s\n", "", "accuracy", "nll", "ece", "brier",
               "accept", "steps", "divergent");
        for (size_t c = 0; c < r->n_chains; c++) {
            const bnn_class_metrics *m = &r->chain[c];
            const bnn_chain_summary *s = &r->chain_stats[c];
            printf("chain %-2zu %9.4f %9.4f %9.4f %9.4f %9.3f %9.1f %10zu\n", c, m->accuracy,
                   m->nll, m->ece, m->brier, s->accept_rate, s->n_leapfrog, s->divergences);
        }
        printf("%-8s %9.4f %9.4f %9.4f %9.4f\n", "all", r->overall.accuracy, r->overall.nll,
               r->overall.ece, r->overall.brier);
        printf("BMA test accuracy: %.4f\n", r->overall.accuracy);
    } else {
        printf("%-8s %9s %9s %9s %9s %9s %10s\n", "", "rmse", "nll", "sd", "accept", "steps",
               "divergent");
        for (size_t c = 0; c < r->n_chains; c++)
            printf("chain %-2zu %9.4f %9.4f %9.4f %9.3f %9.1f %10zu\n", c, r->chain_reg[c].rmse,
                   r->chain_reg[c].nll, r->chain_reg[c].mean_sd, r->chain_stats[c].accept_rate,
                   r->chain_stats[c].n_leapfrog, r->chain_stats[c].divergences);
        printf("%-8s %9.4f %9.4f %9.4f\n", "all", r->overall_reg.rmse, r->overall_reg.nll,
               r->overall_reg.mean_sd);
        if (r->target_sd != 1)
            printf("targets were standardised (sd %.6g): in the original units RMSE %.4f, "
                   "NLL %.4f\n", r->target_sd, r->overall_reg.rmse * r->target_sd,
                   r->overall_reg.nll + log(r->target_sd));
    }
}

static json_t *metrics_json(const bnn_predict_result *r, const bnn_class_metrics *m,
                            const bnn_regress_metrics *g)
{
    if (r->classification)
        return json_pack("{s:f, s:f, s:f, s:f}", "accuracy", m->accuracy, "nll", m->nll, "ece",
                         m->ece, "brier", m->brier);
    json_t *o = json_pack("{s:f, s:f}", "rmse", g->rmse, "nll", g->nll);
    json_object_set_new(o, "mean_sd", isfinite(g->mean_sd) ? json_real(g->mean_sd) : json_null());
    return o;
}

/* n numbers as a JSON array (NaN as null). */
static json_t *numbers_json(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, isfinite(v[i]) ? json_real(v[i]) : json_null());
    return a;
}

static void print_json(const bnn_predict_result *r)
{
    json_t *chains = json_array();
    for (size_t c = 0; c < r->n_chains; c++) {
        json_t *o = metrics_json(r, &r->chain[c], &r->chain_reg[c]);
        const bnn_chain_summary *s = &r->chain_stats[c];
        json_object_set_new(o, "draws", json_integer((json_int_t)r->chain_draws[c]));
        json_object_set_new(o, "accept_rate", json_real(s->accept_rate));
        json_object_set_new(o, "divergences", json_integer((json_int_t)s->divergences));
        json_object_set_new(o, "mean_leapfrog", json_real(s->n_leapfrog));
        json_object_set_new(o, "mean_step_size", json_real(s->step_size));
        json_object_set_new(o, "mean_tree_depth", json_real(s->tree_depth));
        json_array_append_new(chains, o);
    }
    json_t *root = metrics_json(r, &r->overall, &r->overall_reg);
    json_object_set_new(root, "task", json_string(r->classification ? "classification" : "regression"));
    json_object_set_new(root, "draws", json_integer((json_int_t)r->n_draws));
    json_object_set_new(root, "n_test", json_integer((json_int_t)r->n_test));
    json_object_set_new(root, "chains", chains);
    if (!r->classification) {
        json_object_set_new(root, "target_sd", json_real(r->target_sd));
        json_object_set_new(root, "rmse_original_units", json_real(r->overall_reg.rmse * r->target_sd));
        json_object_set_new(root, "nll_original_units",
                            json_real(r->overall_reg.nll + log(r->target_sd)));
        json_object_set_new(root, "predictive_mean", numbers_json(r->mean, r->n_test));
        json_object_set_new(root, "predictive_sd", numbers_json(r->sd, r->n_test));
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    if (text) puts(text);
    free(text);
    json_decref(root);
}

int cli_print_run_report(const char *dir, int as_json)
{
    bnn_predict_result r;
    if (bnn_predict_run(dir, &r) != BNN_OK) {
        cli_report_error("predict");
        return 1;
    }
    if (as_json) print_json(&r);
    else print_text(&r);
    bnn_predict_result_free(&r);
    return 0;
}

int cmd_predict(int argc, char **argv)
{
    int as_json = 0;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            as_json = 1;
        } else if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "bnnmc predict: unexpected argument '%s'\n%s", argv[i], usage_text);
            return 2;
        } else {
            dir = argv[i];
        }
    }
    if (!dir) {
        fputs(usage_text, stderr);
        return 2;
    }
    return cli_print_run_report(dir, as_json);
}
