/* Whole HMC iterations on the device (backend/cuda.h), for one chain or K chains in lockstep
 * (a bnn_cuda_batch): θ, gradient, momentum and M⁻¹ live in device memory as double, the K
 * chains' (K, P) one after the other; the momenta are drawn on the device from each chain's
 * Philox stream (the numbers bnn_rng_normals gives on the CPU); every leapfrog step, the log
 * posterior and the stop-on-non-finite rule of hmc.c run as kernels over all chains, each chain
 * with its own ε and number of steps (a chain whose trajectory is over, or has stopped, stays
 * put while the others go on); the host reads back only each chain's scalars and makes its
 * Metropolis decision. The steps mirror bnn_hmc_iterate line by line (sample/hmc.c). */
#include "backend/cuda/internal.cuh"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda/device_math.h"

extern "C" {
#include "core/rng.h"
}

/* One chain's iteration as the kernels see it (uploaded before each iteration). */
struct chain_params {
    double eps;        /* ε after jitter */
    uint64_t seed, counter0; /* the momenta: normals of the chain's Philox stream from counter0 */
    uint32_t stream;
    unsigned steps;    /* L; 0: the chain sits this iteration out */
};

/* What one iteration's kernels leave for the host, per chain. */
struct trajectory_scalars {
    double log_lik, log_prior, logp; /* at the last finite step */
    int bad_grad;     /* the current step's gradient has a non-finite number */
    int stopped;      /* a step gave a non-finite density or gradient */
    unsigned steps;   /* leapfrog steps taken */
};

/* Sums per chain, each K numbers in a row (bnn_cuda_sum_segments writes them so). */
enum { SUM_KINETIC0, SUM_KINETIC1, SUM_QUAD, N_SUMS };

struct bnn_cuda_hmc {
    struct cuda_backend *b;
    bnn_hmc_options opt;
    size_t K, dim;    /* chains, parameters per chain */
    double log_prior_norm, inv_temperature;
    /* device; (K, dim) but prior_var (dim), shared: the chains have the same prior */
    double *theta, *grad, *theta_new, *grad_new, *momentum, *inv_mass, *prior_var;
    double *terms;    /* (K, dim) per-coordinate terms of a sum */
    double *sums;     /* (N_SUMS, K): Σ p² M⁻¹ at the start and the end (not halved),
                         Σ θ² / prior variance at the current step */
    struct trajectory_scalars *scalars; /* (K) */
    struct chain_params *params;        /* (K) */
    int *accept;                        /* (K) 1: the chain takes its trajectory's end */
    double *stage;                      /* pinned (3, K, dim): θ, ∇, M⁻¹ of the chains on their
                                           way up or down (_set_chains, _get_chains) */
    double *u_accept;                   /* (K, host) this iteration's Metropolis uniforms */
    /* pinned host copies */
    double *sums_h;
    struct trajectory_scalars *scalars_h;
    struct chain_params *params_h;
    int *accept_h;
    /* host state of each chain */
    bnn_logp *current;
    double *step_size;
    bnn_rng *rng;
};

/* Whether chain c moves at leapfrog step l (1-based; 0: the first half step). */
__device__ static bool moving(const struct chain_params *q, const struct trajectory_scalars *s,
                              unsigned l)
{
    return q->steps > 0 && l <= q->steps && !s->stopped;
}

/* p_i = z_i / √(M⁻¹_i), z_i normal j of chain c's stream from its counter0 (i = c·P + j);
 * terms_i = p_i² M⁻¹_i. */
__global__ void momentum_kernel(double *p, double *terms, const double *inv_mass, size_t n,
                                size_t P, const struct chain_params *params)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const struct chain_params *q = &params[i / P];
    double v = q->steps ? bnn_dm_momentum(bnn_dm_normal(q->seed, q->stream, q->counter0, i % P),
                                          inv_mass[i])
                        : 0.0;
    p[i] = v;
    terms[i] = bnn_dm_kinetic_term(v, inv_mass[i]);
}

__global__ void kinetic_terms_kernel(const double *p, const double *inv_mass, double *terms,
                                     size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) terms[i] = bnn_dm_kinetic_term(p[i], inv_mass[i]);
}

/* After step l (0: before the first): the kick p += scale · ∇ of each chain still moving
 * (scale = ε/2 at either end of its trajectory, ε between); then, if drift, step l + 1's drift
 * θ += ε M⁻¹ p of each chain still moving then, θ_f = (float)θ for the products (every chain's:
 * the products run over all of them), and the first level of the fixed-order sum of θ² / prior
 * variance: block (k, c) takes chain c's numbers k·B .. (k+1)·B (B = BNN_CUDA_SUM_BLOCK), each
 * thread a strided run in order, then a fixed tree, into partial[c·gridDim.x + k] (the order of
 * bnn_cuda_sum_segments). One pass over the state where a kick, a drift and a sum took three. */
__global__ void kick_drift_kernel(double *p, const double *grad, double *theta, float *theta_f,
                                  const double *inv_mass, const double *prior_var, size_t P,
                                  const struct chain_params *params,
                                  const struct trajectory_scalars *s, unsigned l, int drift,
                                  double *partial)
{
    __shared__ double sum[BNN_CUDA_THREADS];
    const size_t c = blockIdx.y, base = c * P + (size_t)blockIdx.x * BNN_CUDA_SUM_BLOCK;
    const size_t end = (c + 1) * P;
    const struct chain_params *q = &params[c];
    const bool kick = moving(q, &s[c], l), move = drift && moving(q, &s[c], l + 1);
    const double scale = l == 0 || l == q->steps ? 0.5 * q->eps : q->eps;
    double acc = 0;
    for (size_t j = 0; j < BNN_CUDA_SUM_PER_THREAD; j++) {
        const size_t i = base + j * BNN_CUDA_THREADS + threadIdx.x;
        if (i >= end) break;
        double pi = p[i];
        if (kick) p[i] = pi = bnn_dm_momentum_step(pi, scale, grad[i]);
        if (!drift) continue;
        double t = theta[i];
        if (move) theta[i] = t = bnn_dm_position_step(t, q->eps, inv_mass[i], pi);
        theta_f[i] = (float)t;
        acc += t * t / prior_var[i - c * P];
    }
    if (!drift) return;
    sum[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned w = BNN_CUDA_THREADS / 2; w > 0; w /= 2) {
        if (threadIdx.x < w) sum[threadIdx.x] += sum[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[c * gridDim.x + blockIdx.x] = sum[0];
}

/* ∇ log posterior from the log-likelihood gradient of each chain still moving; flags a
 * non-finite one. */
__global__ void posterior_grad_kernel(double *grad, const float *lik_grad, const double *theta,
                                      const double *prior_var, double inv_t, size_t n, size_t P,
                                      const struct chain_params *params,
                                      struct trajectory_scalars *s, unsigned l)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const size_t c = i / P;
    if (!moving(&params[c], &s[c], l)) return;
    double g = bnn_dm_posterior_grad((double)lik_grad[i], theta[i], prior_var[i % P], inv_t);
    grad[i] = g;
    if (!isfinite(g)) s[c].bad_grad = 1; /* every writer writes 1: no race on the value */
}

/* Step l's log density of each chain still moving (hmc.c: stop once it or its gradient is not
 * finite). One thread per chain. */
__global__ void finish_step_kernel(struct trajectory_scalars *s, const double *log_lik,
                                   const double *quad, const struct chain_params *params,
                                   size_t K, double log_prior_norm, double inv_t, unsigned l)
{
    size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= K || !moving(&params[c], &s[c], l)) return;
    struct trajectory_scalars *sc = &s[c];
    double lp = log_prior_norm - 0.5 * quad[c];
    sc->log_lik = log_lik[c];
    sc->log_prior = lp;
    sc->logp = (log_lik[c] + lp) * inv_t;
    if (sc->bad_grad) sc->logp = NAN;
    sc->steps = l;
    if (!isfinite(sc->logp)) sc->stopped = 1;
}

/* The chains that accept take their trajectory's end as their state. */
__global__ void accept_kernel(double *theta, double *grad, const double *theta_new,
                              const double *grad_new, size_t n, size_t P, const int *accept)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n || !accept[i / P]) return;
    theta[i] = theta_new[i];
    grad[i] = grad_new[i];
}

/* ---- host side -------------------------------------------------------------------------- */

static bnn_status launched(void)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return BNN_ERROR(BNN_EIO, "CUDA: a trajectory kernel failed: %s", cudaGetErrorString(e));
    return BNN_OK;
}

extern "C" void bnn_cuda_hmc_free(bnn_cuda_hmc *h)
{
    if (!h) return;
    void *dev[] = {h->theta, h->grad, h->theta_new, h->grad_new, h->momentum, h->inv_mass,
                   h->prior_var, h->terms, h->sums, h->scalars, h->params, h->accept};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) cudaFree(dev[i]);
    void *pinned[] = {h->sums_h, h->scalars_h, h->params_h, h->accept_h, h->stage};
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) cudaFreeHost(pinned[i]);
    free(h->current);
    free(h->u_accept);
    free(h->step_size);
    free(h->rng);
    free(h);
}

static bnn_status hmc_buffers(bnn_cuda_hmc *h, const double *prior_var)
{
    const size_t K = h->K, n = K * h->dim > 0 ? K * h->dim : 1;
    double **dev[] = {&h->theta, &h->grad, &h->theta_new, &h->grad_new, &h->momentum,
                      &h->inv_mass, &h->terms};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) {
        BNN_CUDA_TRY(cudaMalloc((void **)dev[i], n * sizeof(double)));
        /* chains that have not been set yet compute on zeros, not on garbage */
        BNN_CUDA_TRY(cudaMemsetAsync(*dev[i], 0, n * sizeof(double), h->b->stream));
    }
    BNN_CUDA_TRY(cudaMalloc((void **)&h->prior_var, (h->dim ? h->dim : 1) * sizeof(double)));
    BNN_CUDA_TRY(cudaMalloc((void **)&h->sums, N_SUMS * K * sizeof(double)));
    BNN_CUDA_TRY(cudaMalloc((void **)&h->scalars, K * sizeof *h->scalars));
    BNN_CUDA_TRY(cudaMalloc((void **)&h->params, K * sizeof *h->params));
    BNN_CUDA_TRY(cudaMalloc((void **)&h->accept, K * sizeof *h->accept));
    BNN_CUDA_TRY(cudaMallocHost((void **)&h->sums_h, N_SUMS * K * sizeof(double)));
    BNN_CUDA_TRY(cudaMallocHost((void **)&h->scalars_h, K * sizeof *h->scalars_h));
    BNN_CUDA_TRY(cudaMallocHost((void **)&h->params_h, K * sizeof *h->params_h));
    BNN_CUDA_TRY(cudaMallocHost((void **)&h->accept_h, K * sizeof *h->accept_h));
    h->current = (bnn_logp *)calloc(K, sizeof *h->current);
    h->step_size = (double *)calloc(K, sizeof *h->step_size);
    h->rng = (bnn_rng *)calloc(K, sizeof *h->rng);
    h->u_accept = (double *)calloc(K, sizeof *h->u_accept);
    if (!h->current || !h->step_size || !h->rng || !h->u_accept)
        return BNN_ERROR(BNN_ENOMEM, "out of memory for the device sampler");
    BNN_CUDA_TRY(cudaMemcpyAsync(h->prior_var, prior_var, h->dim * sizeof(double),
                                 cudaMemcpyHostToDevice, h->b->stream));
    BNN_CUDA_TRY(cudaStreamSynchronize(h->b->stream));
    return BNN_OK;
}

static bnn_status hmc_create(struct cuda_backend *b, const double *prior_var,
                             double log_prior_norm, double temperature,
                             const bnn_hmc_options *opt, bnn_cuda_hmc **out)
{
    if (!(temperature > 0) || !isfinite(temperature))
        return BNN_ERROR(BNN_EINVAL, "--temperature must be positive and finite (got %g)",
                         temperature);
    bnn_cuda_hmc *h = (bnn_cuda_hmc *)calloc(1, sizeof *h);
    if (!h) return BNN_ERROR(BNN_ENOMEM, "out of memory for the device sampler");
    h->b = b;
    h->opt = *opt;
    h->K = b->n_chains;
    h->dim = b->net->n_params;
    h->log_prior_norm = log_prior_norm;
    h->inv_temperature = 1 / temperature;
    bnn_status s = hmc_buffers(h, prior_var);
    if (s != BNN_OK) {
        bnn_cuda_hmc_free(h);
        return s;
    }
    *out = h;
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_hmc_alloc(bnn_backend backend, const double *prior_var,
                                         double log_prior_norm, double temperature,
                                         const bnn_hmc_options *opt, bnn_cuda_hmc **out)
{
    if (!backend.ops || strcmp(backend.ops->name, "cuda") != 0)
        return BNN_ERROR(BNN_EINVAL, "device trajectories need a CUDA backend (got '%s')",
                         backend.ops ? backend.ops->name : "none");
    return hmc_create((struct cuda_backend *)backend.ctx, prior_var, log_prior_norm, temperature,
                      opt, out);
}

extern "C" bnn_status bnn_cuda_hmc_batch_alloc(bnn_cuda_batch *batch, const double *prior_var,
                                               double log_prior_norm, double temperature,
                                               const bnn_hmc_options *opt, bnn_cuda_hmc **out)
{
    return hmc_create(bnn_cuda_batch_backend(batch), prior_var, log_prior_norm, temperature, opt,
                      out);
}

extern "C" size_t bnn_cuda_hmc_chains(const bnn_cuda_hmc *h) { return h->K; }

extern "C" bnn_status bnn_cuda_hmc_set_chain(bnn_cuda_hmc *h, size_t c, const bnn_hmc *s)
{
    if (s->dim != h->dim)
        return BNN_ERROR(BNN_EINVAL, "the sampler has dimension %zu, the device net %zu", s->dim,
                         h->dim);
    if (c >= h->K)
        return BNN_ERROR(BNN_EINVAL, "chain %zu of a device sampler of %zu chains", c, h->K);
    const size_t bytes = h->dim * sizeof(double), at = c * h->dim;
    cudaStream_t st = h->b->stream; /* the copies are ordered with the kernels that use them */
    BNN_CUDA_TRY(cudaMemcpyAsync(h->theta + at, s->theta, bytes, cudaMemcpyHostToDevice, st));
    BNN_CUDA_TRY(cudaMemcpyAsync(h->grad + at, s->grad, bytes, cudaMemcpyHostToDevice, st));
    BNN_CUDA_TRY(cudaMemcpyAsync(h->inv_mass + at, s->inv_mass, bytes, cudaMemcpyHostToDevice,
                                 st));
    BNN_CUDA_TRY(cudaStreamSynchronize(st)); /* s may change once this returns */
    h->current[c] = s->current;
    h->step_size[c] = s->step_size;
    h->rng[c] = s->rng;
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_hmc_get_chain(const bnn_cuda_hmc *h, size_t c, bnn_hmc *s)
{
    if (c >= h->K)
        return BNN_ERROR(BNN_EINVAL, "chain %zu of a device sampler of %zu chains", c, h->K);
    const size_t bytes = h->dim * sizeof(double), at = c * h->dim;
    cudaStream_t st = h->b->stream;
    BNN_CUDA_TRY(cudaMemcpyAsync(s->theta, h->theta + at, bytes, cudaMemcpyDeviceToHost, st));
    BNN_CUDA_TRY(cudaMemcpyAsync(s->grad, h->grad + at, bytes, cudaMemcpyDeviceToHost, st));
    BNN_CUDA_TRY(cudaStreamSynchronize(st));
    s->current = h->current[c];
    s->rng = h->rng[c];
    return BNN_OK;
}

/* Enqueues the copies of the rows of the chains with active[c] between the device array dev
 * (K, dim) and the same rows of the pinned stage: one copy per run of consecutive active
 * chains. */
static bnn_status copy_active_rows(const bnn_cuda_hmc *h, const int *active, double *dev,
                                   double *stage, cudaMemcpyKind kind)
{
    const size_t P = h->dim;
    for (size_t c0 = 0; c0 < h->K;) {
        if (!active[c0]) {
            c0++;
            continue;
        }
        size_t c1 = c0 + 1;
        while (c1 < h->K && active[c1]) c1++;
        void *to = kind == cudaMemcpyHostToDevice ? (void *)(dev + c0 * P) : stage + c0 * P;
        const void *from = kind == cudaMemcpyHostToDevice ? (const void *)(stage + c0 * P)
                                                          : dev + c0 * P;
        BNN_CUDA_TRY(cudaMemcpyAsync(to, from, (c1 - c0) * P * sizeof(double), kind,
                                     h->b->stream));
        c0 = c1;
    }
    return BNN_OK;
}

static bnn_status stage_alloc(bnn_cuda_hmc *h)
{
    const size_t n = 3 * h->K * h->dim;
    if (!h->stage) BNN_CUDA_TRY(cudaMallocHost((void **)&h->stage, (n ? n : 1) * sizeof(double)));
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_hmc_set_chains(bnn_cuda_hmc *h, const int *active,
                                              const bnn_hmc *const *s)
{
    const size_t K = h->K, P = h->dim;
    for (size_t c = 0; c < K; c++)
        if (active[c] && s[c]->dim != P)
            return BNN_ERROR(BNN_EINVAL, "the sampler has dimension %zu, the device net %zu",
                             s[c]->dim, P);
    BNN_TRY(stage_alloc(h));
    double *rows[3] = {h->stage, h->stage + K * P, h->stage + 2 * K * P};
    for (size_t c = 0; c < K; c++) {
        if (!active[c]) continue;
        memcpy(rows[0] + c * P, s[c]->theta, P * sizeof(double));
        memcpy(rows[1] + c * P, s[c]->grad, P * sizeof(double));
        memcpy(rows[2] + c * P, s[c]->inv_mass, P * sizeof(double));
        h->current[c] = s[c]->current;
        h->step_size[c] = s[c]->step_size;
        h->rng[c] = s[c]->rng;
    }
    BNN_TRY(copy_active_rows(h, active, h->theta, rows[0], cudaMemcpyHostToDevice));
    BNN_TRY(copy_active_rows(h, active, h->grad, rows[1], cudaMemcpyHostToDevice));
    BNN_TRY(copy_active_rows(h, active, h->inv_mass, rows[2], cudaMemcpyHostToDevice));
    BNN_CUDA_TRY(cudaStreamSynchronize(h->b->stream)); /* the stage is rewritten next time */
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_hmc_get_chains(bnn_cuda_hmc *h, const int *active,
                                              bnn_hmc *const *s)
{
    const size_t K = h->K, P = h->dim;
    BNN_TRY(stage_alloc(h));
    BNN_TRY(copy_active_rows(h, active, h->theta, h->stage, cudaMemcpyDeviceToHost));
    BNN_TRY(copy_active_rows(h, active, h->grad, h->stage + K * P, cudaMemcpyDeviceToHost));
    BNN_CUDA_TRY(cudaStreamSynchronize(h->b->stream));
    for (size_t c = 0; c < K; c++) {
        if (!active[c]) continue;
        memcpy(s[c]->theta, h->stage + c * P, P * sizeof(double));
        memcpy(s[c]->grad, h->stage + (K + c) * P, P * sizeof(double));
        s[c]->current = h->current[c];
        s[c]->rng = h->rng[c];
    }
    return BNN_OK;
}

__global__ void to_float_kernel(float *dst, const double *src, size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = (float)src[i];
}

extern "C" bnn_status bnn_cuda_hmc_predict_chains(bnn_cuda_hmc *h, const int *want,
                                                  double *const *out)
{
    struct cuda_backend *b = h->b;
    const size_t n = h->K * h->dim;
    if (n > 0)
        to_float_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, b->stream>>>(b->theta_f,
                                                                                 h->theta, n);
    BNN_TRY(launched());
    return bnn_cuda_predict_chains(b, want, out);
}

extern "C" bnn_status bnn_cuda_hmc_set(bnn_cuda_hmc *h, const bnn_hmc *s)
{
    return bnn_cuda_hmc_set_chain(h, 0, s);
}

extern "C" bnn_status bnn_cuda_hmc_get(const bnn_cuda_hmc *h, bnn_hmc *s)
{
    return bnn_cuda_hmc_get_chain(h, 0, s);
}

/* Up to L_max leapfrog steps of every chain from (theta, grad, momentum) into (theta_new,
 * grad_new, momentum), all enqueued at once; each chain stops after its own number of steps,
 * or once a step is not finite. Each step: the previous step's closing kick (or the opening
 * half kick) and this step's drift with the prior's sum in one kernel, the sum's second level,
 * the gradient, the posterior gradient, the step's verdict. */
static bnn_status leapfrog(bnn_cuda_hmc *h, unsigned L_max)
{
    struct cuda_backend *b = h->b;
    const size_t P = h->dim, K = h->K, n = K * P, bytes = n * sizeof(double);
    const unsigned blocks = bnn_cuda_blocks(n);
    const size_t per_chain = (P + BNN_CUDA_SUM_BLOCK - 1) / BNN_CUDA_SUM_BLOCK;
    const dim3 grid((unsigned)(per_chain ? per_chain : 1), (unsigned)K);
    BNN_CUDA_TRY(cudaMemcpyAsync(h->theta_new, h->theta, bytes, cudaMemcpyDeviceToDevice,
                                 b->stream));
    BNN_CUDA_TRY(cudaMemcpyAsync(h->grad_new, h->grad, bytes, cudaMemcpyDeviceToDevice,
                                 b->stream));
    double *quad = h->sums + SUM_QUAD * K;
    for (unsigned l = 1; l <= L_max; l++) {
        kick_drift_kernel<<<grid, BNN_CUDA_THREADS, 0, b->stream>>>(
            h->momentum, h->grad_new, h->theta_new, b->theta_f, h->inv_mass, h->prior_var, P,
            h->params, h->scalars, l - 1, 1, b->partial);
        BNN_TRY(bnn_cuda_sum_partials(b, per_chain, K, quad));
        BNN_TRY(bnn_cuda_loglik_grad_device(b, 1));
        posterior_grad_kernel<<<blocks, BNN_CUDA_THREADS, 0, b->stream>>>(
            h->grad_new, b->grad_f, h->theta_new, h->prior_var, h->inv_temperature, n, P,
            h->params, h->scalars, l);
        finish_step_kernel<<<bnn_cuda_blocks(K), BNN_CUDA_THREADS, 0, b->stream>>>(
            h->scalars, b->ll, quad, h->params, K, h->log_prior_norm, h->inv_temperature, l);
    }
    kick_drift_kernel<<<grid, BNN_CUDA_THREADS, 0, b->stream>>>(
        h->momentum, h->grad_new, h->theta_new, b->theta_f, h->inv_mass, h->prior_var, P,
        h->params, h->scalars, L_max, 0, b->partial);
    return launched();
}

extern "C" bnn_status bnn_cuda_hmc_iterate_chains(bnn_cuda_hmc *h, const int *active,
                                                  const int *metropolis, bnn_hmc_stats *st)
{
    struct cuda_backend *b = h->b;
    const size_t K = h->K, P = h->dim, n = K * P;
    /* each chain's ε, L and uniforms from its own stream, in bnn_hmc_iterate's order */
    double *u_accept = h->u_accept;
    unsigned L_max = 0;
    for (size_t c = 0; c < K; c++) {
        struct chain_params *q = &h->params_h[c];
        *q = chain_params{};
        u_accept[c] = 0;
        if (!active[c]) continue;
        bnn_rng *rng = &h->rng[c];
        q->seed = rng->seed;
        q->stream = rng->stream;
        q->counter0 = rng->counter;
        rng->counter += (P + 1) / 2; /* bnn_rng_normals: one block per two normals */
        double eps = h->step_size[c];
        double u_jitter = bnn_rng_uniform(rng);
        u_accept[c] = bnn_rng_uniform(rng);
        if (h->opt.jitter > 0) eps *= 1 + h->opt.jitter * (2 * u_jitter - 1);
        double l_real = ceil(h->opt.traj_len / eps);
        size_t L = l_real > (double)h->opt.max_leapfrog ? h->opt.max_leapfrog : (size_t)l_real;
        q->eps = eps;
        q->steps = L == 0 ? 1 : (unsigned)L;
        if (q->steps > L_max) L_max = q->steps;
    }
    cudaStream_t stream = b->stream;
    bnn_status s = BNN_OK;
    cudaError_t e = cudaMemcpyAsync(h->params, h->params_h, K * sizeof *h->params,
                                    cudaMemcpyHostToDevice, stream);
    if (e == cudaSuccess) e = cudaMemsetAsync(h->scalars, 0, K * sizeof *h->scalars, stream);
    if (e != cudaSuccess)
        s = BNN_ERROR(BNN_EIO, "CUDA: starting a trajectory failed: %s", cudaGetErrorString(e));
    if (s == BNN_OK) {
        momentum_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, stream>>>(
            h->momentum, h->terms, h->inv_mass, n, P, h->params);
        s = bnn_cuda_sum_segments(b, h->terms, P, K, h->sums + SUM_KINETIC0 * K);
    }
    if (s == BNN_OK) s = leapfrog(h, L_max);
    if (s == BNN_OK) {
        kinetic_terms_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, stream>>>(
            h->momentum, h->inv_mass, h->terms, n);
        s = bnn_cuda_sum_segments(b, h->terms, P, K, h->sums + SUM_KINETIC1 * K);
    }
    if (s == BNN_OK) {
        e = cudaMemcpyAsync(h->scalars_h, h->scalars, K * sizeof *h->scalars,
                            cudaMemcpyDeviceToHost, stream);
        if (e == cudaSuccess)
            e = cudaMemcpyAsync(h->sums_h, h->sums, N_SUMS * K * sizeof(double),
                                cudaMemcpyDeviceToHost, stream);
        if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
        if (e != cudaSuccess)
            s = BNN_ERROR(BNN_EIO, "CUDA: a trajectory failed: %s", cudaGetErrorString(e));
    }
    if (s != BNN_OK) return s;
    for (size_t c = 0; c < K; c++) {
        h->accept_h[c] = 0;
        if (!active[c]) continue;
        const struct trajectory_scalars *sc = &h->scalars_h[c];
        const double kinetic0 = h->sums_h[SUM_KINETIC0 * K + c];
        const double kinetic1 = h->sums_h[SUM_KINETIC1 * K + c];
        const double h0 = -h->current[c].logp + 0.5 * kinetic0;
        bnn_logp end = {sc->stopped ? NAN : sc->logp, sc->log_lik, sc->log_prior};
        double h1 = isfinite(end.logp) ? -end.logp + 0.5 * kinetic1 : INFINITY;
        double error = h1 - h0;
        int divergent = !isfinite(h1) || !(error <= h->opt.max_energy_error);
        double accept_prob = divergent ? 0 : (error <= 0 ? 1 : exp(-error));
        int accepted = !divergent && (!metropolis[c] || u_accept[c] < accept_prob);
        if (accepted) {
            h->accept_h[c] = 1;
            h->current[c] = end;
        }
        bnn_hmc_stats *o = &st[c];
        *o = bnn_hmc_stats{};
        o->accept_prob = accept_prob;
        o->accepted = accepted;
        o->divergent = divergent;
        o->energy = accepted ? h1 : h0;
        o->energy_error = error;
        o->step_size = h->params_h[c].eps;
        o->n_leapfrog = (size_t)sc->steps;
        o->logp = h->current[c]; /* tree_depth stays 0: static HMC */
    }
    BNN_CUDA_TRY(cudaMemcpyAsync(h->accept, h->accept_h, K * sizeof *h->accept,
                                 cudaMemcpyHostToDevice, stream));
    accept_kernel<<<bnn_cuda_blocks(n), BNN_CUDA_THREADS, 0, stream>>>(
        h->theta, h->grad, h->theta_new, h->grad_new, n, P, h->accept);
    BNN_TRY(launched());
    BNN_CUDA_TRY(cudaStreamSynchronize(stream)); /* accept_h is rewritten by the next call */
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_hmc_iterate(bnn_cuda_hmc *h, int metropolis, bnn_hmc_stats *st)
{
    if (h->K != 1)
        return BNN_ERROR(BNN_EINVAL, "bnn_cuda_hmc_iterate runs one chain; this sampler has %zu",
                         h->K);
    const int active = 1;
    return bnn_cuda_hmc_iterate_chains(h, &active, &metropolis, st);
}
