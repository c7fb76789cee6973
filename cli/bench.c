/* bnnmc bench: time the full-batch log-posterior gradient and a leapfrog step on synthetic
 * data (or one BLAS product with --sgemm), as text or JSON. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "commands.h"
#include "opts.h"

static const char usage_text[] =
    "usage: bnnmc bench [OPTIONS]\n"
    "\n"
    "Times the full-batch gradient of the log posterior (Gaussian prior, variance 1/fan-in)\n"
    "and a whole HMC leapfrog step on synthetic data of the requested shape, after a\n"
    "warm-up gradient; reports medians over repetitions. Nothing is written to disk.\n"
    "\n"
    "examples:\n"
    "  bnnmc bench --arch mlp:100 --act tanh --in 784 --classes 10 --n 60000 --threads 2\n"
    "  bnnmc bench --arch lenet5 --image 28x28x1 --classes 10 --n 10000 --json\n"
    "  bnnmc bench --sgemm 60000,100,784 --threads 1 --json\n"
    "  bnnmc bench --device cuda --arch mlp:100 --in 784 --n 60000 --chains 8 --json\n"
    "  bnnmc bench --device cuda --arch resnet20-frn --image 32x32x3 --n 50000 --json\n"
    "\n"
    "model and data:\n"
    "  --arch SPEC            any architecture `sample` accepts (default mlp:100)\n"
    "  --act NAME             tanh | relu | swish | erf (default tanh)\n"
    "  --in D                 inputs per row (default 784)\n"
    "  --image HxWxC          image inputs of height H, width W, C channels (instead of --in)\n"
    "  --classes K            last-layer outputs (default 10; 1 for gaussian/bernoulli)\n"
    "  --likelihood NAME      categorical | gaussian | bernoulli | hetero-gaussian (default\n"
    "                         categorical; --classes 1 for gaussian and bernoulli, 2 for\n"
    "                         hetero-gaussian)\n"
    "  --n N                  synthetic training rows (default 60000)\n"
    "execution:\n"
    "  --threads N            threads (default 2)\n"
    "  --device cpu|cuda      where to run (default cpu); cuda: MLPs and CNNs, float32, data,\n"
    "                         θ and gradient on the GPU, gradient timed without host\n"
    "                         transfers, leapfrog = a whole device trajectory step\n"
    "                         (docs/gpu.md)\n"
    "  --tf32                 cuda: let cuBLAS use TF32 tensor cores\n"
    "  --chains K             cuda: K chains batched into the same kernels (default 1; the\n"
    "                         leapfrog is timed for one chain only; MLPs only)\n"
    "  --precision P          float32 | float64 (default float32)\n"
    "  --block-rows N         rows per gradient block (default: as `sample`, from the\n"
    "                         parameter count: 256, 1024 from 10^5, 2048 from 10^6,\n"
    "                         halved down to 256 while there would be fewer than 8 blocks)\n"
    "  --reps R               timed gradients (default 10); leapfrog: about R steps, in at\n"
    "                         least 2 HMC iterations of --leapfrog steps\n"
    "  --leapfrog L           leapfrog steps per timed HMC iteration (default 10; 0: none)\n"
    "  --no-blas              skip the BLAS reference (ms_blas)\n"
    "  --seed N               seed of the synthetic data and θ (default 1)\n"
    "  --sgemm M,N,K          instead: time C (M,N) = A (M,K) · B (K,N) with the BLAS\n"
    "  --json                 one JSON object on stdout\n"
    "\n"
    "FLOP counting (gflops): the matrix products of the gradient, 2·N·I·O each; a dense layer\n"
    "of I inputs and O outputs does three (forward, weight gradient, input gradient), the\n"
    "first layer two (no input gradient). Activations, biases, likelihood and prior are not\n"
    "counted. CNNs: the same for their convolutions (2·N·OH·OW·O·K·K·C per product)\n"
    "and dense layers; pooling, FRN and additions are not counted. ms_blas is the time the\n"
    "BLAS (at --threads threads) takes for those same products on all N rows at once.\n";

enum {
    O_ARCH = 256, O_ACT, O_IN, O_IMAGE, O_CLASSES, O_LIK, O_N, O_THREADS, O_PREC, O_BLOCK,
    O_REPS, O_LEAPFROG, O_NO_BLAS, O_SEED, O_SGEMM, O_JSON, O_HELP, O_DEVICE, O_TF32, O_CHAINS
};

static const struct option long_options[] = {
    {"arch", 1, 0, O_ARCH}, {"act", 1, 0, O_ACT}, {"in", 1, 0, O_IN}, {"image", 1, 0, O_IMAGE},
    {"classes", 1, 0, O_CLASSES}, {"likelihood", 1, 0, O_LIK}, {"n", 1, 0, O_N},
    {"threads", 1, 0, O_THREADS}, {"precision", 1, 0, O_PREC}, {"block-rows", 1, 0, O_BLOCK},
    {"reps", 1, 0, O_REPS}, {"leapfrog", 1, 0, O_LEAPFROG}, {"no-blas", 0, 0, O_NO_BLAS},
    {"seed", 1, 0, O_SEED}, {"sgemm", 1, 0, O_SGEMM}, {"json", 0, 0, O_JSON},
    {"help", 0, 0, O_HELP}, {"device", 1, 0, O_DEVICE}, {"tf32", 0, 0, O_TF32},
    {"chains", 1, 0, O_CHAINS}, {0, 0, 0, 0}};

struct bench_args {
    bnn_bench_options o;
    int json, help, sgemm, block_given;
    size_t gemm[3]; /* M, N, K */
};

/* Parses "A<sep>B<sep>C" (three positive integers) into v. */
static int parse_triple(const char *flag, const char *text, char sep, size_t v[3])
{
    char buf[96];
    if (strlen(text) >= sizeof buf) {
        fprintf(stderr, "bnnmc: %s: value too long\n", flag);
        return -1;
    }
    strcpy(buf, text);
    char *p = buf;
    for (int i = 0; i < 3; i++) {
        char *end = strchr(p, sep);
        if ((i < 2) != (end != NULL)) {
            fprintf(stderr, "bnnmc: %s: expected three numbers separated by '%c', got '%s'\n",
                    flag, sep, text);
            return -1;
        }
        if (end) *end = 0;
        if (opt_size(flag, p, &v[i]) != 0) return -1;
        if (v[i] == 0 || v[i] > 1000000000) {
            fprintf(stderr, "bnnmc: %s: sizes must be between 1 and 10^9, got '%s'\n", flag,
                    text);
            return -1;
        }
        p = end + 1;
    }
    return 0;
}

static int parse_precision(const char *v, bnn_precision *out)
{
    if (!strcmp(v, "float32")) *out = BNN_F32;
    else if (!strcmp(v, "float64")) *out = BNN_F64;
    else {
        fprintf(stderr, "bnnmc: --precision: expected float32 or float64, got '%s'\n", v);
        return -1;
    }
    return 0;
}

static int parse_one(struct bench_args *a, int opt, const char *v)
{
    bnn_bench_options *o = &a->o;
    size_t shape[3];
    switch (opt) {
    case O_ARCH: o->arch = v; return 0;
    case O_ACT:
        if (bnn_activation_parse(v, &o->act) == BNN_OK) return 0;
        cli_report_error("--act");
        return -1;
    case O_LIK:
        if (bnn_likelihood_parse(v, &o->lik) == BNN_OK) return 0;
        cli_report_error("--likelihood");
        return -1;
    case O_IN:
        o->in = (bnn_input_shape){0, 0, 0};
        return opt_size("--in", v, &o->in.channels);
    case O_IMAGE:
        if (parse_triple("--image", v, 'x', shape) != 0) return -1;
        o->in = (bnn_input_shape){.height = shape[0], .width = shape[1], .channels = shape[2]};
        return 0;
    case O_CLASSES: return opt_size("--classes", v, &o->n_classes);
    case O_N: return opt_size("--n", v, &o->n_rows);
    case O_THREADS: return opt_size("--threads", v, &o->n_threads);
    case O_PREC: return parse_precision(v, &o->prec);
    case O_BLOCK: a->block_given = 1; return opt_size("--block-rows", v, &o->block_rows);
    case O_REPS: return opt_size("--reps", v, &o->reps);
    case O_LEAPFROG: return opt_size("--leapfrog", v, &o->n_leapfrog);
    case O_NO_BLAS: o->blas_reference = 0; return 0;
    case O_SEED: return opt_u64("--seed", v, &o->seed);
    case O_SGEMM: a->sgemm = 1; return parse_triple("--sgemm", v, ',', a->gemm);
    case O_JSON: a->json = 1; return 0;
    case O_HELP: a->help = 1; return 0;
    case O_DEVICE:
        if (!strcmp(v, "cpu") || !strcmp(v, "cuda")) {
            o->device = !strcmp(v, "cuda") ? BNN_DEVICE_CUDA : BNN_DEVICE_CPU;
            return 0;
        }
        fprintf(stderr, "bnnmc: --device: expected cpu or cuda, got '%s'\n", v);
        return -1;
    case O_TF32: o->tf32 = 1; return 0;
    case O_CHAINS: return opt_size("--chains", v, &o->chains);
    default: return -1;
    }
}

/* Checks the ranges parsing cannot (positive counts, an input size). */
static int check_args(const struct bench_args *a)
{
    const bnn_bench_options *o = &a->o;
    const struct { const char *flag; size_t v, max; } limits[] = {
        {"--n", o->n_rows, 100000000}, {"--threads", o->n_threads, 256},
        {"--reps", o->reps, 100000},
        {"--block-rows", a->block_given ? o->block_rows : 1, 10000000},
        {"--classes", o->n_classes, 1000000},
        {"--in", o->in.channels, 100000000}};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (limits[i].v == 0 || limits[i].v > limits[i].max) {
            fprintf(stderr, "bnnmc: %s: must be between 1 and %zu\n", limits[i].flag,
                    limits[i].max);
            return -1;
        }
    if (o->n_leapfrog > 100000) {
        fprintf(stderr, "bnnmc: --leapfrog: must be at most 100000\n");
        return -1;
    }
    return 0;
}

static int parse_args(struct bench_args *a, int argc, char **argv)
{
    bnn_bench_defaults(&a->o);
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (opt == 'h') opt = O_HELP;
        if (opt == '?') return -1;
        if (parse_one(a, opt, optarg ? optarg : "") != 0) return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "bnnmc bench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return a->help ? 0 : check_args(a);
}

static const char *precision_name(bnn_precision p) { return p == BNN_F32 ? "float32" : "float64"; }

static int run_sgemm(const struct bench_args *a)
{
    double ms;
    if (bnn_bench_gemm(a->o.prec, a->gemm[0], a->gemm[1], a->gemm[2], a->o.n_threads, a->o.reps,
                       &ms) != BNN_OK) {
        cli_report_error("bench --sgemm");
        return 1;
    }
    double gflops = 2.0 * (double)a->gemm[0] * (double)a->gemm[1] * (double)a->gemm[2] /
                    (ms * 1e6);
    if (a->json)
        printf("{\"m\": %zu, \"n\": %zu, \"k\": %zu, \"ms\": %.6g, \"gflops\": %.6g, "
               "\"threads\": %zu, \"precision\": \"%s\"}\n",
               a->gemm[0], a->gemm[1], a->gemm[2], ms, gflops, a->o.n_threads,
               precision_name(a->o.prec));
    else
        printf("gemm %zu x %zu x %zu: %.4g ms, %.4g GFLOP/s (%zu threads, %s)\n", a->gemm[0],
               a->gemm[1], a->gemm[2], ms, gflops, a->o.n_threads, precision_name(a->o.prec));
    return 0;
}

/* A number, or null when it was not measured (0). */
static void json_number_or_null(const char *key, double v, const char *tail)
{
    if (v > 0) printf("\"%s\": %.6g%s", key, v, tail);
    else printf("\"%s\": null%s", key, tail);
}

/* Prints s as a JSON string (quotes, backslashes and control characters escaped). */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void print_json(const bnn_bench_options *o, const bnn_bench_result *r)
{
    printf("{\"arch\": ");
    json_string(o->arch);
    printf(", \"n\": %zu, \"n_params\": %zu, \"block_rows\": %zu, ", o->n_rows, r->n_params,
           r->block_rows);
    printf("\"ms_per_grad\": %.6g, \"ms_per_grad_min\": %.6g, ", r->ms_per_grad,
           r->ms_per_grad_min);
    json_number_or_null("ms_per_leapfrog", r->ms_per_leapfrog, ", ");
    json_number_or_null("gflops", r->gflops, ", ");
    json_number_or_null("flops_per_grad", r->flops_per_grad, ", ");
    json_number_or_null("ms_blas", r->ms_blas, ", ");
    printf("\"max_rss_mb\": %.6g, \"data_mb\": %.6g, \"threads\": %zu, \"precision\": \"%s\", ",
           r->max_rss_mb, r->data_mb, o->n_threads, precision_name(o->prec));
    printf("\"device\": \"%s\", \"math\": \"%s\", \"chains\": %zu}\n",
           o->device == BNN_DEVICE_CUDA ? "cuda" : "cpu", o->tf32 ? "tf32" : "float32", o->chains);
}

static void print_text(const bnn_bench_options *o, const bnn_bench_result *r)
{
    if (o->device == BNN_DEVICE_CUDA)
        printf("%s, %zu parameters, N = %zu, GPU (%s), %zu chain(s)\n", o->arch, r->n_params,
               o->n_rows, o->tf32 ? "tf32" : "float32", o->chains);
    else
        printf("%s, %zu parameters, N = %zu, %zu threads, %s\n", o->arch, r->n_params,
               o->n_rows, o->n_threads, precision_name(o->prec));
    printf("gradient:  %.4g ms (median of %zu; fastest %.4g ms)\n", r->ms_per_grad, o->reps,
           r->ms_per_grad_min);
    if (r->ms_per_leapfrog > 0)
        printf("leapfrog:  %.4g ms per step (%+.1f %% over a gradient)\n", r->ms_per_leapfrog,
               100 * (r->ms_per_leapfrog / r->ms_per_grad - 1));
    if (r->gflops > 0) printf("rate:      %.4g GFLOP/s\n", r->gflops);
    if (r->ms_blas > 0)
        printf("BLAS:      %.4g ms for the same products on all rows (gradient / BLAS = %.3f)\n",
               r->ms_blas, r->ms_per_grad / r->ms_blas);
    printf("memory:    peak %.1f MiB resident, of which inputs %.1f MiB\n", r->max_rss_mb,
           r->data_mb);
}

int cmd_bench(int argc, char **argv)
{
    struct bench_args a = {0};
    if (parse_args(&a, argc, argv) != 0) {
        fprintf(stderr, "(bnnmc bench --help lists the options)\n");
        return 2;
    }
    if (a.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (a.sgemm) return run_sgemm(&a);
    bnn_bench_result r;
    if (bnn_bench_run(&a.o, &r) != BNN_OK) {
        cli_report_error("bench");
        return 1;
    }
    if (a.json) print_json(&a.o, &r);
    else print_text(&a.o, &r);
    return 0;
}
