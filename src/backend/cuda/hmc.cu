/* Whole HMC iterations on the device (backend/cuda.h): θ, gradient, momentum and M⁻¹ live in
 * device memory as double; the momenta are drawn on the device from the chain's Philox stream
 * (the numbers bnn_rng_normals gives on the CPU); every leapfrog step, the log posterior and the
 * stop-on-non-finite rule of hmc.c run as kernels; the host reads back only the iteration's
 * scalars. The steps mirror bnn_hmc_iterate line by line (sample/hmc.c). */
#include "backend/cuda/internal.cuh"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda/device_math.h"

extern "C" {
#include "core/rng.h"
}

/* What one iteration's kernels leave for the host. */
struct trajectory_scalars {
    double kinetic0;  /* Σ p² M⁻¹ at the start (not halved) */
    double kinetic1;  /* the same at the end */
    double quad;      /* Σ θ² / prior variance at the current step */
    double log_lik, log_prior, logp; /* at the last finite step */
    int bad_grad;     /* the current step's gradient has a non-finite number */
    int stopped;      /* a step gave a non-finite density or gradient */
    unsigned steps;   /* leapfrog steps taken */
};

struct bnn_cuda_hmc {
    struct cuda_backend *b;
    bnn_hmc_options opt;
    size_t dim;
    double log_prior_norm, inv_temperature;
    double *theta, *grad, *theta_new, *grad_new, *momentum, *inv_mass, *prior_var; /* device */
    double *terms;   /* device (dim) per-coordinate terms of a sum */
    struct trajectory_scalars *scalars;   /* device */
    struct trajectory_scalars *scalars_h; /* pinned */
    bnn_logp current;
    double step_size;
    bnn_rng rng;
};

/* p_i = z_i / √(M⁻¹_i), z_i normal i of the stream from counter0; terms_i = p_i² M⁻¹_i. */
__global__ void momentum_kernel(double *p, double *terms, const double *inv_mass, size_t n,
                                uint64_t seed, uint32_t stream, uint64_t counter0)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double v = bnn_dm_momentum(bnn_dm_normal(seed, stream, counter0, i), inv_mass[i]);
    p[i] = v;
    terms[i] = bnn_dm_kinetic_term(v, inv_mass[i]);
}

__global__ void kinetic_terms_kernel(const double *p, const double *inv_mass, double *terms,
                                     size_t n)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) terms[i] = bnn_dm_kinetic_term(p[i], inv_mass[i]);
}

/* p += scale · ∇ unless the trajectory has stopped. */
__global__ void momentum_step_kernel(double *p, const double *grad, double scale, size_t n,
                                     const struct trajectory_scalars *s)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && !s->stopped) p[i] = bnn_dm_momentum_step(p[i], scale, grad[i]);
}

/* θ += ε M⁻¹ p unless stopped; θ_f = (float)θ for the products; terms = θ² / prior variance. */
__global__ void position_step_kernel(double *theta, float *theta_f, double *terms,
                                     const double *p, const double *inv_mass,
                                     const double *prior_var, double eps, size_t n,
                                     const struct trajectory_scalars *s)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double t = theta[i];
    if (!s->stopped) t = bnn_dm_position_step(t, eps, inv_mass[i], p[i]);
    theta[i] = t;
    theta_f[i] = (float)t;
    terms[i] = t * t / prior_var[i];
}

/* ∇ log posterior from the log-likelihood gradient, unless stopped; flags a non-finite one. */
__global__ void posterior_grad_kernel(double *grad, const float *lik_grad, const double *theta,
                                      const double *prior_var, double inv_t, size_t n,
                                      struct trajectory_scalars *s)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n || s->stopped) return;
    double g = bnn_dm_posterior_grad((double)lik_grad[i], theta[i], prior_var[i], inv_t);
    grad[i] = g;
    if (!isfinite(g)) s->bad_grad = 1; /* every writer writes 1: no race on the value */
}

/* The step's log density (hmc.c: stop once it or its gradient is not finite). */
__global__ void finish_step_kernel(struct trajectory_scalars *s, const double *log_lik,
                                   double log_prior_norm, double inv_t, unsigned step)
{
    if (s->stopped) return;
    double lp = log_prior_norm - 0.5 * s->quad;
    s->log_lik = *log_lik;
    s->log_prior = lp;
    s->logp = (*log_lik + lp) * inv_t;
    if (s->bad_grad) s->logp = NAN;
    s->steps = step;
    if (!isfinite(s->logp)) s->stopped = 1;
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
    double *dev[] = {h->theta, h->grad, h->theta_new, h->grad_new, h->momentum, h->inv_mass,
                     h->prior_var, h->terms};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) cudaFree(dev[i]);
    cudaFree(h->scalars);
    cudaFreeHost(h->scalars_h);
    free(h);
}

static bnn_status hmc_buffers(bnn_cuda_hmc *h, const double *prior_var)
{
    const size_t n = h->dim ? h->dim : 1;
    double **dev[] = {&h->theta, &h->grad, &h->theta_new, &h->grad_new, &h->momentum,
                      &h->inv_mass, &h->prior_var, &h->terms};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        BNN_CUDA_TRY(cudaMalloc((void **)dev[i], n * sizeof(double)));
    BNN_CUDA_TRY(cudaMalloc((void **)&h->scalars, sizeof *h->scalars));
    BNN_CUDA_TRY(cudaMallocHost((void **)&h->scalars_h, sizeof *h->scalars_h));
    BNN_CUDA_TRY(cudaMemcpyAsync(h->prior_var, prior_var, h->dim * sizeof(double),
                                 cudaMemcpyHostToDevice, h->b->stream));
    BNN_CUDA_TRY(cudaStreamSynchronize(h->b->stream));
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_hmc_alloc(bnn_backend backend, const double *prior_var,
                                         double log_prior_norm, double temperature,
                                         const bnn_hmc_options *opt, bnn_cuda_hmc **out)
{
    if (!backend.ops || strcmp(backend.ops->name, "cuda") != 0)
        return BNN_ERROR(BNN_EINVAL, "device trajectories need a CUDA backend (got '%s')",
                         backend.ops ? backend.ops->name : "none");
    if (!(temperature > 0) || !isfinite(temperature))
        return BNN_ERROR(BNN_EINVAL, "--temperature must be positive and finite (got %g)",
                         temperature);
    bnn_cuda_hmc *h = (bnn_cuda_hmc *)calloc(1, sizeof *h);
    if (!h) return BNN_ERROR(BNN_ENOMEM, "out of memory for the device sampler");
    h->b = (struct cuda_backend *)backend.ctx;
    h->opt = *opt;
    h->dim = h->b->net->n_params;
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

extern "C" bnn_status bnn_cuda_hmc_set(bnn_cuda_hmc *h, const bnn_hmc *s)
{
    if (s->dim != h->dim)
        return BNN_ERROR(BNN_EINVAL, "the sampler has dimension %zu, the device net %zu", s->dim,
                         h->dim);
    const size_t bytes = h->dim * sizeof(double);
    cudaStream_t st = h->b->stream; /* the copies are ordered with the kernels that use them */
    BNN_CUDA_TRY(cudaMemcpyAsync(h->theta, s->theta, bytes, cudaMemcpyHostToDevice, st));
    BNN_CUDA_TRY(cudaMemcpyAsync(h->grad, s->grad, bytes, cudaMemcpyHostToDevice, st));
    BNN_CUDA_TRY(cudaMemcpyAsync(h->inv_mass, s->inv_mass, bytes, cudaMemcpyHostToDevice, st));
    BNN_CUDA_TRY(cudaStreamSynchronize(st)); /* s may change once this returns */
    h->current = s->current;
    h->step_size = s->step_size;
    h->rng = s->rng;
    return BNN_OK;
}

extern "C" bnn_status bnn_cuda_hmc_get(const bnn_cuda_hmc *h, bnn_hmc *s)
{
    const size_t bytes = h->dim * sizeof(double);
    cudaStream_t st = h->b->stream;
    BNN_CUDA_TRY(cudaMemcpyAsync(s->theta, h->theta, bytes, cudaMemcpyDeviceToHost, st));
    BNN_CUDA_TRY(cudaMemcpyAsync(s->grad, h->grad, bytes, cudaMemcpyDeviceToHost, st));
    BNN_CUDA_TRY(cudaStreamSynchronize(st));
    s->current = h->current;
    s->rng = h->rng;
    return BNN_OK;
}

/* L leapfrog steps from (theta, grad, momentum) into (theta_new, grad_new, momentum), all
 * enqueued at once; the kernels themselves stop moving once a step is not finite. */
static bnn_status leapfrog(bnn_cuda_hmc *h, double eps, size_t L)
{
    struct cuda_backend *b = h->b;
    const size_t n = h->dim, bytes = n * sizeof(double);
    const unsigned blocks = bnn_cuda_blocks(n);
    BNN_CUDA_TRY(cudaMemcpyAsync(h->theta_new, h->theta, bytes, cudaMemcpyDeviceToDevice,
                                 b->stream));
    BNN_CUDA_TRY(cudaMemcpyAsync(h->grad_new, h->grad, bytes, cudaMemcpyDeviceToDevice,
                                 b->stream));
    momentum_step_kernel<<<blocks, BNN_CUDA_THREADS, 0, b->stream>>>(h->momentum, h->grad_new,
                                                                     0.5 * eps, n, h->scalars);
    for (size_t l = 1; l <= L; l++) {
        position_step_kernel<<<blocks, BNN_CUDA_THREADS, 0, b->stream>>>(
            h->theta_new, b->theta_f, h->terms, h->momentum, h->inv_mass, h->prior_var, eps, n,
            h->scalars);
        BNN_TRY(bnn_cuda_sum(b, h->terms, n, &h->scalars->quad));
        BNN_TRY(bnn_cuda_loglik_grad_device(b, 1));
        posterior_grad_kernel<<<blocks, BNN_CUDA_THREADS, 0, b->stream>>>(
            h->grad_new, b->grad_f, h->theta_new, h->prior_var, h->inv_temperature, n,
            h->scalars);
        finish_step_kernel<<<1, 1, 0, b->stream>>>(h->scalars, b->ll, h->log_prior_norm,
                                                   h->inv_temperature, (unsigned)l);
        const double scale = l < L ? eps : 0.5 * eps;
        momentum_step_kernel<<<blocks, BNN_CUDA_THREADS, 0, b->stream>>>(
            h->momentum, h->grad_new, scale, n, h->scalars);
    }
    return launched();
}

/* Draws the momenta on the device from the host stream's next blocks and advances it. */
static bnn_status draw_momentum(bnn_cuda_hmc *h)
{
    struct cuda_backend *b = h->b;
    momentum_kernel<<<bnn_cuda_blocks(h->dim), BNN_CUDA_THREADS, 0, b->stream>>>(
        h->momentum, h->terms, h->inv_mass, h->dim, h->rng.seed, h->rng.stream, h->rng.counter);
    h->rng.counter += (h->dim + 1) / 2; /* bnn_rng_normals: one block per two normals */
    BNN_TRY(bnn_cuda_sum(b, h->terms, h->dim, &h->scalars->kinetic0));
    return launched();
}

extern "C" bnn_status bnn_cuda_hmc_iterate(bnn_cuda_hmc *h, int metropolis, bnn_hmc_stats *st)
{
    struct cuda_backend *b = h->b;
    BNN_CUDA_TRY(cudaMemsetAsync(h->scalars, 0, sizeof *h->scalars, b->stream));
    BNN_TRY(draw_momentum(h));
    double eps = h->step_size;
    double u_jitter = bnn_rng_uniform(&h->rng);
    double u_accept = bnn_rng_uniform(&h->rng);
    if (h->opt.jitter > 0) eps *= 1 + h->opt.jitter * (2 * u_jitter - 1);
    double l_real = ceil(h->opt.traj_len / eps);
    size_t L = l_real > (double)h->opt.max_leapfrog ? h->opt.max_leapfrog : (size_t)l_real;
    if (L == 0) L = 1;

    BNN_TRY(leapfrog(h, eps, L));
    kinetic_terms_kernel<<<bnn_cuda_blocks(h->dim), BNN_CUDA_THREADS, 0, b->stream>>>(
        h->momentum, h->inv_mass, h->terms, h->dim);
    BNN_TRY(bnn_cuda_sum(b, h->terms, h->dim, &h->scalars->kinetic1));
    BNN_CUDA_TRY(cudaMemcpyAsync(h->scalars_h, h->scalars, sizeof *h->scalars,
                                 cudaMemcpyDeviceToHost, b->stream));
    BNN_CUDA_TRY(cudaStreamSynchronize(b->stream));
    const struct trajectory_scalars *s = h->scalars_h;

    const double h0 = -h->current.logp + 0.5 * s->kinetic0;
    bnn_logp end = {s->stopped ? NAN : s->logp, s->log_lik, s->log_prior};
    double h1 = isfinite(end.logp) ? -end.logp + 0.5 * s->kinetic1 : INFINITY;
    double error = h1 - h0;
    int divergent = !isfinite(h1) || !(error <= h->opt.max_energy_error);
    double accept_prob = divergent ? 0 : (error <= 0 ? 1 : exp(-error));
    int accepted = !divergent && (!metropolis || u_accept < accept_prob);
    if (accepted) {
        double *t = h->theta;
        h->theta = h->theta_new;
        h->theta_new = t;
        t = h->grad;
        h->grad = h->grad_new;
        h->grad_new = t;
        h->current = end;
    }
    *st = bnn_hmc_stats{};
    st->accept_prob = accept_prob;
    st->accepted = accepted;
    st->divergent = divergent;
    st->energy = accepted ? h1 : h0;
    st->energy_error = error;
    st->step_size = eps;
    st->n_leapfrog = (size_t)s->steps;
    st->logp = h->current; /* tree_depth stays 0: static HMC */
    return BNN_OK;
}
