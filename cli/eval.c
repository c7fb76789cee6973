/* bnnmc eval: a predictive distribution against a reference one (NeurIPS 2021 BDL competition
 * metrics), each a run directory or a CSV file. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "eval/reference.h"
#include "opts.h"

static const char usage_text[] =
    "usage: bnnmc eval PRED --reference REF [--json] [--labels FILE] [options]\n"
    "\n"
    "Compares the predictive distribution PRED with the reference REF on the same test inputs,\n"
    "with the metrics of the NeurIPS 2021 approximate-inference competition. PRED and REF are\n"
    "each a run directory (bnnmc sample --out) or a CSV file: one row per test input, one column\n"
    "per class (probabilities) or per predictive sample (regression); no header (a first line\n"
    "that is not numeric is skipped); commas or blanks between numbers.\n"
    "  classification: agreement = mean [argmax PRED = argmax REF],\n"
    "                  total variation = mean ½ Σ_c |p_c - q_c|\n"
    "  regression:     W1 = mean over inputs of the 1-Wasserstein distance between the samples\n"
    "With test targets (a run's test set, or --labels): accuracy, NLL, ECE (20 equal-count bins)\n"
    "and Brier score of both sides (classification), RMSE of the predictive mean (regression).\n"
    "\n"
    "options:\n"
    "  --reference REF        the reference predictive (required)\n"
    "  --json                 machine-readable output (keys: docs/eval.md)\n"
    "  --labels FILE          test targets: the last column of every row (a data set's test CSV\n"
    "                         works); for all test inputs or the compared ones\n"
    "  --task classification|regression   what two CSVs hold (a run sets it; default\n"
    "                         classification)\n"
    "  --tolerance T          |row sum - 1| allowed for CSV probabilities (default 1e-4)\n"
    "  --transpose pred|ref|both   that CSV has one column per test input (the competition's\n"
    "                         uci_samples.csv layout)\n"
    "  --quantiles M          regression runs: M predictive samples per input, the quantiles of\n"
    "                         the model average of N(mean, noise_sd^2) (default 1000)\n"
    "  --no-noise             regression runs: the per-draw predictive means as the samples\n"
    "\n"
    "example:\n"
    "  bnnmc eval runs/digits-sgld --reference runs/digits-hmc --json\n"
    "  bnnmc eval my_probs.csv --reference hmc_probs.csv --labels data/digits/test.csv\n";

typedef struct {
    const char *pred, *ref, *labels;
    int as_json, task_set;
    int transpose_pred, transpose_ref;
    bnn_predset_options o;
} eval_args;

enum { O_REF = 256, O_JSON, O_LABELS, O_TASK, O_TOL, O_TRANSPOSE, O_QUANTILES, O_NO_NOISE, O_HELP };

static const struct option long_options[] = {
    {"reference", 1, 0, O_REF}, {"json", 0, 0, O_JSON}, {"labels", 1, 0, O_LABELS},
    {"task", 1, 0, O_TASK}, {"tolerance", 1, 0, O_TOL}, {"transpose", 1, 0, O_TRANSPOSE},
    {"quantiles", 1, 0, O_QUANTILES}, {"no-noise", 0, 0, O_NO_NOISE}, {"help", 0, 0, O_HELP},
    {0, 0, 0, 0}};

static int bad_value(const char *flag, const char *v, const char *want)
{
    fprintf(stderr, "bnnmc: %s: expected %s, got '%s'\n", flag, want, v);
    return -1;
}

/* One option; 0 on success, -1 on a bad value (message printed), 1 for --help. */
static int set_option(eval_args *a, int opt, const char *v)
{
    switch (opt) {
    case O_REF: a->ref = v; return 0;
    case O_JSON: a->as_json = 1; return 0;
    case O_LABELS: a->labels = v; return 0;
    case O_TASK:
        a->task_set = 1;
        if (!strcmp(v, "classification")) a->o.kind = BNN_PRED_CLASSES;
        else if (!strcmp(v, "regression")) a->o.kind = BNN_PRED_SAMPLES;
        else return bad_value("--task", v, "classification or regression");
        return 0;
    case O_TOL:
        if (opt_double("--tolerance", v, &a->o.tolerance) != 0) return -1;
        return a->o.tolerance >= 0 ? 0 : bad_value("--tolerance", v, "a number >= 0");
    case O_TRANSPOSE:
        a->transpose_pred = !strcmp(v, "pred") || !strcmp(v, "both");
        a->transpose_ref = !strcmp(v, "ref") || !strcmp(v, "both");
        return a->transpose_pred || a->transpose_ref ? 0 : bad_value("--transpose", v, "pred, ref or both");
    case O_QUANTILES:
        if (opt_size("--quantiles", v, &a->o.quantiles) != 0) return -1;
        return a->o.quantiles >= 1 && a->o.quantiles <= 1000000
                   ? 0 : bad_value("--quantiles", v, "an integer in 1..1000000");
    case O_NO_NOISE: a->o.quantiles = 0; return 0;
    case O_HELP: return 1;
    default: return -1;
    }
}

/* 0 and the arguments, 1 after --help, 2 on a usage error (message printed). */
static int parse_args(int argc, char **argv, eval_args *a)
{
    int no_noise = 0;
    memset(a, 0, sizeof *a);
    a->o.tolerance = 1e-4;
    a->o.quantiles = 1000;
    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (opt == 'h') opt = O_HELP;
        if (opt == '?' || opt == ':') {
            fprintf(stderr, "bnnmc eval: %s '%s'\n%s", opt == ':' ? "missing value for" :
                    "unknown option", argv[optind - 1], usage_text);
            return 2;
        }
        no_noise |= opt == O_NO_NOISE;
        int rc = set_option(a, opt, optarg);
        if (rc) return rc < 0 ? 2 : (fputs(usage_text, stdout), 1);
    }
    if (no_noise) a->o.quantiles = 0;
    if (optind < argc) a->pred = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "bnnmc eval: unexpected argument '%s'\n%s", argv[optind], usage_text);
        return 2;
    }
    if (!a->pred || !a->ref) {
        fprintf(stderr, "bnnmc eval: needs PRED and --reference REF\n%s", usage_text);
        return 2;
    }
    return 0;
}

/* Reads one side: runs first (they fix the task), then CSVs with the task found. */
static int read_side(const char *path, int transpose, bnn_predset_options o, const char *what,
                     bnn_predset *out)
{
    o.transpose = transpose;
    bnn_status s = bnn_predset_path_is_run(path) ? bnn_predset_read_run(path, &o, out)
                                                 : bnn_predset_read_csv(path, &o, out);
    if (s != BNN_OK) {
        cli_report_error(what);
        return 1;
    }
    return 0;
}

static json_t *number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *side_json(const bnn_predset *p, const bnn_reference_eval *e,
                         const bnn_class_metrics *m, double rmse)
{
    json_t *o = json_pack("{s:s, s:s, s:I}", "source", p->source, "type",
                          p->from_run ? "run" : "csv",
                          e->kind == BNN_PRED_CLASSES ? "classes" : "samples", (json_int_t)p->k);
    if (e->have_targets && e->kind == BNN_PRED_CLASSES) {
        json_object_set_new(o, "accuracy", number(m->accuracy));
        json_object_set_new(o, "nll", number(m->nll));
        json_object_set_new(o, "ece", number(m->ece));
        json_object_set_new(o, "brier", number(m->brier));
    } else if (e->have_targets) {
        json_object_set_new(o, "rmse", number(rmse));
    }
    return o;
}

static void print_json(const bnn_predset *pred, const bnn_predset *ref, const bnn_reference_eval *e)
{
    const int classes = e->kind == BNN_PRED_CLASSES;
    json_t *root = json_pack("{s:s, s:I}", "task", classes ? "classification" : "regression",
                             "n_inputs", (json_int_t)e->n);
    json_object_set_new(root, "pred", side_json(pred, e, &e->pred_class, e->pred_rmse));
    json_object_set_new(root, "reference", side_json(ref, e, &e->ref_class, e->ref_rmse));
    if (classes) {
        json_object_set_new(root, "agreement", number(e->agreement));
        json_object_set_new(root, "total_variation", number(e->total_variation));
    } else {
        json_object_set_new(root, "w1", number(e->w1));
        json_object_set_new(root, "w1_max", number(e->w1_max));
    }
    json_object_set_new(root, "targets",
                        e->have_targets ? json_string(e->targets_source) : json_null());
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    if (text) puts(text);
    free(text);
    json_decref(root);
}

static void print_text(const bnn_predset *pred, const bnn_predset *ref, const bnn_reference_eval *e)
{
    const int classes = e->kind == BNN_PRED_CLASSES;
    printf("reference evaluation: %zu test inputs, %s\n", e->n,
           classes ? "classification" : "regression");
    printf("  pred       %s (%s, %zu %s)\n", pred->source, pred->from_run ? "run" : "CSV", e->k_pred,
           classes ? "classes" : "samples per input");
    printf("  reference  %s (%s, %zu %s)\n", ref->source, ref->from_run ? "run" : "CSV", e->k_ref,
           classes ? "classes" : "samples per input");
    if (classes) {
        printf("agreement        %.6f\n", e->agreement);
        printf("total variation  %.6f\n", e->total_variation);
    } else {
        printf("W1 (mean over inputs)  %.6g   (largest %.6g)\n", e->w1, e->w1_max);
    }
    if (!e->have_targets) {
        printf("no test targets (give --labels FILE for accuracy, NLL and ECE)\n");
        return;
    }
    printf("targets from %s\n", e->targets_source);
    if (classes) {
        printf("%-10s %9s %9s %9s %9s\n", "", "accuracy", "nll", "ece", "brier");
        const bnn_class_metrics *m[2] = {&e->pred_class, &e->ref_class};
        for (int i = 0; i < 2; i++)
            printf("%-10s %9.4f %9.4f %9.4f %9.4f\n", i ? "reference" : "pred", m[i]->accuracy,
                   m[i]->nll, m[i]->ece, m[i]->brier);
    } else {
        printf("%-10s %9s\n%-10s %9.4f\n%-10s %9.4f\n", "", "rmse", "pred", e->pred_rmse,
               "reference", e->ref_rmse);
    }
}

/* Reads both sides and the labels, compares and prints; returns the exit code. */
static int run_eval(eval_args *a, bnn_predset *pred, bnn_predset *ref)
{
    const int pred_run = bnn_predset_path_is_run(a->pred), ref_run = bnn_predset_path_is_run(a->ref);
    if (pred_run && read_side(a->pred, 0, a->o, "eval: pred", pred)) return 1;
    if (ref_run && read_side(a->ref, 0, a->o, "eval: reference", ref)) return 1;
    if (pred_run || ref_run) {
        bnn_pred_kind run_kind = pred_run ? pred->kind : ref->kind;
        if (a->task_set && a->o.kind != run_kind) {
            fprintf(stderr, "bnnmc: eval: --task %s, but %s is a %s run\n",
                    a->o.kind == BNN_PRED_CLASSES ? "classification" : "regression",
                    pred_run ? a->pred : a->ref,
                    run_kind == BNN_PRED_CLASSES ? "classification" : "regression");
            return 1;
        }
        a->o.kind = run_kind;
    }
    if (!pred_run && read_side(a->pred, a->transpose_pred, a->o, "eval: pred", pred)) return 1;
    if (!ref_run && read_side(a->ref, a->transpose_ref, a->o, "eval: reference", ref)) return 1;
    double *labels = NULL;
    size_t n_labels = 0;
    if (a->labels && bnn_labels_read_csv(a->labels, &labels, &n_labels) != BNN_OK) {
        cli_report_error("eval: --labels");
        return 1;
    }
    bnn_reference_eval e;
    bnn_status s = bnn_reference_compare(pred, ref, labels, n_labels, a->labels, &e);
    free(labels);
    if (s != BNN_OK) {
        cli_report_error("eval");
        return 1;
    }
    if (a->as_json) print_json(pred, ref, &e);
    else print_text(pred, ref, &e);
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    bnn_predset pred = {0}, ref = {0};
    rc = run_eval(&a, &pred, &ref);
    bnn_predset_free(&pred);
    bnn_predset_free(&ref);
    return rc;
}
