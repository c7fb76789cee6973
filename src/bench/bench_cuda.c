/* `bnnmc bench --device cuda`: the gradient and a leapfrog step of an MLP or a CNN on synthetic
 * data with everything resident on the GPU (see bnn_bench_run_cuda in bench.h). */
#include "bench/bench_internal.h"

#include <stdlib.h>
#include <string.h>

#include "backend/cuda.h"
#include "core/rng.h"
#include "model/posterior.h"
#include "sample/hmc.h"

/* Median time per leapfrog step of device iterations (tiny ε: every step is accepted): of one
 * chain on the vtable backend, or of the K chains of batch in lockstep. */
static bnn_status time_device_leapfrog(bnn_posterior *post, bnn_cuda_batch *batch, size_t K,
                                       const double *theta, const bnn_bench_options *o,
                                       bnn_bench_result *r)
{
    const double eps = 1e-5;
    const size_t L = o->n_leapfrog, P = post->model->n_params;
    bnn_hmc_options ho = {.step_size = eps, .traj_len = ((double)L - 0.5) * eps,
                          .max_leapfrog = L, .jitter = 0, .max_energy_error = 1000};
    size_t iters = (o->reps + L - 1) / L;
    if (iters < 2) iters = 2;
    bnn_hmc **hmc = calloc(K, sizeof *hmc);
    bnn_cuda_hmc *dev = NULL;
    double *ms = malloc(iters * sizeof *ms);
    int *on = malloc(K * sizeof *on);
    bnn_hmc_stats *st = malloc(K * sizeof *st);
    bnn_status s = hmc && ms && on && st ? BNN_OK : BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t k = 0; k < K && s == BNN_OK; k++) {
        bnn_rng rng;
        bnn_rng_init(&rng, o->seed, 1 + (uint32_t)k);
        on[k] = 1;
        s = bnn_hmc_alloc(bnn_posterior_target(post), &ho, &hmc[k]);
        if (s == BNN_OK) s = bnn_hmc_set(hmc[k], theta + k * P, rng);
    }
    if (s == BNN_OK)
        s = K == 1 ? bnn_cuda_hmc_alloc(post->backend, post->prior_var, post->log_prior_norm,
                                        post->prior.temperature, &ho, &dev)
                   : bnn_cuda_hmc_batch_alloc(batch, post->prior_var, post->log_prior_norm,
                                              post->prior.temperature, &ho, &dev);
    for (size_t k = 0; k < K && s == BNN_OK; k++) s = bnn_cuda_hmc_set_chain(dev, k, hmc[k]);
    for (size_t i = 0; i < iters && s == BNN_OK; i++) {
        double t0 = bnn_bench_now_ms();
        s = bnn_cuda_hmc_iterate_chains(dev, on, on, st);
        ms[i] = (bnn_bench_now_ms() - t0) / (double)(st[0].n_leapfrog ? st[0].n_leapfrog : 1);
    }
    if (s == BNN_OK) r->ms_per_leapfrog = bnn_bench_median(ms, iters);
    free(ms);
    free(on);
    free(st);
    bnn_cuda_hmc_free(dev);
    for (size_t k = 0; hmc && k < K; k++) bnn_hmc_free(hmc[k]);
    free(hmc);
    return s;
}

/* Gradients of the K chains as one batch (each chain its own prior draw), then the leapfrog
 * step of the K chains in lockstep. */
static bnn_status bench_device(const bnn_bench_options *o, const bnn_net *net,
                               const bnn_cuda_data *data, bnn_bench_result *r)
{
    const size_t P = net->n_params, K = o->chains;
    bnn_backend backend = {0};
    bnn_cuda_batch *batch = NULL;
    bnn_posterior post = {0};
    bnn_prior_options prior = {.n_var = 1, .var = {1}, .divide_by_fan_in = 1, .temperature = 1};
    double *theta = malloc(K * P * sizeof *theta), *ms = malloc(o->reps * sizeof *ms);
    bnn_status s = theta && ms ? BNN_OK : BNN_ERROR(BNN_ENOMEM, "out of memory");
    if (s == BNN_OK) s = bnn_cuda_backend_alloc(net, data, o->tf32, &backend);
    if (s == BNN_OK) s = bnn_posterior_init(&post, net, &prior, backend);
    if (s == BNN_OK) {
        bnn_rng rng;
        bnn_rng_init(&rng, o->seed, 2);
        for (size_t k = 0; k < K; k++) bnn_posterior_draw_prior(&post, &rng, 1, theta + k * P);
        s = bnn_cuda_batch_alloc(net, data, K, o->tf32, &batch);
    }
    if (s == BNN_OK) s = bnn_cuda_batch_time(batch, theta, o->reps, ms);
    if (s == BNN_OK) {
        r->ms_per_grad_min = ms[0];
        for (size_t i = 1; i < o->reps; i++)
            r->ms_per_grad_min = ms[i] < r->ms_per_grad_min ? ms[i] : r->ms_per_grad_min;
        r->ms_per_grad = bnn_bench_median(ms, o->reps);
        const double per_chain =
            net->mlp                    ? bnn_bench_mlp_flops(net->mlp, o->n_rows)
            : !strcmp(net->kind, "cnn") ? bnn_bench_cnn_flops((const bnn_cnn *)net->impl,
                                                              o->n_rows)
                                        : 0;
        r->flops_per_grad = per_chain * (double)K;
        r->gflops = r->flops_per_grad > 0 ? r->flops_per_grad / (r->ms_per_grad * 1e6) : 0;
    }
    if (s == BNN_OK && o->n_leapfrog) s = time_device_leapfrog(&post, batch, K, theta, o, r);
    bnn_cuda_batch_free(batch);
    free(theta);
    free(ms);
    if (post.prior_var) bnn_posterior_free(&post);
    bnn_backend_free(&backend);
    return s;
}

bnn_status bnn_bench_run_cuda(const bnn_bench_options *o, bnn_bench_result *r)
{
    if (o->prec != BNN_F32)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda computes in float32 only");
    if (o->chains == 0 || o->chains > 4096)
        return BNN_ERROR(BNN_EINVAL, "--chains must be between 1 and 4096 (got %zu)", o->chains);
    bnn_net net;
    BNN_TRY(bnn_net_create(&net, o->arch, o->in, o->n_classes, o->act, o->lik, 1.0));
    r->n_params = net.n_params;
    r->data_mb = (double)(o->n_rows * net.n_inputs * sizeof(float)) / (1024.0 * 1024.0);
    double *x = NULL, *y = NULL;
    bnn_cuda_data *data = NULL;
    bnn_status s = bnn_bench_synthetic_data(o, net.n_inputs, &x, &y);
    if (s == BNN_OK) s = bnn_cuda_data_alloc(net.n_inputs, x, y, o->n_rows, NULL, 0, &data);
    free(x);
    free(y);
    if (s == BNN_OK) s = bench_device(o, &net, data, r);
    bnn_cuda_data_free(data);
    bnn_net_free(&net);
    return s;
}
