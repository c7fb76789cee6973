/* Same seed, same chain: HMC on digits (MLP 64-50-10; and a small CNN, convolution, average
 * pooling and a dense layer; tanh) run three ways from the same state and Philox stream — on
 * the CPU backend, on the host with GPU gradients (the vtable), and as whole device trajectories
 * (bnn_cuda_hmc_iterate) — takes the same accept/reject decisions in its first 30 iterations
 * (the CNN: 15, on 300 rows). Tolerance: the device and the host-driven GPU chain compute the
 * same float32 gradients, so their decisions must all agree and their states stay within 1e-6
 * (relative norm); against the CPU, a decision may differ only where the uniform lies within
 * 1e-2 of the acceptance probability (a near tie; comparison stops there), and the acceptance
 * probabilities agree within 1e-2. And K = 3 chains in lockstep on a batch (states moved chain
 * by chain and all at once, in turn) take the decisions of the same chains alone, and the
 * batch's predictions at its device states equal one chain's within 1e-5. Without a CUDA
 * device: "skipped: no CUDA device", exit 77. */
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
#include "data/dataset.h"
#include "model/posterior.h"
#include "nn/cnn.h"
#include "sample/hmc.h"

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

/* The uniform the next iteration of s compares with its acceptance probability. */
static double next_accept_uniform(const bnn_hmc *s)
{
    bnn_rng r = s->rng;
    r.counter += (s->dim + 1) / 2; /* the momenta */
    (void)bnn_rng_uniform(&r);     /* the jitter */
    return bnn_rng_uniform(&r);
}

/* The tests' problem: digits (standardised; 8x8x1 images for a CNN), categorical, the net arch
 * (tanh); the first `rows` training rows (0: all). */
static void load_digits(bnn_dataset *ds, bnn_net *net, const char *arch, size_t rows)
{
    bnn_dataset_options dopt = {.name = "digits", .task = BNN_TASK_CLASSIFY, .standardize = 1,
                                .train_subset = rows};
    expect_ok(bnn_dataset_load(&dopt, ds));
    bnn_input_shape in = {0, 0, ds->train.d};
    if (bnn_cnn_is_arch(arch))
        in = (bnn_input_shape){ds->train.height, ds->train.width, ds->train.channels};
    expect_ok(bnn_net_create(net, arch, in, 10, BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 1));
}

/* eps_scale: ε is Stan's heuristic times this (below 1 where trajectories of L = 15 steps at
 * the heuristic's ε are close to unstable, and float32 rounding then decides the energy error) */
static void same_decisions(const char *arch, size_t rows, int iters, double eps_scale)
{
    printf("%s on digits (%zu rows, 0: all), %d iterations\n", arch, rows, iters);
    bnn_dataset ds;
    bnn_net net;
    load_digits(&ds, &net, arch, rows);
    const size_t P = net.n_params;
    bnn_cpu_data *cdata;
    expect_ok(bnn_cpu_data_alloc(BNN_F32, ds.train.d, ds.train.x, ds.train.y, ds.train.n, NULL, 0,
                                 256, &cdata));
    bnn_cuda_data *gdata;
    expect_ok(bnn_cuda_data_alloc(ds.train.d, ds.train.x, ds.train.y, ds.train.n, NULL, 0,
                                  &gdata));
    bnn_backend cpu, gpu;
    expect_ok(bnn_cpu_backend_alloc(&net, cdata, 1, &cpu));
    expect_ok(bnn_cuda_backend_alloc(&net, gdata, 0, &gpu));
    bnn_prior_options prior = {.n_var = 1, .var = {0.2}, .temperature = 1};
    bnn_posterior post_cpu, post_gpu;
    expect_ok(bnn_posterior_init(&post_cpu, &net, &prior, cpu));
    expect_ok(bnn_posterior_init(&post_gpu, &net, &prior, gpu));

    double *theta0 = malloc(P * sizeof(double));
    bnn_rng rng;
    bnn_rng_init(&rng, 42, 0);
    bnn_posterior_draw_prior(&post_cpu, &rng, 0.1, theta0);
    /* ε from Stan's heuristic on the CPU (acceptance near 0.8: both outcomes occur) */
    bnn_hmc_options opt = {.step_size = 1e-3, .traj_len = 1, .max_leapfrog = 20, .jitter = 0.1,
                           .max_energy_error = 1000};
    bnn_hmc *probe;
    expect_ok(bnn_hmc_alloc(bnn_posterior_target(&post_cpu), &opt, &probe));
    expect_ok(bnn_hmc_set(probe, theta0, rng));
    expect_ok(bnn_hmc_find_step_size(probe));
    opt.step_size = eps_scale * probe->step_size;
    opt.traj_len = 15 * opt.step_size;
    bnn_hmc_free(probe);

    bnn_hmc *h_cpu, *h_gpu;
    expect_ok(bnn_hmc_alloc(bnn_posterior_target(&post_cpu), &opt, &h_cpu));
    expect_ok(bnn_hmc_alloc(bnn_posterior_target(&post_gpu), &opt, &h_gpu));
    expect_ok(bnn_hmc_set(h_cpu, theta0, rng));
    expect_ok(bnn_hmc_set(h_gpu, theta0, rng));
    bnn_cuda_hmc *dev;
    expect_ok(bnn_cuda_hmc_alloc(gpu, post_gpu.prior_var, post_gpu.log_prior_norm,
                                 post_gpu.prior.temperature, &opt, &dev));
    expect_ok(bnn_cuda_hmc_set(dev, h_gpu));
    bnn_hmc *h_dev; /* receives the device state */
    expect_ok(bnn_hmc_alloc(bnn_posterior_target(&post_gpu), &opt, &h_dev));

    int n_accept = 0, n_reject = 0, cpu_agrees = 1;
    printf("ε = %.4g, L = %.0f\n", opt.step_size, ceil(opt.traj_len / opt.step_size));
    for (int it = 0; it < iters; it++) {
        const double u = next_accept_uniform(h_cpu);
        bnn_hmc_stats s_cpu, s_gpu, s_dev;
        if (cpu_agrees) expect_ok(bnn_hmc_iterate(h_cpu, 1, &s_cpu));
        expect_ok(bnn_hmc_iterate(h_gpu, 1, &s_gpu));
        expect_ok(bnn_cuda_hmc_iterate(dev, 1, &s_dev));
        expect_ok(bnn_cuda_hmc_get(dev, h_dev));
        printf("iteration %2d: accept prob cpu %.6f gpu %.6f device %.6f, u %.4f, %s; θ gpu vs "
               "cpu %.2e\n", it, cpu_agrees ? s_cpu.accept_prob : NAN, s_gpu.accept_prob,
               s_dev.accept_prob, u, s_dev.accepted ? "accepted" : "rejected",
               cpu_agrees ? rel_norm(h_gpu->theta, h_cpu->theta, P) : NAN);
        fflush(stdout);
        assert_int_equal(s_dev.accepted, s_gpu.accepted);
        assert_int_equal(s_dev.n_leapfrog, s_gpu.n_leapfrog);
        assert_true(fabs(s_dev.accept_prob - s_gpu.accept_prob) <= 1e-6);
        assert_true(rel_norm(h_dev->theta, h_gpu->theta, P) <= 1e-6);
        assert_true(h_dev->rng.counter == h_gpu->rng.counter);
        if (cpu_agrees) {
            if (s_cpu.accepted != s_gpu.accepted) {
                printf("iteration %d: CPU and GPU decide differently at a near tie (u %.4f, "
                       "accept prob %.4f); comparison with the CPU stops\n", it, u,
                       s_cpu.accept_prob);
                assert_true(fabs(u - s_cpu.accept_prob) <= 1e-2);
                cpu_agrees = 0;
            } else {
                assert_true(fabs(s_cpu.accept_prob - s_gpu.accept_prob) <= 1e-2);
            }
        }
        n_accept += s_dev.accepted;
        n_reject += !s_dev.accepted;
    }
    printf("%d iterations: %d accepted, %d rejected; final θ GPU vs CPU %.2e (relative)\n", iters,
           n_accept, n_reject, cpu_agrees ? rel_norm(h_gpu->theta, h_cpu->theta, P) : NAN);
    assert_true(n_accept > 0);
    bnn_hmc_free(h_dev);
    bnn_cuda_hmc_free(dev);
    bnn_hmc_free(h_cpu);
    bnn_hmc_free(h_gpu);
    free(theta0);
    bnn_posterior_free(&post_cpu);
    bnn_posterior_free(&post_gpu);
    bnn_backend_free(&cpu);
    bnn_backend_free(&gpu);
    bnn_cuda_data_free(gdata);
    bnn_cpu_data_free(cdata);
    bnn_net_free(&net);
    bnn_dataset_free(&ds);
}

/* K = 3 chains in lockstep on a batch (bnn_cuda_hmc_iterate_chains) against the same chains
 * alone (bnn_cuda_hmc_iterate), each with its own start, Philox stream and ε (so its own number
 * of leapfrog steps), jitter on, chain 1 sitting out every third iteration: the same decisions
 * and step counts for 30 iterations, the same RNG counters, acceptance probabilities within
 * 1e-4 and states within 1e-5 (relative norm). Not bit for bit: a batched product may run
 * another cuBLAS kernel; one GPU's chains alone and on the CPU agree to ~1e-7 after 30
 * iterations, so these bounds leave a wide margin. */
static void test_same_decisions(void **state)
{
    (void)state;
    same_decisions("mlp:50", 0, 30, 1);
}

/* The same for a CNN (the device trajectory over cnn.cu: convolution, average pooling, dense;
 * the other layers are test_cuda_grad's), on 300 rows for 15 iterations. Not max pooling here:
 * where two values of a window nearly tie, float32 rounding (oneDNN on the CPU, im2col + SGEMM
 * on the GPU) can pick different maxima, the gradient then differs by a finite amount, and the
 * CPU and GPU trajectories part (seen under tools/cuda-emu: θ 9e-8 apart, then 6e-5). */
static void test_same_decisions_cnn(void **state)
{
    (void)state;
    same_decisions("cnn:c4k3,a2,d16", 300, 15, 0.5);
}

static void test_batch_trajectories(void **state)
{
    (void)state;
    enum { K = 3, ITERS = 30 };
    bnn_dataset ds;
    bnn_net net;
    load_digits(&ds, &net, "mlp:50", 0);
    const size_t P = net.n_params;
    bnn_cuda_data *gdata;
    expect_ok(bnn_cuda_data_alloc(ds.train.d, ds.train.x, ds.train.y, ds.train.n, ds.test.x,
                                  ds.test.n, &gdata));
    bnn_backend gpu;
    expect_ok(bnn_cuda_backend_alloc(&net, gdata, 0, &gpu));
    bnn_prior_options prior = {.n_var = 1, .var = {0.2}, .temperature = 1};
    bnn_posterior post;
    expect_ok(bnn_posterior_init(&post, &net, &prior, gpu));

    /* starts, streams and ε (Stan's heuristic at chain 0's start; 0.7, 1, 1.3 times it) */
    bnn_hmc_options opt = {.step_size = 1e-3, .traj_len = 1, .max_leapfrog = 40, .jitter = 0.1,
                           .max_energy_error = 1000};
    double *theta0 = malloc(K * P * sizeof(double)), eps[K];
    bnn_rng rng[K];
    for (size_t c = 0; c < K; c++) {
        bnn_rng_init(&rng[c], 7, (uint32_t)c);
        bnn_posterior_draw_prior(&post, &rng[c], 0.1, theta0 + c * P);
    }
    bnn_hmc *probe;
    expect_ok(bnn_hmc_alloc(bnn_posterior_target(&post), &opt, &probe));
    expect_ok(bnn_hmc_set(probe, theta0, rng[0]));
    expect_ok(bnn_hmc_find_step_size(probe));
    opt.traj_len = 15 * probe->step_size;
    for (size_t c = 0; c < K; c++) eps[c] = probe->step_size * (0.7 + 0.3 * (double)c);
    bnn_hmc_free(probe);

    bnn_cuda_batch *batch;
    expect_ok(bnn_cuda_batch_alloc(&net, gdata, K, 0, &batch));
    bnn_cuda_hmc *together, *alone[K];
    expect_ok(bnn_cuda_hmc_batch_alloc(batch, post.prior_var, post.log_prior_norm,
                                       post.prior.temperature, &opt, &together));
    assert_int_equal(bnn_cuda_hmc_chains(together), K);
    bnn_hmc *h_alone[K], *h_together[K];
    for (size_t c = 0; c < K; c++) {
        expect_ok(bnn_cuda_hmc_alloc(gpu, post.prior_var, post.log_prior_norm,
                                     post.prior.temperature, &opt, &alone[c]));
        expect_ok(bnn_hmc_alloc(bnn_posterior_target(&post), &opt, &h_alone[c]));
        expect_ok(bnn_hmc_alloc(bnn_posterior_target(&post), &opt, &h_together[c]));
        expect_ok(bnn_hmc_set(h_alone[c], theta0 + c * P, rng[c]));
        expect_ok(bnn_hmc_set(h_together[c], theta0 + c * P, rng[c]));
        h_alone[c]->step_size = h_together[c]->step_size = eps[c];
    }

    int n_accept = 0, n_reject = 0;
    size_t steps_seen[K] = {0};
    for (int it = 0; it < ITERS; it++) {
        int active[K], metropolis[K] = {1, 1, 1};
        bnn_hmc_stats s_alone[K], s_together[K];
        for (size_t c = 0; c < K; c++) {
            active[c] = !(c == 1 && it % 3 == 2);
            if (!active[c]) continue;
            expect_ok(bnn_cuda_hmc_set(alone[c], h_alone[c]));
            expect_ok(bnn_cuda_hmc_iterate(alone[c], 1, &s_alone[c]));
            expect_ok(bnn_cuda_hmc_get(alone[c], h_alone[c]));
            /* as `sample` does: each iteration starts from the host state (every other
             * iteration chain by chain, else all chains in one call) */
            if (it % 2) expect_ok(bnn_cuda_hmc_set_chain(together, c, h_together[c]));
        }
        if (it % 2 == 0)
            expect_ok(bnn_cuda_hmc_set_chains(together, active,
                                              (const bnn_hmc *const *)h_together));
        expect_ok(bnn_cuda_hmc_iterate_chains(together, active, metropolis, s_together));
        if (it % 2 == 0) expect_ok(bnn_cuda_hmc_get_chains(together, active, h_together));
        for (size_t c = 0; c < K; c++) {
            if (!active[c]) continue;
            if (it % 2) expect_ok(bnn_cuda_hmc_get_chain(together, c, h_together[c]));
            printf("iteration %2d chain %zu: L %zu/%zu, accept prob alone %.6f together %.6f, "
                   "%s, θ %.2e\n", it, c, s_alone[c].n_leapfrog, s_together[c].n_leapfrog,
                   s_alone[c].accept_prob, s_together[c].accept_prob,
                   s_together[c].accepted ? "accepted" : "rejected",
                   rel_norm(h_together[c]->theta, h_alone[c]->theta, P));
            assert_int_equal(s_together[c].accepted, s_alone[c].accepted);
            assert_int_equal(s_together[c].n_leapfrog, s_alone[c].n_leapfrog);
            assert_int_equal(s_together[c].divergent, s_alone[c].divergent);
            assert_true(fabs(s_together[c].accept_prob - s_alone[c].accept_prob) <= 1e-4);
            assert_true(fabs(s_together[c].step_size - s_alone[c].step_size) <= 1e-12);
            assert_true(rel_norm(h_together[c]->theta, h_alone[c]->theta, P) <= 1e-5);
            assert_true(h_together[c]->rng.counter == h_alone[c]->rng.counter);
            n_accept += s_together[c].accepted;
            n_reject += !s_together[c].accepted;
            steps_seen[c] = s_together[c].n_leapfrog;
        }
    }
    printf("%d chain iterations: %d accepted, %d rejected; last L %zu %zu %zu\n",
           n_accept + n_reject, n_accept, n_reject, steps_seen[0], steps_seen[1], steps_seen[2]);
    assert_true(n_accept > 0);
    assert_true(steps_seen[0] != steps_seen[2]); /* the chains' trajectories differ in length */

    /* predictions of the batch at its device states = one chain's at the same θ, 1e-5 */
    const size_t n_out = ds.test.n * 10;
    double *probs[K], *one = malloc(n_out * sizeof(double)), worst = 0;
    int want[K] = {1, 0, 1};
    for (size_t c = 0; c < K; c++) probs[c] = calloc(n_out, sizeof(double));
    expect_ok(bnn_cuda_hmc_predict_chains(together, want, probs));
    for (size_t c = 0; c < K; c++) {
        expect_ok(gpu.ops->predict(gpu.ctx, h_together[c]->theta, one));
        const double e = rel_norm(probs[c], one, n_out);
        if (want[c]) worst = e > worst ? e : worst;
        else /* not asked for: not written */
            for (size_t i = 0; i < n_out; i++) assert_true(probs[c][i] == 0);
        free(probs[c]);
    }
    printf("predictions of the batch (chains 0 and 2) vs one chain: %.2e\n", worst);
    assert_true(worst <= 1e-5);
    free(one);
    for (size_t c = 0; c < K; c++) {
        bnn_cuda_hmc_free(alone[c]);
        bnn_hmc_free(h_alone[c]);
        bnn_hmc_free(h_together[c]);
    }
    bnn_cuda_hmc_free(together);
    bnn_cuda_batch_free(batch);
    free(theta0);
    bnn_posterior_free(&post);
    bnn_backend_free(&gpu);
    bnn_cuda_data_free(gdata);
    bnn_net_free(&net);
    bnn_dataset_free(&ds);
}

int main(void)
{
    if (bnn_cuda_device_count() == 0) {
        printf("skipped: no CUDA device\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_same_decisions),
                                       cmocka_unit_test(test_same_decisions_cnn),
                                       cmocka_unit_test(test_batch_trajectories)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
