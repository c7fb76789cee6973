/* bnnmc gradcheck: analytic gradient of a network against central finite differences. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "nn/cnn.h"
#include "nn/cnn_gradcheck.h"
#include "opts.h"

static const char usage_text[] =
    "usage: bnnmc gradcheck --arch SPEC [OPTIONS]\n"
    "\n"
    "Compares the analytic gradient of the log-likelihood of a few rows with central finite\n"
    "differences (in float64) over a random sample of coordinates from every parameter tensor,\n"
    "and prints the largest relative error |a - fd| / max(|a|, |fd|, 1e-6·max|a|), per tensor\n"
    "and overall. A coordinate whose differences with steps h and h/2 disagree by more than\n"
    "--tol has a kink (TLU, max-pool, ReLU) within the stencil and is skipped. Exit status 1\n"
    "when the error exceeds --tol or more than a tenth of the coordinates are skipped.\n"
    "\n"
    "example:\n"
    "  bnnmc gradcheck --arch resnet20-frn --data fashion-mnist --pad-to 32 --rows 2\n"
    "\n"
    "  --arch SPEC          any --arch of bnnmc sample (default lenet5)\n"
    "  --act NAME           tanh | relu | swish | erf (default tanh; swish for resnet20-frn)\n"
    "  --data NAME          rows from a built-in data set (standardised), or:\n"
    "  --train SPEC --test SPEC  rows from files, as bnnmc sample reads them\n"
    "  --pad-to S           zero-pad images to SxS\n"
    "  --shape HxWxC        without data: random N(0,1) images of this shape (default 28x28x1)\n"
    "  --classes K          without data: random labels of K classes (default 10)\n"
    "  --rows N             rows in the log-likelihood (default 4)\n"
    "  --coords N           coordinates per tensor (default 5)\n"
    "  --precision P        float64 (default) | float32: precision of the analytic gradient\n"
    "  --step H             difference step (default 1e-5)\n"
    "  --tol T              largest error accepted (default 1e-5; 1e-2 for float32)\n"
    "  --seed N             draws of θ and of coordinates (default 1)\n";

struct gc_args {
    const char *arch, *act;
    bnn_dataset_options data;
    size_t h, w, c, classes, rows, coords;
    double tol;
    bnn_gradcheck_options opt;
    int help;
};

static int parse_shape(const char *v, struct gc_args *a)
{
    if (sscanf(v, "%zux%zux%zu", &a->h, &a->w, &a->c) != 3 || !a->h || !a->w || !a->c) {
        fprintf(stderr, "bnnmc: --shape: expected HxWxC, got '%s'\n", v);
        return -1;
    }
    return 0;
}

static int parse_one(struct gc_args *a, int opt, const char *v)
{
    switch (opt) {
    case 'a': a->arch = v; return 0;
    case 'A': a->act = v; return 0;
    case 'd': a->data.name = v; return 0;
    case 'T': a->data.train_spec = v; return 0;
    case 'E': a->data.test_spec = v; return 0;
    case 'P': return opt_size("--pad-to", v, &a->data.pad_to);
    case 's': return parse_shape(v, a);
    case 'k': return opt_size("--classes", v, &a->classes);
    case 'r': return opt_size("--rows", v, &a->rows);
    case 'n': return opt_size("--coords", v, &a->opt.per_tensor);
    case 'p':
        if (!strcmp(v, "float32")) a->opt.prec = BNN_F32;
        else if (!strcmp(v, "float64")) a->opt.prec = BNN_F64;
        else {
            fprintf(stderr, "bnnmc: --precision: expected float32 or float64, got '%s'\n", v);
            return -1;
        }
        return 0;
    case 'h': return opt_double("--step", v, &a->opt.step);
    case 't': return opt_double("--tol", v, &a->tol);
    case 'S': return opt_u64("--seed", v, &a->opt.seed);
    case 'H': a->help = 1; return 0;
    }
    return -1;
}

static int parse_args(int argc, char **argv, struct gc_args *a)
{
    static const struct option longs[] = {
        {"arch", 1, 0, 'a'}, {"act", 1, 0, 'A'}, {"data", 1, 0, 'd'}, {"train", 1, 0, 'T'},
        {"test", 1, 0, 'E'}, {"pad-to", 1, 0, 'P'}, {"shape", 1, 0, 's'},
        {"classes", 1, 0, 'k'}, {"rows", 1, 0, 'r'}, {"coords", 1, 0, 'n'},
        {"precision", 1, 0, 'p'}, {"step", 1, 0, 'h'}, {"tol", 1, 0, 't'}, {"seed", 1, 0, 'S'},
        {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    *a = (struct gc_args){.arch = "lenet5", .h = 28, .w = 28, .c = 1, .classes = 10, .rows = 4,
                          .tol = -1,
                          .opt = {.per_tensor = 5, .step = 1e-5, .seed = 1, .prec = BNN_F64}};
    a->data.csv = (bnn_csv_options){.header = -1, .target_col = -1};
    a->data.standardize = 1;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1)
        if (opt == '?' || parse_one(a, opt, optarg ? optarg : "") != 0) return -1;
    if (optind < argc) {
        fprintf(stderr, "bnnmc gradcheck: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (a->tol < 0) a->tol = a->opt.prec == BNN_F32 ? 1e-2 : 1e-5;
    a->opt.kink_tol = a->opt.prec == BNN_F32 ? 1e-3 : a->tol;
    if (!a->rows || !a->opt.per_tensor || !(a->opt.step > 0)) {
        fprintf(stderr, "bnnmc gradcheck: --rows, --coords and --step must be positive\n");
        return -1;
    }
    return 0;
}

/* Rows to check: the first --rows of the data set, or random images and labels. */
static int load_rows(struct gc_args *a, bnn_dataset *ds, bnn_input_shape *shape, size_t *classes)
{
    memset(ds, 0, sizeof *ds);
    if (a->data.name || a->data.train_spec) {
        if (bnn_dataset_load(&a->data, ds) != BNN_OK) {
            cli_report_error("data");
            return -1;
        }
        *shape = (bnn_input_shape){ds->train.height, ds->train.width, ds->train.channels};
        if (!shape->height) *shape = (bnn_input_shape){0, 0, ds->train.d};
        if (a->rows > ds->train.n) a->rows = ds->train.n;
        *classes = ds->n_classes;
        return 0;
    }
    size_t d = a->h * a->w * a->c;
    ds->train.x = malloc(a->rows * d * sizeof(double));
    ds->train.y = malloc(a->rows * sizeof(double));
    if (!ds->train.x || !ds->train.y) {
        fprintf(stderr, "bnnmc gradcheck: out of memory\n");
        return -1;
    }
    bnn_rng rng;
    bnn_rng_init(&rng, a->opt.seed, 1);
    bnn_rng_normals(&rng, ds->train.x, a->rows * d);
    for (size_t i = 0; i < a->rows; i++)
        ds->train.y[i] = (double)(size_t)(bnn_rng_uniform(&rng) * (double)a->classes);
    *shape = (bnn_input_shape){a->h, a->w, a->c};
    *classes = a->classes;
    return 0;
}

static int gradcheck_ok(const bnn_gradcheck_result *r, double tol)
{
    return r->max_rel_err <= tol && 10 * r->n_kinks <= r->n_checked;
}

static void print_result(const bnn_net *net, const bnn_gradcheck_result *r, double tol)
{
    printf("%-16s %10s %12s\n", "tensor", "size", "max rel err");
    for (size_t k = 0; k < net->n_tensors; k++)
        printf("%-16s %10zu %12.3e\n", net->tensors[k].name, net->tensors[k].size,
               r->tensor_err[k]);
    printf("%zu parameters, %zu coordinates checked (%zu skipped at kinks); largest relative "
           "error %.3e at %s (analytic %.9g, differences %.9g): %s (tol %.1e)\n", net->n_params,
           r->n_checked, r->n_kinks, r->max_rel_err, r->worst, r->worst_analytic,
           r->worst_numeric, gradcheck_ok(r, tol) ? "ok" : "FAILED", tol);
}

int cmd_gradcheck(int argc, char **argv)
{
    struct gc_args a;
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "(bnnmc gradcheck --help lists the options)\n");
        return 2;
    }
    if (a.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    bnn_activation act = bnn_cnn_default_activation(a.arch, BNN_ACT_TANH);
    if (a.act && bnn_activation_parse(a.act, &act) != BNN_OK) {
        cli_report_error("--act");
        return 2;
    }
    bnn_dataset ds;
    bnn_input_shape shape;
    size_t classes;
    bnn_net net;
    int rc = 1;
    if (load_rows(&a, &ds, &shape, &classes) == 0) {
        if (bnn_net_create(&net, a.arch, shape, classes, act, BNN_LIK_CATEGORICAL, 1) != BNN_OK) {
            cli_report_error("--arch");
        } else {
            bnn_gradcheck_result r;
            if (bnn_net_gradcheck(&net, ds.train.x, ds.train.y, a.rows, &a.opt, &r) != BNN_OK) {
                cli_report_error("gradcheck");
            } else {
                print_result(&net, &r, a.tol);
                rc = gradcheck_ok(&r, a.tol) ? 0 : 1;
            }
            bnn_net_free(&net);
        }
    }
    bnn_dataset_free(&ds);
    return rc;
}
