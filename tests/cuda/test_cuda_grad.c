/* GPU log-likelihood, gradient and predictions equal the CPU backend's on the same θ, for MLPs
 * with every activation and likelihood head, and for CNNs (LeNet-5 on 28x28x1, ResNet-20-FRN on
 * 32x32x3, and cnn: specs with a strided valid convolution, average and max pooling, FRN, GAP
 * and a hidden dense layer): within 1e-5 relative of the CPU in float64 (the reference) and of
 * the CPU in float32, measured norm-wise (norm of the gradient difference over the norm of the
 * gradient; the log-likelihood alike). Both compute in float32 with different summation orders;
 * on the CPU, float32 is within 3e-7 (cnn: spec), 4e-7 (LeNet-5) and 6e-7 (ResNet-20-FRN) of
 * float64 on these cases, so 1e-5 (the requirement) leaves a wide margin while a wrong
 * index or a lost micro-batch shows as an error of order 1. Each CNN runs twice: with the rows
 * forced into several micro-batches (BNNMC_CUDA_MICRO_ROWS) and with the default (one); its
 * convolutions are conv.cu's direct ones, and some CNNs run again with the im2col + cuBLAS
 * ones (BNNMC_CUDA_CONV=im2col), with cuDNN's (BNNMC_CUDA_CONV=cudnn, conv.cu taking what
 * cuDNN cannot pad), some with FRN and its activation unfused. Two
 * calls give the same bits; TF32 runs and stays within 1e-2 (MLPs) or 5e-2 (CNNs: deeper, with
 * many more rounded products per output). Without a CUDA device: "skipped: no CUDA device",
 * exit 77. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/cpu.h"
#include "backend/cuda.h"
#include "core/rng.h"
#include "nn/net.h"

static void expect_ok(bnn_status st)
{
    if (st != BNN_OK) fail_msg("%s: %s", bnn_status_name(st), bnn_last_error());
}

typedef struct {
    const char *arch;
    bnn_activation act;
    bnn_likelihood lik;
    size_t d, k, rows;
    size_t height, width; /* images of height x width x (d / (height · width)); 0: plain rows */
    const char *micro_rows; /* BNNMC_CUDA_MICRO_ROWS for the GPU backend, or NULL */
    const char *env;        /* NAME=value in the environment of the GPU backend, or NULL */
} grad_case;

/* ‖a - b‖ / ‖b‖ over n numbers. */
static double rel_norm(const double *a, const double *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

/* CPU loglik, gradient and predictions at theta in precision prec. */
static void cpu_eval(const bnn_net *net, bnn_precision prec, const grad_case *c, const double *x,
                     const double *y, const double *theta, double *grad, double *ll,
                     double *pred)
{
    bnn_cpu_data *data;
    expect_ok(bnn_cpu_data_alloc(prec, c->d, x, y, c->rows, x, c->rows, 64, &data));
    bnn_backend b;
    expect_ok(bnn_cpu_backend_alloc(net, data, 1, &b));
    expect_ok(b.ops->loglik_grad(b.ctx, theta, grad, ll));
    expect_ok(b.ops->predict(b.ctx, theta, pred));
    bnn_backend_free(&b);
    bnn_cpu_data_free(data);
}

/* Evaluates case c on the GPU against the CPU; 1 if every check holds (each printed). */
static int evaluate_case(const grad_case *c)
{
    bnn_net net;
    bnn_input_shape in = {c->height, c->width, c->height ? c->d / (c->height * c->width) : c->d};
    expect_ok(bnn_net_create(&net, c->arch, in, c->k, c->act, c->lik, 0.8));
    const size_t P = net.n_params, n_out = net.n_outputs * c->rows;
    double *x = malloc(c->rows * c->d * sizeof(double)), *y = malloc(c->rows * sizeof(double));
    double *theta = malloc(P * sizeof(double));
    double *g64 = malloc(P * sizeof(double)), *g32 = malloc(P * sizeof(double));
    double *gg = malloc(P * sizeof(double)), *gg2 = malloc(P * sizeof(double));
    double *p64 = malloc(n_out * sizeof(double)), *p32 = malloc(n_out * sizeof(double));
    double *pg = malloc(n_out * sizeof(double));
    bnn_rng rng;
    bnn_rng_init(&rng, 3, 0);
    bnn_rng_normals(&rng, x, c->rows * c->d);
    for (size_t r = 0; r < c->rows; r++) {
        double u = bnn_rng_uniform(&rng);
        y[r] = c->lik == BNN_LIK_CATEGORICAL ? floor(u * (double)c->k)
               : c->lik == BNN_LIK_BERNOULLI ? (u < 0.5) : 2 * u - 1;
    }
    bnn_rng_normals(&rng, theta, P); /* a draw from the prior of variance 1 / fan-in */
    for (size_t t = 0; t < net.n_tensors; t++)
        for (size_t i = 0; i < net.tensors[t].size; i++)
            theta[net.tensors[t].offset + i] /= sqrt((double)net.tensors[t].fan_in);

    double ll64, ll32, llg, llg2;
    cpu_eval(&net, BNN_F64, c, x, y, theta, g64, &ll64, p64);
    cpu_eval(&net, BNN_F32, c, x, y, theta, g32, &ll32, p32);
    bnn_cuda_data *data;
    expect_ok(bnn_cuda_data_alloc(c->d, x, y, c->rows, x, c->rows, &data));
    bnn_backend b;
    /* read when the backend is created */
    if (c->micro_rows) setenv("BNNMC_CUDA_MICRO_ROWS", c->micro_rows, 1);
    char env_name[64] = "";
    if (c->env) {
        const char *eq = strchr(c->env, '=');
        snprintf(env_name, sizeof env_name, "%.*s", (int)(eq - c->env), c->env);
        setenv(env_name, eq + 1, 1);
    }
    expect_ok(bnn_cuda_backend_alloc(&net, data, 0, &b));
    expect_ok(b.ops->loglik_grad(b.ctx, theta, gg, &llg));
    expect_ok(b.ops->loglik_grad(b.ctx, theta, gg2, &llg2));
    expect_ok(b.ops->predict(b.ctx, theta, pg));
    double e_g64 = rel_norm(gg, g64, P), e_g32 = rel_norm(gg, g32, P);
    double e_ll64 = fabs(llg - ll64) / fabs(ll64), e_ll32 = fabs(llg - ll32) / fabs(ll32);
    double e_pred = 0;
    for (size_t i = 0; i < n_out; i++) {
        double e = fabs(pg[i] - p64[i]) / (fabs(p64[i]) + 1);
        e_pred = e > e_pred ? e : e_pred;
    }
    printf("%-12s %-5s %-11s N=%zu P=%zu micro-batch %s%s%s: gradient %.2e (f64) %.2e "
           "(f32), loglik %.2e %.2e, predictions %.2e; CPU f32 vs f64 %.2e\n", c->arch,
           bnn_activation_name(c->act), bnn_likelihood_name(c->lik), c->rows, P,
           c->micro_rows ? c->micro_rows : "default", c->env ? ", " : "", c->env ? c->env : "",
           e_g64, e_g32, e_ll64, e_ll32, e_pred, rel_norm(g32, g64, P));
    int ok = e_g64 <= 1e-5 && e_g32 <= 1e-5 && e_ll64 <= 1e-5 && e_ll32 <= 1e-5 && e_pred <= 1e-5;
    /* the same bits every time */
    const int same = llg == llg2 && memcmp(gg, gg2, P * sizeof(double)) == 0;
    if (!same) printf("%-12s: two calls gave different bits\n", c->arch);
    ok = ok && same;
    bnn_backend_free(&b);

    expect_ok(bnn_cuda_backend_alloc(&net, data, 1, &b));
    unsetenv("BNNMC_CUDA_MICRO_ROWS");
    if (*env_name) unsetenv(env_name);
    expect_ok(b.ops->loglik_grad(b.ctx, theta, gg, &llg));
    printf("%-12s %-5s %-11s TF32: gradient %.2e, loglik %.2e\n", c->arch,
           bnn_activation_name(c->act), bnn_likelihood_name(c->lik), rel_norm(gg, g64, P),
           fabs(llg - ll64) / fabs(ll64));
    ok = ok && rel_norm(gg, g64, P) <= (net.mlp ? 1e-2 : 5e-2);
    bnn_backend_free(&b);
    bnn_cuda_data_free(data);
    free(x), free(y), free(theta), free(g64), free(g32), free(gg), free(gg2);
    free(p64), free(p32), free(pg);
    bnn_net_free(&net);
    if (!ok) printf("%-12s FAILED\n", c->arch);
    return ok;
}

/* BNNMC_TEST_QUICK=1 (CI's run under the sanitizers, which makes everything several times
 * slower) leaves out what the plain run covers alone: cases of over 10 000 rows and the
 * alternative paths' runs of whole nets (LeNet-5, ResNet-20-FRN; their small cnn: specs stay). */
static int quick(void)
{
    const char *e = getenv("BNNMC_TEST_QUICK");
    return e && !strcmp(e, "1");
}

static void check_case(const grad_case *c)
{
    if (quick() && c->rows > 10000) {
        printf("%-12s N=%zu: left out (BNNMC_TEST_QUICK=1)\n", c->arch, c->rows);
        return;
    }
    assert_true(evaluate_case(c));
}

static void test_mlps(void **state)
{
    (void)state;
    const grad_case cases[] = {
        {"mlp:50", BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 20, 10, 1000, 0, 0, NULL, NULL},
        {"mlp:32,16", BNN_ACT_RELU, BNN_LIK_CATEGORICAL, 20, 5, 777, 0, 0, NULL, NULL},
        {"mlp:40", BNN_ACT_SWISH, BNN_LIK_GAUSSIAN, 13, 1, 506, 0, 0, NULL, NULL},
        {"mlp:30,30", BNN_ACT_ERF, BNN_LIK_BERNOULLI, 8, 1, 600, 0, 0, NULL, NULL},
        {"linear", BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 64, 10, 1437, 0, 0, NULL, NULL},
        {"mlp:100", BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 784, 10, 2000, 0, 0, NULL, NULL},
        {"mlp:200,200", BNN_ACT_SWISH, BNN_LIK_CATEGORICAL, 64, 10, 1437, 0, 0, NULL, NULL},
        /* a top too large for fused_top.cu's kernel (500·10 + 10 + 500 > 4096 sums): the
         * unfused kernels and products; every case above has a fused top but "linear" */
        {"mlp:60,500", BNN_ACT_RELU, BNN_LIK_CATEGORICAL, 30, 10, 700, 0, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* One layer kind at a time after a convolution (then the activation and the dense layer to the
 * classes), in several micro-batches: every case runs before the test fails, so a failing run
 * names the layer kinds at fault rather than only the first whole net that disagrees. */
static void test_cnn_layers(void **state)
{
    (void)state;
    const char *specs[] = {
        "cnn:c3k3",    /* convolution, "same", stride 1 */
        "cnn:c3k3v",   /* valid */
        "cnn:c3k3s2",  /* stride 2: TensorFlow's padding, the extra row after */
        "cnn:c3k1",    /* 1x1 */
        "cnn:c3k3f",   /* FRN */
        "cnn:c4k3,m2", /* max pooling */
        "cnn:c4k3,a2", /* average pooling */
        "cnn:c4k3,g",  /* global average pooling */
        "cnn:c4k3,r4", /* residual block, identity shortcut */
        "cnn:c4k3,r6s2", /* residual block, projection shortcut */
        "cnn:c4k3,d7", /* hidden dense layer */
        "cnn:c80k3,c5k3", /* over 64 channels: the direct products' column tiles side by side */
    };
    const bnn_activation acts[] = {BNN_ACT_TANH, BNN_ACT_SWISH};
    int failed = 0;
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
        for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
            const grad_case c = {specs[i], acts[a], BNN_LIK_CATEGORICAL, 6 * 5 * 2, 4, 10, 6, 5,
                                 "3", NULL};
            if (!evaluate_case(&c)) {
                printf("layer check FAILED: %s with %s\n", specs[i],
                       bnn_activation_name(acts[a]));
                failed++;
            }
        }
    assert_int_equal(failed, 0);
}

/* CNNs: several micro-batches (rows forced by BNNMC_CUDA_MICRO_ROWS, the last one short) and
 * one micro-batch (the default), every layer kind and every head. */
static void test_cnns(void **state)
{
    (void)state;
    const grad_case cases[] = {
        {"lenet5", BNN_ACT_RELU, BNN_LIK_CATEGORICAL, 28 * 28, 10, 40, 28, 28, "16", NULL},
        {"lenet5", BNN_ACT_RELU, BNN_LIK_CATEGORICAL, 28 * 28, 10, 40, 28, 28, NULL, NULL},
        {"resnet20-frn", BNN_ACT_SWISH, BNN_LIK_CATEGORICAL, 32 * 32 * 3, 10, 24, 32, 32, "10",
         NULL},
        {"resnet20-frn", BNN_ACT_SWISH, BNN_LIK_CATEGORICAL, 32 * 32 * 3, 10, 24, 32, 32, NULL,
         NULL},
        /* valid strided convolution, average pooling, FRN, GAP */
        {"cnn:c8k3s2v,a2,c6k3f,g", BNN_ACT_TANH, BNN_LIK_GAUSSIAN, 13 * 11 * 2, 1, 30, 13, 11, "7",
         NULL},
        {"cnn:c8k3s2v,a2,c6k3f,g", BNN_ACT_TANH, BNN_LIK_GAUSSIAN, 13 * 11 * 2, 1, 30, 13, 11,
         NULL, NULL},
        /* two micro-batches of 540 000 and 90 000 output positions: the direct weight
         * gradient's chunks of several rounds of 512 positions (conv.cu, weight_chunks), fewer
         * chunks in the second; the forward products' tiles of 8 and of 4 rows per thread
         * (the small cases take 2) */
        {"cnn:c3k3", BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 6 * 5 * 2, 4, 21000, 6, 5, "18000",
         NULL},
        /* max pooling of window 3 (not LeNet's 2), a hidden dense layer, 1x1 convolution */
        {"cnn:c5k1,m3,c4k2s2,d12", BNN_ACT_ERF, BNN_LIK_BERNOULLI, 10 * 9 * 3, 1, 21, 10, 9, "4",
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i]);
}

/* The im2col + cuBLAS convolutions (BNNMC_CUDA_CONV=im2col, kept to compare with conv.cu's
 * direct ones, which every case above takes) and the FRN and activation nodes apart
 * (BNNMC_CUDA_FUSE=0; above, an FRN whose output only an activation reads is one kernel with
 * it) agree with the CPU alike. */
/* The status of a backend for a small CNN with BNNMC_CUDA_CONV=path (bnn_last_error() says
 * why, where it failed). */
static bnn_status backend_with_conv(const char *path)
{
    bnn_net net;
    bnn_input_shape in = {6, 5, 2};
    expect_ok(bnn_net_create(&net, "cnn:c3k3", in, 4, BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 1));
    double x[6 * 5 * 2] = {0}, y[1] = {0};
    bnn_cuda_data *data;
    expect_ok(bnn_cuda_data_alloc(6 * 5 * 2, x, y, 1, NULL, 0, &data));
    setenv("BNNMC_CUDA_CONV", path, 1);
    bnn_backend b;
    bnn_status st = bnn_cuda_backend_alloc(&net, data, 0, &b);
    unsetenv("BNNMC_CUDA_CONV");
    if (st == BNN_OK) bnn_backend_free(&b);
    bnn_cuda_data_free(data);
    bnn_net_free(&net);
    return st;
}

static void test_cnns_alternatives(void **state)
{
    (void)state;
    /* cuDNN is loaded at run time, and only for this path: on a GPU machine without it, the
     * path says so (checked here) and its cases are left out, not failed; under
     * tools/cuda-emu (BNN_CUDA_EMU), which always has it, that fails */
    int no_cudnn = 0;
    if (backend_with_conv("cudnn") != BNN_OK) {
        assert_non_null(strstr(bnn_last_error(), "BNNMC_CUDA_CONV=cudnn: "));
#ifdef BNN_CUDA_EMU
        fail_msg("the emulated cuDNN: %s", bnn_last_error());
#endif
        printf("cuDNN cases left out: %s\n", bnn_last_error());
        no_cudnn = 1;
    }
    const grad_case fuse_off[] = { /* the FRN and activation nodes apart */
        {"cnn:c3k3f", BNN_ACT_SWISH, BNN_LIK_CATEGORICAL, 6 * 5 * 2, 4, 10, 6, 5, "3",
         "BNNMC_CUDA_FUSE=0"},
        {"resnet20-frn", BNN_ACT_SWISH, BNN_LIK_CATEGORICAL, 32 * 32 * 3, 10, 24, 32, 32, "10",
         "BNNMC_CUDA_FUSE=0"},
    };
    /* the other convolution paths, each on these nets. cuDNN: "same" 3x3 and valid 5x5 and
     * strided ones; a stride-2 "same" one (the extra padding row after) by conv.cu, alone
     * (c3k3s2) and beside cuDNN's (ResNet-20-FRN) */
    const grad_case nets[] = {
        {"cnn:c3k3", BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 6 * 5 * 2, 4, 10, 6, 5, "3", NULL},
        {"cnn:c3k3s2", BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 6 * 5 * 2, 4, 10, 6, 5, "3", NULL},
        {"lenet5", BNN_ACT_RELU, BNN_LIK_CATEGORICAL, 28 * 28, 10, 40, 28, 28, "16", NULL},
        {"resnet20-frn", BNN_ACT_SWISH, BNN_LIK_CATEGORICAL, 32 * 32 * 3, 10, 24, 32, 32, "10",
         NULL},
        {"cnn:c8k3s2v,a2,c6k3f,g", BNN_ACT_TANH, BNN_LIK_GAUSSIAN, 13 * 11 * 2, 1, 30, 13, 11, "7",
         NULL},
    };
    const char *paths[] = {"BNNMC_CUDA_CONV=im2col", "BNNMC_CUDA_CONV=cudnn"};
    const size_t n_fuse = sizeof fuse_off / sizeof fuse_off[0];
    const size_t n_nets = sizeof nets / sizeof nets[0];
    for (size_t i = 0; i < n_fuse + 2 * n_nets; i++) {
        grad_case c = i < n_fuse ? fuse_off[i] : nets[(i - n_fuse) % n_nets];
        if (i >= n_fuse) c.env = paths[(i - n_fuse) / n_nets];
        if (quick() && strncmp(c.arch, "cnn:", 4)) {
            printf("%-12s %s: left out (BNNMC_TEST_QUICK=1)\n", c.arch, c.env);
            continue;
        }
        if (no_cudnn && strstr(c.env, "cudnn")) continue;
        check_case(&c);
    }
}

/* An unknown BNNMC_CUDA_CONV is refused with a message naming the variable and its values. */
static void test_conv_path_refused(void **state)
{
    (void)state;
    assert_int_equal(backend_with_conv("cuddn"), BNN_EINVAL);
    assert_non_null(strstr(bnn_last_error(), "BNNMC_CUDA_CONV must be direct, im2col or cudnn, "
                                             "not 'cuddn'"));
}

/* A cuDNN that cannot be loaded (BNNMC_CUDNN_LIBRARY names the library) is an error naming
 * it, and nothing is left behind (the sanitized run checks for leaks). */
static void test_cudnn_missing(void **state)
{
    (void)state;
    setenv("BNNMC_CUDNN_LIBRARY", "/nonexistent/libcudnn.so.9", 1);
    bnn_status st = backend_with_conv("cudnn");
    unsetenv("BNNMC_CUDNN_LIBRARY");
    assert_int_equal(st, BNN_EUNSUP);
    assert_non_null(strstr(bnn_last_error(), "BNNMC_CUDA_CONV=cudnn: /nonexistent/libcudnn.so.9 "
                                             "could not be loaded"));
}

/* Batched chains of a CNN are refused with a message saying what is supported. */
static void test_cnn_batch_refused(void **state)
{
    (void)state;
    bnn_net net;
    bnn_input_shape in = {28, 28, 1};
    expect_ok(bnn_net_create(&net, "lenet5", in, 10, BNN_ACT_RELU, BNN_LIK_CATEGORICAL, 1));
    double x[28 * 28] = {0}, y[1] = {0};
    bnn_cuda_data *data;
    expect_ok(bnn_cuda_data_alloc(28 * 28, x, y, 1, NULL, 0, &data));
    bnn_cuda_batch *batch = NULL;
    assert_int_equal(bnn_cuda_batch_alloc(&net, data, 2, 0, &batch), BNN_EUNSUP);
    assert_non_null(strstr(bnn_last_error(), "batches chains of MLPs only"));
    bnn_cuda_data_free(data);
    bnn_net_free(&net);
}

int main(void)
{
    if (bnn_cuda_device_count() == 0) {
        printf("skipped: no CUDA device\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlps),
        cmocka_unit_test(test_cnn_layers),
        cmocka_unit_test(test_cnns),
        cmocka_unit_test(test_cnns_alternatives),
        cmocka_unit_test(test_cnn_batch_refused),
        cmocka_unit_test(test_conv_path_refused),
        cmocka_unit_test(test_cudnn_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
