/* The run's device choice (--device): the CPU backend over the shared blocks, or the CUDA
 * backend over training data copied once to the GPU. With cuda, each HMC iteration runs as a
 * whole trajectory on the device (bnn_cuda_hmc): the chain's state (θ, gradient, M⁻¹, ε, RNG
 * counter) goes up before and comes back after it, so warm-up adaptation, the step-size search
 * (through the backend vtable) and the recording stay the host's, unchanged. */
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
