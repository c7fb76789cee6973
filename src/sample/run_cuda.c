/* The run's device choice (--device): the CPU backend over the shared blocks, or the CUDA
 * backend over training data copied once to the GPU. With cuda, each HMC iteration runs as a
 * whole trajectory on the device (bnn_cuda_hmc): the chain's state (θ, gradient, M⁻¹, ε, RNG
 * counter) goes up before and comes back after it, so warm-up adaptation, the step-size search
 * (through the backend vtable) and the recording stay the host's, unchanged. MLP chains run all
 * together, in lockstep, on one batch (every leapfrog step of all chains one batched gradient);
 * the batch always holds every chain of the process, so the numbers do not depend on --threads
 * or on which chains a resumed run still has to finish. */
#include "sample/run_internal.h"

bnn_status bnn_run_cuda_setup(struct bnn_run *r)
{
    const bnn_run_config *c = &r->cfg;
    if (c->device != BNN_DEVICE_CUDA) {
        if (c->tf32) return BNN_ERROR(BNN_EINVAL, "--tf32 needs --device cuda");
        return BNN_OK;
    }
    if (!bnn_cuda_build()[0])
        return BNN_ERROR(BNN_EUNSUP, "--device cuda: this bnnmc was built without CUDA "
                                     "(configure with -DBNNMC_CUDA=ON; see docs/gpu.md)");
    if (!r->model.mlp) /* cnn.cu is built and tested (tests/cuda), not yet run on a GPU */
        return BNN_ERROR(BNN_EUNSUP, "--device cuda: convolutional nets (--arch %s) have not "
                                     "passed their GPU check yet (docs/gpu.md); sample them on "
                                     "the CPU", c->arch);
    if (r->model.lik == BNN_LIK_HETERO_GAUSSIAN)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda: the hetero-gaussian likelihood runs on the "
                                     "CPU only");
    if (c->precision != BNN_F32)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda computes in float32 only (got --precision "
                                     "float64)");
    if (r->n_ranks > 1)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda runs in one process (got %zu MPI ranks)",
                         r->n_ranks);
    if (c->sampler != BNN_SAMPLER_HMC)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda runs static HMC only (not --sampler nuts)");
    if (c->prior.family.kind != BNN_PRIOR_GAUSSIAN || c->prior.hyper.layers.on ||
        c->prior.hyper.noise.on)
        return BNN_ERROR(BNN_EUNSUP, "--device cuda supports the Gaussian prior without "
                                     "hyperparameters only (not --prior, --prior-hyper, "
                                     "--noise-hyper)");
    const bnn_table *tr = &r->data->train, *te = &r->data->test;
    return bnn_cuda_data_alloc(tr->d, tr->x, tr->y, tr->n, te->n ? te->x : NULL, te->n,
                               &r->cuda_data);
}

bnn_status bnn_run_backend_alloc(struct bnn_run *r, size_t n_threads, bnn_backend *out)
{
    if (r->cfg.device == BNN_DEVICE_CUDA)
        return bnn_cuda_backend_alloc(&r->model, r->cuda_data, r->cfg.tf32, out);
    return bnn_cpu_backend_alloc(&r->model, r->cpu_data, n_threads, out);
}

bnn_status bnn_run_hmc_iterate(struct group *g, struct chain *ch, int metropolis,
                               bnn_hmc_stats *st)
{
    struct bnn_run *r = g->run;
    bnn_hmc *hmc = ch->hmc;
    if (r->cfg.device != BNN_DEVICE_CUDA) return bnn_hmc_iterate(hmc, metropolis, st);
    if (!g->cuda_hmc) /* the prior is the same for every chain (no hyperparameters on CUDA) */
        BNN_TRY(bnn_cuda_hmc_alloc(g->backend, ch->post.prior_var, ch->post.log_prior_norm,
                                   ch->post.prior.temperature, &r->cfg.hmc, &g->cuda_hmc));
    BNN_TRY(bnn_cuda_hmc_set(g->cuda_hmc, hmc));
    BNN_TRY(bnn_cuda_hmc_iterate(g->cuda_hmc, metropolis, st));
    return bnn_cuda_hmc_get(g->cuda_hmc, hmc);
}

int bnn_run_cuda_batched(const struct bnn_run *r)
{
    return r->cfg.device == BNN_DEVICE_CUDA && r->model.mlp != NULL;
}

bnn_status bnn_run_cuda_iterate_batch(struct group *g)
{
    struct bnn_run *r = g->run;
    if (!g->cuda_hmc) { /* the prior is the same for every chain (no hyperparameters on CUDA) */
        const bnn_posterior *post = &g->batch_chains[0]->post;
        BNN_TRY(bnn_cuda_batch_alloc(&r->model, r->cuda_data, g->n_batch, r->cfg.tf32,
                                     &g->cuda_batch));
        BNN_TRY(bnn_cuda_hmc_batch_alloc(g->cuda_batch, post->prior_var, post->log_prior_norm,
                                         post->prior.temperature, &r->cfg.hmc, &g->cuda_hmc));
    }
    BNN_TRY(bnn_cuda_hmc_set_chains(g->cuda_hmc, g->batch_active,
                                    (const bnn_hmc *const *)g->batch_hmc));
    BNN_TRY(bnn_cuda_hmc_iterate_chains(g->cuda_hmc, g->batch_active, g->batch_metropolis,
                                        g->batch_stats));
    BNN_TRY(bnn_cuda_hmc_get_chains(g->cuda_hmc, g->batch_active, g->batch_hmc));
    int any = 0;
    for (size_t k = 0; k < g->n_batch; k++) {
        struct chain *ch = g->batch_chains[k];
        if (g->batch_active[k] && g->batch_stats[k].accepted) ch->probs_valid = 0;
        g->batch_want[k] = g->batch_active[k] && !ch->probs_valid && r->writer && r->n_test > 0;
        any |= g->batch_want[k];
    }
    if (!any) return BNN_OK;
    BNN_TRY(bnn_cuda_hmc_predict_chains(g->cuda_hmc, g->batch_want, g->batch_probs));
    for (size_t k = 0; k < g->n_batch; k++)
        if (g->batch_want[k]) g->batch_chains[k]->probs_valid = 1;
    return BNN_OK;
}
