/* The CUDA kernels' element math (src/backend/cuda/device_math.h), compiled as plain C and run
 * on the CPU against the CPU backend's own kernels: activations and their derivatives, the
 * likelihood heads row by row, the Philox momenta, and the device sampler's iteration (momenta
 * drawn coordinate by coordinate, posterior gradient, leapfrog steps) against bnn_hmc_iterate.
 * Needs no GPU: it checks what the kernels compute, not that they run. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/cpu.h"
#include "backend/cuda/device_math.h"
#include "core/rng.h"
#include "model/posterior.h"
#include "nn/activation.h"
#include "sample/hmc.h"

static void expect_ok(bnn_status st)
{
    if (st != BNN_OK) fail_msg("%s: %s", bnn_status_name(st), bnn_last_error());
}

/* Activations and derivatives against the (vectorised) CPU kernels: the same formulas, with
 * libmvec's SIMD tanh/exp/erf on the CPU and the scalar ones here (a few ulp apart). */
static void test_activations(void **state)
{
    (void)state;
    enum { N = 2001 };
    float z[N], a_cpu[N], g_cpu[N];
    for (int i = 0; i < N; i++) z[i] = -10.0f + 0.01f * (float)i;
    for (int act = BNN_ACT_TANH; act <= BNN_ACT_ERF; act++) {
        bnn_activate_f32((bnn_activation)act, a_cpu, z, N);
        for (int i = 0; i < N; i++) g_cpu[i] = 0.75f;
        bnn_activate_backward_f32((bnn_activation)act, g_cpu, z, a_cpu, N);
        double worst_a = 0, worst_g = 0;
        for (int i = 0; i < N; i++) {
            float a = bnn_dm_activate((bnn_activation)act, z[i]);
            /* derivative at the CPU's a: tanh's 1 - a² would magnify a's ulp near |a| = 1 */
            float g = bnn_dm_activate_backward((bnn_activation)act, 0.75f, z[i], a_cpu[i]);
            double ea = fabs((double)a - a_cpu[i]) / (fabs((double)a_cpu[i]) + 1e-6);
            double eg = fabs((double)g - g_cpu[i]) / (fabs((double)g_cpu[i]) + 1e-3);
            worst_a = ea > worst_a ? ea : worst_a;
            worst_g = eg > worst_g ? eg : worst_g;
        }
        print_message("%s: worst relative difference %.3g (value), %.3g (derivative)\n",
                      bnn_activation_name((bnn_activation)act), worst_a, worst_g);
        assert_true(worst_a <= 1e-6);
        assert_true(worst_g <= 1e-5);
    }
}

/* Heads row by row against bnn_likelihood_block_f32 over the whole block: the same code, so
 * the same bits (the block sum adds the same row terms in the same order). */
static void test_heads(void **state)
{
    (void)state;
    enum { ROWS = 50, K = 7 };
    bnn_rng rng;
    bnn_rng_init(&rng, 5, 0);
    double fd[ROWS * K];
    float f[ROWS * K], g_cpu[ROWS * K], g_dev[K];
    double y[ROWS];
    bnn_rng_normals(&rng, fd, ROWS * K);
    for (int i = 0; i < ROWS * K; i++) f[i] = (float)(3 * fd[i]);
    const bnn_likelihood heads[3] = {BNN_LIK_CATEGORICAL, BNN_LIK_GAUSSIAN, BNN_LIK_BERNOULLI};
    for (int h = 0; h < 3; h++) {
        const size_t k = heads[h] == BNN_LIK_CATEGORICAL ? K : 1;
        for (int r = 0; r < ROWS; r++)
            y[r] = heads[h] == BNN_LIK_CATEGORICAL ? r % K
                   : heads[h] == BNN_LIK_BERNOULLI ? r % 2 : 0.1 * r - 2;
        double ll_cpu = bnn_likelihood_block_f32(heads[h], 0.7, f, y, ROWS, k, g_cpu), ll = 0;
        for (int r = 0; r < ROWS; r++) {
            ll += bnn_dm_head_row(heads[h], 0.7, f + r * k, y[r], k, g_dev);
            assert_memory_equal(g_dev, g_cpu + r * k, k * sizeof(float));
            assert_true(bnn_dm_head_row(heads[h], 0.7, f + r * k, y[r], k, NULL) ==
                        bnn_dm_head_row(heads[h], 0.7, f + r * k, y[r], k, g_dev));
        }
        assert_true(ll == ll_cpu);
    }
}

/* Momenta coordinate by coordinate give bnn_rng_normals's numbers exactly. */
static void test_philox_normals(void **state)
{
    (void)state;
    enum { N = 101 };
    bnn_rng rng;
    bnn_rng_init(&rng, 0x123456789abcull, 3);
    double skip[5], z[N];
    bnn_rng_normals(&rng, skip, 5); /* the stream is not at 0 */
    const uint64_t counter0 = rng.counter;
    uint32_t w_cpu[4], w_dev[4];
    bnn_rng probe = rng;
    bnn_rng_block(&probe, w_cpu);
    bnn_dm_philox_block(rng.seed, rng.stream, counter0, w_dev);
    assert_memory_equal(w_cpu, w_dev, sizeof w_cpu);
    bnn_rng_normals(&rng, z, N);
    for (size_t i = 0; i < N; i++)
        assert_true(bnn_dm_normal(0x123456789abcull, 3, counter0, i) == z[i]);
    assert_int_equal(rng.counter, counter0 + (N + 1) / 2);
}

/* The device sampler's iteration (hmc.cu), replayed on the host with the same element
 * functions and the order of its kernels, equals bnn_hmc_iterate on a small MLP posterior:
 * same accept/reject decisions, same states up to the order of the kinetic-energy sums. */
struct replay {
    bnn_posterior *post;
    size_t n;
    double *theta, *grad, *theta_new, *grad_new, *p, *inv_mass, *lik_grad;
    bnn_logp current;
    double step_size;
    bnn_rng rng;
};

/* hmc.cu's leapfrog step by step: position, log-likelihood gradient, posterior gradient, stop
 * test, momentum. Returns the end state's log density (NAN once not finite). */
static bnn_logp replay_leapfrog(struct replay *s, double eps, size_t L, size_t *steps)
{
    const bnn_posterior *post = s->post;
    bnn_logp end = {0};
    memcpy(s->theta_new, s->theta, s->n * sizeof(double));
    memcpy(s->grad_new, s->grad, s->n * sizeof(double));
    for (size_t i = 0; i < s->n; i++)
        s->p[i] = bnn_dm_momentum_step(s->p[i], 0.5 * eps, s->grad_new[i]);
    for (size_t l = 1; l <= L; l++) {
        double quad = 0, ll;
        for (size_t i = 0; i < s->n; i++) {
            s->theta_new[i] = bnn_dm_position_step(s->theta_new[i], eps, s->inv_mass[i], s->p[i]);
            quad += s->theta_new[i] * s->theta_new[i] / post->prior_var[i];
        }
        const bnn_backend *be = &post->backend;
        expect_ok(be->ops->loglik_grad(be->ctx, s->theta_new, s->lik_grad, &ll));
        int bad = 0;
        for (size_t i = 0; i < s->n; i++) {
            s->grad_new[i] = bnn_dm_posterior_grad(s->lik_grad[i], s->theta_new[i],
                                                   post->prior_var[i], 1 / post->prior.temperature);
            bad |= !isfinite(s->grad_new[i]);
        }
        end.log_lik = ll;
        end.log_prior = post->log_prior_norm - 0.5 * quad;
        end.logp = bad ? NAN : (end.log_lik + end.log_prior) / post->prior.temperature;
        *steps = l;
        if (!isfinite(end.logp)) return end;
        for (size_t i = 0; i < s->n; i++)
            s->p[i] = bnn_dm_momentum_step(s->p[i], l < L ? eps : 0.5 * eps, s->grad_new[i]);
    }
    return end;
}

static int replay_iterate(struct replay *s, const bnn_hmc_options *opt, double *accept_prob)
{
    double k0 = 0, k1 = 0;
    for (size_t i = 0; i < s->n; i++) {
        double z = bnn_dm_normal(s->rng.seed, s->rng.stream, s->rng.counter, i);
        s->p[i] = bnn_dm_momentum(z, s->inv_mass[i]);
        k0 += bnn_dm_kinetic_term(s->p[i], s->inv_mass[i]);
    }
    s->rng.counter += (s->n + 1) / 2;
    double eps = s->step_size, u_jitter = bnn_rng_uniform(&s->rng);
    double u_accept = bnn_rng_uniform(&s->rng);
    if (opt->jitter > 0) eps *= 1 + opt->jitter * (2 * u_jitter - 1);
    size_t L = (size_t)ceil(opt->traj_len / eps), steps = 0;
    L = L > opt->max_leapfrog ? opt->max_leapfrog : L ? L : 1;
    bnn_logp end = replay_leapfrog(s, eps, L, &steps);
    for (size_t i = 0; i < s->n; i++) k1 += bnn_dm_kinetic_term(s->p[i], s->inv_mass[i]);
    double h0 = -s->current.logp + 0.5 * k0;
    double h1 = isfinite(end.logp) ? -end.logp + 0.5 * k1 : INFINITY, error = h1 - h0;
    int divergent = !isfinite(h1) || !(error <= opt->max_energy_error);
    *accept_prob = divergent ? 0 : (error <= 0 ? 1 : exp(-error));
    int accepted = !divergent && u_accept < *accept_prob;
    if (accepted) {
        memcpy(s->theta, s->theta_new, s->n * sizeof(double));
        memcpy(s->grad, s->grad_new, s->n * sizeof(double));
        s->current = end;
    }
    return accepted;
}

static void test_device_iteration_replay(void **state)
{
    (void)state;
    enum { ROWS = 200, D = 5, K = 3 };
    double x[ROWS * D], y[ROWS];
    bnn_rng data_rng;
    bnn_rng_init(&data_rng, 11, 0);
    bnn_rng_normals(&data_rng, x, ROWS * D);
    for (int r = 0; r < ROWS; r++) y[r] = (x[r * D] + x[r * D + 1] > 0) + (x[r * D + 2] > 1);
    bnn_net net;
    bnn_input_shape in = {0, 0, D};
    expect_ok(bnn_net_create(&net, "mlp:8", in, K, BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 1));
    bnn_cpu_data *data;
    expect_ok(bnn_cpu_data_alloc(BNN_F32, D, x, y, ROWS, NULL, 0, 64, &data));
    bnn_backend backend;
    expect_ok(bnn_cpu_backend_alloc(&net, data, 1, &backend));
    bnn_prior_options prior = {.n_var = 1, .var = {1}, .temperature = 1};
    bnn_posterior post;
    expect_ok(bnn_posterior_init(&post, &net, &prior, backend));
    bnn_hmc_options opt = {.step_size = 0.05, .traj_len = 0.5, .max_leapfrog = 100,
                           .jitter = 0.2, .max_energy_error = 1000};
    bnn_hmc *hmc;
    expect_ok(bnn_hmc_alloc(bnn_posterior_target(&post), &opt, &hmc));
    const size_t P = net.n_params;
    double *theta0 = malloc(P * sizeof(double));
    bnn_rng rng;
    bnn_rng_init(&rng, 7, 2);
    bnn_posterior_draw_prior(&post, &rng, 0.5, theta0);
    expect_ok(bnn_hmc_set(hmc, theta0, rng));
    for (size_t i = 0; i < P; i++) hmc->inv_mass[i] = 0.5 + 0.01 * (double)(i % 50);

    struct replay s = {.post = &post, .n = P, .current = hmc->current,
                       .step_size = hmc->step_size, .rng = hmc->rng};
    double **arrays[] = {&s.theta, &s.grad, &s.theta_new, &s.grad_new, &s.p, &s.inv_mass,
                         &s.lik_grad};
    for (size_t k = 0; k < 7; k++) *arrays[k] = malloc(P * sizeof(double));
    memcpy(s.theta, hmc->theta, P * sizeof(double));
    memcpy(s.grad, hmc->grad, P * sizeof(double));
    memcpy(s.inv_mass, hmc->inv_mass, P * sizeof(double));
    int n_accept = 0, n_reject = 0;
    for (int it = 0; it < 30; it++) {
        bnn_hmc_stats st;
        expect_ok(bnn_hmc_iterate(hmc, 1, &st));
        double prob;
        int accepted = replay_iterate(&s, &opt, &prob);
        assert_int_equal(accepted, st.accepted);
        assert_true(fabs(prob - st.accept_prob) <= 1e-9);
        assert_true(s.rng.counter == hmc->rng.counter);
        for (size_t i = 0; i < P; i++) assert_true(fabs(s.theta[i] - hmc->theta[i]) <= 1e-9);
        n_accept += accepted;
        n_reject += !accepted;
    }
    print_message("30 iterations: %d accepted, %d rejected, the same in both\n", n_accept,
                  n_reject);
    assert_true(n_accept > 0 && n_reject > 0); /* both branches were compared */
    for (size_t k = 0; k < 7; k++) free(*arrays[k]);
    free(theta0);
    bnn_hmc_free(hmc);
    bnn_posterior_free(&post);
    bnn_backend_free(&backend);
    bnn_cpu_data_free(data);
    bnn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_heads),
        cmocka_unit_test(test_philox_normals),
        cmocka_unit_test(test_device_iteration_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
