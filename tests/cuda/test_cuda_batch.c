/* Batched chains equal the same chains one at a time: K chains with different θ through one
 * bnn_cuda_batch (one wide first-layer GEMM, strided-batched GEMMs after it) give each chain's
 * log-likelihood and gradient as the single-chain GPU backend does, within 1e-5 relative
 * (cuBLAS may pick another kernel for a batched product, so the bits may differ); a batch gives
 * the same bits on every call; a batch of one chain gives the single backend's bits; the fused
 * top layers equal the unfused kernels (BNNMC_CUDA_FUSE=0) within 1e-5. Without a CUDA device:
 * "skipped: no CUDA device", exit 77. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/cuda.h"
#include "core/rng.h"
#include "nn/net.h"

static void expect_ok(bnn_status st)
{
    if (st != BNN_OK) fail_msg("%s: %s", bnn_status_name(st), bnn_last_error());
}

static double rel_norm(const double *a, const double *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static void check_batch(const char *arch, bnn_activation act, bnn_likelihood lik, size_t d,
                        size_t k, size_t rows, size_t K)
{
    bnn_net net;
    bnn_input_shape in = {0, 0, d};
    expect_ok(bnn_net_create(&net, arch, in, k, act, lik, 0.8));
    const size_t P = net.n_params;
    double *x = malloc(rows * d * sizeof(double)), *y = malloc(rows * sizeof(double));
    double *theta = malloc(K * P * sizeof(double)), *g_batch = malloc(K * P * sizeof(double));
    double *g_again = malloc(K * P * sizeof(double)), *g_one = malloc(P * sizeof(double));
    double *ll_batch = malloc(K * sizeof(double)), *ll_again = malloc(K * sizeof(double));
    bnn_rng rng;
    bnn_rng_init(&rng, 9, 0);
    bnn_rng_normals(&rng, x, rows * d);
    for (size_t r = 0; r < rows; r++) {
        double u = bnn_rng_uniform(&rng);
        y[r] = lik == BNN_LIK_CATEGORICAL ? floor(u * (double)k)
               : lik == BNN_LIK_BERNOULLI ? (u < 0.5) : 2 * u - 1;
    }
    bnn_rng_normals(&rng, theta, K * P); /* draws from the prior of variance 1 / fan-in */
    for (size_t c = 0; c < K; c++)
        for (size_t t = 0; t < net.n_tensors; t++)
            for (size_t i = 0; i < net.tensors[t].size; i++)
                theta[c * P + net.tensors[t].offset + i] /= sqrt((double)net.tensors[t].fan_in);
    bnn_cuda_data *data;
    expect_ok(bnn_cuda_data_alloc(d, x, y, rows, NULL, 0, &data));
    bnn_backend one;
    expect_ok(bnn_cuda_backend_alloc(&net, data, 0, &one));
    bnn_cuda_batch *batch;
    expect_ok(bnn_cuda_batch_alloc(&net, data, K, 0, &batch));
    expect_ok(bnn_cuda_batch_loglik_grad(batch, theta, g_batch, ll_batch));
    expect_ok(bnn_cuda_batch_loglik_grad(batch, theta, g_again, ll_again));
    assert_memory_equal(g_batch, g_again, K * P * sizeof(double));
    assert_memory_equal(ll_batch, ll_again, K * sizeof(double));
    double worst_g = 0, worst_ll = 0;
    for (size_t c = 0; c < K; c++) {
        double ll;
        expect_ok(one.ops->loglik_grad(one.ctx, theta + c * P, g_one, &ll));
        double eg = rel_norm(g_batch + c * P, g_one, P), el = fabs(ll_batch[c] - ll) / fabs(ll);
        worst_g = eg > worst_g ? eg : worst_g;
        worst_ll = el > worst_ll ? el : worst_ll;
    }
    printf("%-10s %-5s %-11s K=%zu N=%zu P=%zu: batched vs one at a time: gradient %.2e, "
           "loglik %.2e\n", arch, bnn_activation_name(act), bnn_likelihood_name(lik), K, rows, P,
           worst_g, worst_ll);
    assert_true(worst_g <= 1e-5 && worst_ll <= 1e-5);
    bnn_cuda_batch_free(batch);

    /* the fused top layers (fused_top.cu's fused_top_kernel, used where the net has a hidden
     * layer) against the unfused kernels and products (BNNMC_CUDA_FUSE=0) */
    setenv("BNNMC_CUDA_FUSE", "0", 1);
    bnn_backend unfused;
    expect_ok(bnn_cuda_backend_alloc(&net, data, 0, &unfused));
    unsetenv("BNNMC_CUDA_FUSE");
    double ll_one, ll_unfused;
    expect_ok(one.ops->loglik_grad(one.ctx, theta, g_one, &ll_one));
    expect_ok(unfused.ops->loglik_grad(unfused.ctx, theta, g_again, &ll_unfused));
    const double eg = rel_norm(g_one, g_again, P), el = fabs(ll_one - ll_unfused) / fabs(ll_one);
    printf("%-10s fused vs unfused top layers: gradient %.2e, loglik %.2e\n", arch, eg, el);
    assert_true(eg <= 1e-5 && el <= 1e-5);
    bnn_backend_free(&unfused);

    /* a batch of one chain runs the single backend's kernels: the same bits */
    expect_ok(bnn_cuda_batch_alloc(&net, data, 1, 0, &batch));
    expect_ok(bnn_cuda_batch_loglik_grad(batch, theta, g_batch, ll_batch));
    double ll;
    expect_ok(one.ops->loglik_grad(one.ctx, theta, g_one, &ll));
    assert_memory_equal(g_batch, g_one, P * sizeof(double));
    assert_true(ll_batch[0] == ll);
    bnn_cuda_batch_free(batch);
    bnn_backend_free(&one);
    bnn_cuda_data_free(data);
    free(x), free(y), free(theta), free(g_batch), free(g_again), free(g_one);
    free(ll_batch), free(ll_again);
    bnn_net_free(&net);
}

static void test_batched_equals_single(void **state)
{
    (void)state;
    check_batch("mlp:50", BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 20, 10, 1000, 5);
    check_batch("mlp:32,16", BNN_ACT_RELU, BNN_LIK_GAUSSIAN, 13, 1, 506, 8);
    check_batch("linear", BNN_ACT_TANH, BNN_LIK_BERNOULLI, 8, 1, 300, 3);
    check_batch("mlp:100", BNN_ACT_SWISH, BNN_LIK_CATEGORICAL, 64, 10, 1437, 32);
    /* the fused top's edges: one row; 257 rows (a second block of one row) in tiles of 6 */
    check_batch("mlp:3", BNN_ACT_TANH, BNN_LIK_BERNOULLI, 5, 1, 1, 2);
    check_batch("mlp:600", BNN_ACT_ERF, BNN_LIK_CATEGORICAL, 7, 5, 257, 2);
}

int main(void)
{
    if (bnn_cuda_device_count() == 0) {
        printf("skipped: no CUDA device\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_batched_equals_single)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
