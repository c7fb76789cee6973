/* Mean-field Gaussian VI by the reparameterisation gradient and Adam. */
#include "baseline/vi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* softplus(ρ) = log(1 + e^ρ), without overflow for large ρ. */
static double softplus(double rho) { return (rho > 0 ? rho : 0) + log1p(exp(-fabs(rho))); }

bnn_status bnn_vi_alloc(bnn_target target, bnn_vi **out)
{
    bnn_vi *vi = calloc(1, sizeof *vi);
    if (!vi) return BNN_ERROR(BNN_ENOMEM, "out of memory for VI");
    const size_t n = target.dim ? target.dim : 1;
    vi->target = target;
    vi->dim = target.dim;
    vi->params = calloc(2 * n, sizeof(double));
    vi->grad = calloc(2 * n, sizeof(double));
    vi->theta = calloc(n, sizeof(double));
    vi->xi = calloc(n, sizeof(double));
    vi->grad_theta = calloc(n, sizeof(double));
    if (!vi->params || !vi->grad || !vi->theta || !vi->xi || !vi->grad_theta ||
        bnn_adam_init(&vi->adam, 2 * target.dim) != BNN_OK) {
        bnn_vi_free(vi);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for VI");
    }
    vi->mu = vi->params;
    vi->rho = vi->params + target.dim;
    *out = vi;
    return BNN_OK;
}

void bnn_vi_free(bnn_vi *vi)
{
    if (!vi) return;
    free(vi->params);
    free(vi->grad);
    free(vi->theta);
    free(vi->xi);
    free(vi->grad_theta);
    bnn_adam_free(&vi->adam);
    free(vi);
}

bnn_status bnn_vi_set(bnn_vi *vi, const double *mu0, double sd0, bnn_rng rng)
{
    if (!(sd0 > 0) || !isfinite(sd0))
        return BNN_ERROR(BNN_EINVAL, "--vi-init-sd must be positive and finite (got %g)", sd0);
    memcpy(vi->mu, mu0, vi->dim * sizeof(double));
    const double rho0 = log(expm1(sd0)); /* softplus⁻¹ */
    for (size_t i = 0; i < vi->dim; i++) vi->rho[i] = rho0;
    memset(vi->adam.m, 0, 2 * vi->dim * sizeof(double));
    memset(vi->adam.v, 0, 2 * vi->dim * sizeof(double));
    vi->adam.t = 0;
    vi->rng = rng;
    return BNN_OK;
}

double bnn_vi_sd(const bnn_vi *vi, size_t i) { return softplus(vi->rho[i]); }

void bnn_vi_draw(const bnn_vi *vi, bnn_rng *rng, double *theta)
{
    bnn_rng_normals(rng, theta, vi->dim);
    for (size_t i = 0; i < vi->dim; i++) theta[i] = vi->mu[i] + bnn_vi_sd(vi, i) * theta[i];
}

bnn_status bnn_vi_step(bnn_vi *vi, double lr)
{
    const size_t P = vi->dim;
    double *sd = vi->grad, *dsd = vi->grad + P; /* σ and σ'(ρ) = sigmoid(ρ) until ∇ is due */
    bnn_rng_normals(&vi->rng, vi->xi, P);
    double entropy = 0;
    for (size_t i = 0; i < P; i++) {
        const double rho = vi->rho[i], e = exp(-fabs(rho)); /* one exp for both */
        sd[i] = (rho > 0 ? rho : 0) + log1p(e);
        dsd[i] = rho >= 0 ? 1 / (1 + e) : e / (1 + e);
        vi->theta[i] = vi->mu[i] + sd[i] * vi->xi[i];
        entropy += log(sd[i]);
    }
    entropy += 0.5 * (double)P * (1 + 1.8378770664093454835606594728112); /* + P/2 log(2πe) */
    bnn_logp lp;
    BNN_TRY(vi->target.logp_grad(vi->target.ctx, vi->theta, vi->grad_theta, &lp));
    vi->elbo = lp.logp + entropy;
    int finite = isfinite(vi->elbo);
    /* ∂/∂μ = ∇log π̂(θ); ∂/∂ρ = (∇log π̂(θ) · ξ + 1/σ) · σ'(ρ) */
    for (size_t i = 0; i < P; i++) {
        dsd[i] *= vi->grad_theta[i] * vi->xi[i] + 1 / sd[i];
        sd[i] = vi->grad_theta[i];
        finite = finite && isfinite(sd[i]) && isfinite(dsd[i]);
    }
    if (!finite)
        return BNN_ERROR(BNN_ENUM, "the ELBO estimate or its gradient is not finite (ELBO %g): "
                                   "lower --lr", vi->elbo);
    bnn_adam_step(&vi->adam, vi->params, vi->grad, lr);
    return BNN_OK;
}
