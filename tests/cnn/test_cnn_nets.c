/* Convolutional networks as a whole: parameter counts, finite-difference gradients (float64) of
 * lenet5, resnet20-frn and a cnn: stack, oneDNN against the reference kernels (float32),
 * micro-batching that does not change the sum, and malformed specs refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng.h"
#include "nn/cnn.h"
#include "nn/cnn_gradcheck.h"
#include "nn/net.h"

#define SEED 7
#define ROWS 3
#define FD_TOL 1e-5     /* relative, with a floor of 1e-3·max|gradient| (cnn_gradcheck.h) */
#define DNNL_TOL 1e-5   /* float32 oneDNN vs reference: |Δ| / max |reference| */
#define MICRO_TOL 1e-12 /* float64 sum over one block vs over single rows, relative */

static bnn_net make_net(const char *arch, size_t h, size_t w, size_t c, size_t classes)
{
    bnn_net net;
    bnn_activation act = bnn_cnn_default_activation(arch, BNN_ACT_TANH);
    assert_int_equal(bnn_net_create(&net, arch, (bnn_input_shape){h, w, c}, classes, act,
                                    BNN_LIK_CATEGORICAL, 1), BNN_OK);
    return net;
}

static void test_parameter_counts(void **state)
{
    (void)state;
    struct {
        const char *arch;
        size_t h, c, classes, expect;
    } cases[] = {{"resnet20-frn", 32, 3, 10, 274042}, {"lenet5", 28, 1, 10, 61706},
                 {"lenet5", 32, 1, 10, 82826}};
    int ok = 1;
    for (size_t i = 0; i < 3; i++) {
        bnn_net net = make_net(cases[i].arch, cases[i].h, cases[i].h, cases[i].c,
                               cases[i].classes);
        int good = net.n_params == cases[i].expect;
        printf("%s params %-12s %zux%zux%zu: %zu (expected %zu)\n", good ? "ok" : "not ok",
               cases[i].arch, cases[i].h, cases[i].h, cases[i].c, net.n_params, cases[i].expect);
        ok &= good;
        bnn_net_free(&net);
    }
    assert_true(ok);
}

/* Random N(0,1) images and labels of `classes` classes. */
static void make_rows(double *x, double *y, size_t n, size_t d, size_t classes, uint32_t stream)
{
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, stream);
    bnn_rng_normals(&rng, x, n * d);
    for (size_t i = 0; i < n; i++) y[i] = (double)(size_t)(bnn_rng_uniform(&rng) * classes);
}

static void test_network_gradients(void **state)
{
    (void)state;
    const char *archs[] = {"lenet5", "resnet20-frn", "cnn:c6k3s2f,a2,c5k3v,m2,g,d7"};
    size_t sides[] = {16, 12, 20};
    int ok = 1;
    for (size_t i = 0; i < 3; i++) {
        bnn_net net = make_net(archs[i], sides[i], sides[i] + 1, 2, 4);
        double *x = malloc(ROWS * net.n_inputs * sizeof(double)), y[ROWS];
        make_rows(x, y, ROWS, net.n_inputs, 4, (uint32_t)i);
        bnn_gradcheck_options opt = {.per_tensor = 4, .step = 1e-5, .kink_tol = FD_TOL,
                                     .seed = SEED, .prec = BNN_F64};
        bnn_gradcheck_result r;
        assert_int_equal(bnn_net_gradcheck(&net, x, y, ROWS, &opt, &r), BNN_OK);
        int good = r.max_rel_err < FD_TOL && 10 * r.n_kinks <= r.n_checked;
        printf("%s gradcheck %s: %zu coordinates, %zu at kinks, max rel err %.2e at %s "
               "(tol %.0e)\n", good ? "ok" : "not ok", archs[i], r.n_checked, r.n_kinks,
               r.max_rel_err, r.worst, FD_TOL);
        ok &= good;
        free(x);
        bnn_net_free(&net);
    }
    assert_true(ok);
}

/* Log-likelihood and gradient of one block (float or double per prec). */
static double block(const bnn_net *net, bnn_precision prec, const double *theta, const double *x,
                    const double *y, size_t rows, double *grad)
{
    size_t P = net->n_params, n = rows * net->n_inputs;
    size_t W = net->ops->workspace_len(net->impl, rows);
    void *th = malloc(P * prec), *xx = malloc(n * prec), *g = malloc(P * prec);
    void *work = malloc(W * prec);
    for (size_t i = 0; i < P; i++)
        if (prec == BNN_F32) ((float *)th)[i] = (float)theta[i];
        else ((double *)th)[i] = theta[i];
    for (size_t i = 0; i < n; i++)
        if (prec == BNN_F32) ((float *)xx)[i] = (float)x[i];
        else ((double *)xx)[i] = x[i];
    double ll = net->ops->block_loglik(net->impl, prec, th, xx, y, rows, g, work);
    for (size_t i = 0; i < P; i++)
        grad[i] = prec == BNN_F32 ? ((float *)g)[i] : ((double *)g)[i];
    free(th);
    free(xx);
    free(g);
    free(work);
    return ll;
}

static double max_rel(const double *a, const double *b, size_t n)
{
    double d = 0, s = 1e-300;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
    }
    return d / s;
}

static void draw_theta(const bnn_net *net, double *theta)
{
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, 50);
    bnn_rng_normals(&rng, theta, net->n_params);
    for (size_t k = 0; k < net->n_tensors; k++) {
        const bnn_tensor *t = &net->tensors[k];
        double sd = t->is_bias ? 0.1 : 1 / sqrt((double)t->fan_in);
        for (size_t i = 0; i < t->size; i++) theta[t->offset + i] *= sd;
    }
}

static void test_dnnl_and_micro_batches(void **state)
{
    (void)state;
    const char *archs[] = {"lenet5", "resnet20-frn"};
    const size_t sides[] = {20, 32}; /* resnet20-frn 32x32: micro-batches of 5 in a block of 7 */
    int ok = 1;
    for (size_t a = 0; a < 2; a++) {
        const size_t rows = 7;
        bnn_net net = make_net(archs[a], sides[a], sides[a], 3, 10);
        size_t P = net.n_params;
        double *x = malloc(rows * net.n_inputs * sizeof(double)), y[7];
        double *theta = malloc(P * sizeof(double)), *g_d = malloc(P * sizeof(double));
        double *g_r = malloc(P * sizeof(double)), *g_one = calloc(P, sizeof(double));
        make_rows(x, y, rows, net.n_inputs, 10, 9);
        draw_theta(&net, theta);
        double ll_d = block(&net, BNN_F32, theta, x, y, rows, g_d);
        bnn_cnn_use_dnnl(&net, 0);
        double ll_r = block(&net, BNN_F32, theta, x, y, rows, g_r);
        double e_g = max_rel(g_d, g_r, P), e_ll = fabs(ll_d - ll_r) / fabs(ll_r);
        int good = e_g < DNNL_TOL && e_ll < DNNL_TOL;
        printf("%s dnnl vs reference %s float32: loglik %.2e grad %.2e (tol %.0e)\n",
               good ? "ok" : "not ok", archs[a], e_ll, e_g, DNNL_TOL);
        ok &= good;
        double ll_all = block(&net, BNN_F64, theta, x, y, rows, g_r), ll_sum = 0;
        for (size_t r = 0; r < rows; r++) {
            ll_sum += block(&net, BNN_F64, theta, x + r * net.n_inputs, y + r, 1, g_d);
            for (size_t i = 0; i < P; i++) g_one[i] += g_d[i];
        }
        e_g = max_rel(g_one, g_r, P);
        e_ll = fabs(ll_all - ll_sum) / fabs(ll_all);
        good = e_g < MICRO_TOL && e_ll < MICRO_TOL;
        printf("%s block of %zu rows (micro-batches of %zu) = sum of single rows %s float64: "
               "loglik %.2e grad %.2e (tol %.0e)\n", good ? "ok" : "not ok", rows,
               bnn_cnn_micro_rows(net.impl, rows), archs[a], e_ll, e_g, MICRO_TOL);
        ok &= good;
        free(x);
        free(theta);
        free(g_d);
        free(g_r);
        free(g_one);
        bnn_net_free(&net);
    }
    assert_true(ok);
}

static void test_bad_specs(void **state)
{
    (void)state;
    const char *bad[] = {"cnn:", "cnn:c", "cnn:c0", "cnn:x5", "cnn:c8k", "cnn:c8q", "cnn:m2,,d4",
                         "cnn:c4k9v", "cnn:m40", "cnn:d5x", "cnn:r8s"};
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bnn_net net;
        bnn_status s = bnn_net_create(&net, bad[i], (bnn_input_shape){8, 8, 1}, 3, BNN_ACT_TANH,
                                      BNN_LIK_CATEGORICAL, 1);
        printf("%s refused --arch '%s'\n", s != BNN_OK ? "ok" : "not ok", bad[i]);
        ok &= s != BNN_OK;
        if (s == BNN_OK) bnn_net_free(&net);
    }
    bnn_net net;
    bnn_status s = bnn_net_create(&net, "lenet5", (bnn_input_shape){0, 0, 64}, 3, BNN_ACT_TANH,
                                  BNN_LIK_CATEGORICAL, 1);
    printf("%s refused lenet5 on plain rows\n", s != BNN_OK ? "ok" : "not ok");
    assert_true(ok && s != BNN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_counts),
        cmocka_unit_test(test_network_gradients),
        cmocka_unit_test(test_dnnl_and_micro_batches),
        cmocka_unit_test(test_bad_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
