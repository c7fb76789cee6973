/* The CUDA kernels' element math (src/backend/cuda/device_math.h), compiled as plain C and run
 * on the CPU against the CPU backend's own kernels: activations and their derivatives, the
 * likelihood heads row by row, the Philox momenta, and the device sampler's iteration (momenta
 * drawn coordinate by coordinate, posterior gradient, leapfrog steps) against bnn_hmc_iterate;
 * the CNN kernels' index math (im2col and its gather inverse, pooling windows with the tie rule)
 * and FRN's element math against the reference layers (nn/layers/layers.h).
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
#include "nn/layers/layers.h"
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

/* ‖a - b‖∞ / (‖b‖∞ + 1e-30) over n floats. */
static double rel_max(const float *a, const float *b, size_t n)
{
    double num = 0, den = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]), m = fabs((double)b[i]);
        num = e > num ? e : num;
        den = m > den ? m : den;
    }
    return num / den;
}

static float *normals_f(bnn_rng *rng, size_t n)
{
    double *d = malloc(n * sizeof *d);
    float *f = malloc(n * sizeof *f);
    bnn_rng_normals(rng, d, n);
    for (size_t i = 0; i < n; i++) f[i] = (float)d[i];
    free(d);
    return f;
}

/* A convolution through the device's index math (im2col entries, a product in double, the
 * col2im gather) against bnn_conv2d_forward/backward_f32: output, weight, bias and input
 * gradients, for "same" padding with odd and even totals, strides 1 and 2, valid, 1×1. */
static void test_conv_index_math(void **state)
{
    (void)state;
    const struct { size_t h, w, c, o, k, stride; int same; } shapes[] = {
        {7, 6, 2, 3, 5, 1, 1}, {8, 7, 3, 4, 3, 2, 1}, {9, 9, 2, 2, 3, 2, 0},
        {6, 5, 3, 2, 1, 2, 1}, {5, 8, 1, 6, 4, 3, 1}, {28, 28, 1, 6, 5, 1, 1},
    };
    const size_t n = 3;
    bnn_rng rng;
    bnn_rng_init(&rng, 11, 0);
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        bnn_conv_shape s;
        bnn_conv_shape_init(&s, shapes[t].h, shapes[t].w, shapes[t].c, shapes[t].o, shapes[t].k,
                            shapes[t].stride, shapes[t].same);
        const size_t kkc = s.k * s.k * s.c, rows = n * s.oh * s.ow, n_in = n * s.h * s.w * s.c;
        float *in = normals_f(&rng, n_in), *w = normals_f(&rng, kkc * s.o);
        float *b = normals_f(&rng, s.o), *dout = normals_f(&rng, rows * s.o);
        float *col = malloc(rows * kkc * sizeof(float)), *dcol = malloc(rows * kkc * sizeof(float));
        float *out = malloc(rows * s.o * sizeof(float));
        float *out_ref = malloc(rows * s.o * sizeof(float));
        float *din = calloc(n_in, sizeof(float)), *din_ref = calloc(n_in, sizeof(float));
        float *dw = calloc(kkc * s.o, sizeof(float)), *dw_ref = calloc(kkc * s.o, sizeof(float));
        float *db_ref = calloc(s.o, sizeof(float));
        float *scratch = malloc(kkc * s.oh * s.ow * sizeof(float));
        for (size_t i = 0; i < rows * kkc; i++) col[i] = bnn_dm_im2col_entry(in, &s, i);
        for (size_t r = 0; r < rows; r++)
            for (size_t o = 0; o < s.o; o++) {
                double acc = b[o];
                for (size_t j = 0; j < kkc; j++) acc += (double)col[r * kkc + j] * w[j * s.o + o];
                out[r * s.o + o] = (float)acc;
            }
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < kkc; j++) {
                double acc = 0;
                for (size_t o = 0; o < s.o; o++) acc += (double)dout[r * s.o + o] * w[j * s.o + o];
                dcol[r * kkc + j] = (float)acc;
            }
        for (size_t j = 0; j < kkc; j++)
            for (size_t o = 0; o < s.o; o++) {
                double acc = 0;
                for (size_t r = 0; r < rows; r++)
                    acc += (double)col[r * kkc + j] * dout[r * s.o + o];
                dw[j * s.o + o] = (float)acc;
            }
        for (size_t i = 0; i < n_in; i++) din[i] = bnn_dm_col2im_entry(dcol, &s, i);
        bnn_conv2d_forward_f32(out_ref, in, w, b, &s, n, scratch);
        bnn_conv2d_backward_f32(din_ref, dw_ref, db_ref, dout, in, w, &s, n, scratch);
        double e_out = rel_max(out, out_ref, rows * s.o), e_din = rel_max(din, din_ref, n_in);
        double e_dw = rel_max(dw, dw_ref, kkc * s.o);
        print_message("conv %zux%zux%zu -> %zux%zux%zu k%zu s%zu pad %zu,%zu: out %.2e, dw %.2e, "
                      "din %.2e\n", s.h, s.w, s.c, s.oh, s.ow, s.o, s.k, s.stride, s.pad_top,
                      s.pad_left, e_out, e_dw, e_din);
        assert_true(e_out <= 1e-5 && e_dw <= 1e-5 && e_din <= 1e-5);
        free(in), free(w), free(b), free(dout), free(col), free(dcol), free(out), free(out_ref);
        free(din), free(din_ref), free(dw), free(dw_ref), free(db_ref), free(scratch);
    }
}

/* Max and average pooling through the device's window math against the reference: the same
 * bits forward and backward, with many ties (inputs from a few values) so that the first-
 * maximum rule is exercised; windows 2 (LeNet's fast path) and 3 (sizes not multiples). */
static void test_pool_index_math(void **state)
{
    (void)state;
    const bnn_pool_shape shapes[] = {
        {.h = 8, .w = 6, .c = 6, .k = 2, .stride = 2, .oh = 4, .ow = 3},
        {.h = 7, .w = 8, .c = 3, .k = 3, .stride = 3, .oh = 2, .ow = 2},
        {.h = 10, .w = 10, .c = 16, .k = 2, .stride = 2, .oh = 5, .ow = 5},
    };
    const size_t n = 2;
    bnn_rng rng;
    bnn_rng_init(&rng, 12, 0);
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const bnn_pool_shape *p = &shapes[t];
        const size_t n_in = n * p->h * p->w * p->c, n_out = n * p->oh * p->ow * p->c;
        float *in = malloc(n_in * sizeof(float)), *g = normals_f(&rng, n_out);
        for (size_t i = 0; i < n_in; i++) in[i] = (float)floor(3 * bnn_rng_uniform(&rng)) - 1;
        float *out = malloc(n_out * sizeof(float)), *out_ref = malloc(n_out * sizeof(float));
        float *din = calloc(n_in, sizeof(float)), *din_ref = calloc(n_in, sizeof(float));
        for (int avg = 0; avg <= 1; avg++) {
            memset(din, 0, n_in * sizeof(float));
            memset(din_ref, 0, n_in * sizeof(float));
            for (size_t o = 0; o < n_out; o++) {
                if (avg) {
                    out[o] = bnn_dm_avgpool_entry(in, p, o);
                    size_t origin = bnn_dm_pool_origin(p, o);
                    float gg = g[o] * (1.0f / (float)(p->k * p->k));
                    for (size_t ky = 0; ky < p->k; ky++)
                        for (size_t kx = 0; kx < p->k; kx++)
                            din[origin + (ky * p->w + kx) * p->c] += gg;
                } else {
                    size_t at = bnn_dm_maxpool_argmax(in, p, o);
                    out[o] = in[at];
                    din[at] += g[o];
                }
            }
            if (avg) {
                bnn_avgpool_forward_f32(out_ref, in, p, n);
                bnn_avgpool_backward_f32(din_ref, g, p, n);
            } else {
                bnn_maxpool_forward_f32(out_ref, in, p, n);
                bnn_maxpool_backward_f32(din_ref, g, in, p, n);
            }
            print_message("%s pool %zux%zux%zu k%zu: forward and backward compared bit for bit\n",
                          avg ? "avg" : "max", p->h, p->w, p->c, p->k);
            assert_memory_equal(out, out_ref, n_out * sizeof(float));
            assert_memory_equal(din, din_ref, n_in * sizeof(float));
        }
        free(in), free(g), free(out), free(out_ref), free(din), free(din_ref);
    }
}

/* FRN through the device's element math (the kernels' loops, positions summed in order)
 * against bnn_frn_forward/backward_f32; channel 0 has γ = 0 and τ = β, so every y ties with
 * τ there (the gradient split in half). */
static void test_frn_element_math(void **state)
{
    (void)state;
    const size_t n = 3, hw = 20, c = 5;
    bnn_rng rng;
    bnn_rng_init(&rng, 13, 0);
    float *in = normals_f(&rng, n * hw * c), *dout = normals_f(&rng, n * hw * c);
    float *gamma = normals_f(&rng, c), *beta = normals_f(&rng, c), *tau = normals_f(&rng, c);
    gamma[0] = 0;
    tau[0] = beta[0];
    float *out = malloc(n * hw * c * sizeof(float)), *out_ref = malloc(n * hw * c * sizeof(float));
    float *din = calloc(n * hw * c, sizeof(float)), *din_ref = calloc(n * hw * c, sizeof(float));
    float dp[3][8] = {{0}}, dp_ref[3][8] = {{0}};
    for (size_t i = 0; i < n; i++)
        for (size_t ch = 0; ch < c; ch++) {
            const float *x = in + i * hw * c + ch, *dz = dout + i * hw * c + ch;
            double sq = 0, sg = 0, sb = 0, st = 0;
            for (size_t q = 0; q < hw; q++) sq += (double)x[q * c] * x[q * c];
            const float r = bnn_dm_frn_scale(sq, hw);
            for (size_t q = 0; q < hw; q++) {
                out[(i * hw + q) * c + ch] = bnn_dm_frn_forward(x[q * c], r, gamma[ch], beta[ch],
                                                                tau[ch]);
                const float xhat = x[q * c] * r, dy = bnn_dm_frn_dy(dz[q * c], gamma[ch] * xhat +
                                                                    beta[ch], tau[ch]);
                st += dz[q * c] - dy;
                sg += (double)dy * xhat;
                sb += dy;
            }
            dp[0][ch] += (float)sg, dp[1][ch] += (float)sb, dp[2][ch] += (float)st;
            const float s = (float)(sg * gamma[ch] / (double)hw);
            for (size_t q = 0; q < hw; q++) {
                const float xhat = x[q * c] * r, dy = bnn_dm_frn_dy(dz[q * c], gamma[ch] * xhat +
                                                                    beta[ch], tau[ch]);
                din[(i * hw + q) * c + ch] += r * (dy * gamma[ch] - xhat * s);
            }
        }
    bnn_frn_forward_f32(out_ref, in, gamma, beta, tau, n, hw, c);
    bnn_frn_backward_f32(din_ref, dp_ref[0], dp_ref[1], dp_ref[2], dout, in, gamma, beta, tau, n,
                         hw, c);
    double e_out = rel_max(out, out_ref, n * hw * c), e_din = rel_max(din, din_ref, n * hw * c);
    double e_p = 0;
    for (int k = 0; k < 3; k++) {
        double e = rel_max(dp[k], dp_ref[k], c);
        e_p = e > e_p ? e : e_p;
    }
    print_message("FRN n=%zu hw=%zu c=%zu: out %.2e, din %.2e, dγ/dβ/dτ %.2e\n", n, hw, c, e_out,
                  e_din, e_p);
    assert_true(e_out <= 1e-6 && e_din <= 1e-5 && e_p <= 1e-5);
    assert_true(dp_ref[2][0] != 0); /* the tie channel: τ got half of the gradient */
    free(in), free(dout), free(gamma), free(beta), free(tau), free(out), free(out_ref);
    free(din), free(din_ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_heads),
        cmocka_unit_test(test_philox_normals),
        cmocka_unit_test(test_device_iteration_replay),
        cmocka_unit_test(test_conv_index_math),
        cmocka_unit_test(test_pool_index_math),
        cmocka_unit_test(test_frn_element_math),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
