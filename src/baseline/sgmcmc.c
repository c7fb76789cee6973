/* SGLD and SGHMC steps and their step-size schedules. */
#include "baseline/sgmcmc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double bnn_step_poly(double eps0, double b, double gamma, size_t t)
{
    return gamma == 0 ? eps0 : eps0 * pow(1 + (double)t / b, -gamma);
}

double bnn_cycle_position(size_t cycle_len, size_t t)
{
    return (double)(t % cycle_len) / (double)cycle_len;
}

double bnn_step_cosine(double eps0, size_t cycle_len, size_t t)
{
    const double pi = 3.14159265358979323846;
    return 0.5 * eps0 * (cos(pi * bnn_cycle_position(cycle_len, t)) + 1);
}

bnn_status bnn_sgmcmc_alloc(bnn_target target, bnn_sgmcmc **out)
{
    bnn_sgmcmc *s = calloc(1, sizeof *s);
    if (!s) return BNN_ERROR(BNN_ENOMEM, "out of memory for the sampler");
    const size_t n = target.dim ? target.dim : 1;
    s->target = target;
    s->dim = target.dim;
    s->theta = calloc(n, sizeof(double));
    s->grad = calloc(n, sizeof(double));
    s->velocity = calloc(n, sizeof(double));
    s->noise = calloc(n, sizeof(double));
    if (!s->theta || !s->grad || !s->velocity || !s->noise) {
        bnn_sgmcmc_free(s);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for the sampler");
    }
    *out = s;
    return BNN_OK;
}

void bnn_sgmcmc_free(bnn_sgmcmc *s)
{
    if (!s) return;
    free(s->theta);
    free(s->grad);
    free(s->velocity);
    free(s->noise);
    free(s);
}

void bnn_sgmcmc_set(bnn_sgmcmc *s, const double *theta0, bnn_rng rng)
{
    memcpy(s->theta, theta0, s->dim * sizeof(double));
    memset(s->velocity, 0, s->dim * sizeof(double));
    s->rng = rng;
}

/* The gradient at the current position; fails if it is not finite. */
static bnn_status gradient(bnn_sgmcmc *s)
{
    BNN_TRY(s->target.logp_grad(s->target.ctx, s->theta, s->grad, &s->last));
    int finite = isfinite(s->last.logp);
    for (size_t i = 0; finite && i < s->dim; i++) finite = isfinite(s->grad[i]);
    if (!finite)
        return BNN_ERROR(BNN_ENUM, "the stochastic gradient is not finite (log posterior "
                                   "estimate %g): the step size is too large; lower --lr",
                         s->last.logp);
    return BNN_OK;
}

bnn_status bnn_sgld_step(bnn_sgmcmc *s, double eps, double noise_scale)
{
    BNN_TRY(gradient(s));
    const double drift = 0.5 * eps, sd = noise_scale * sqrt(eps);
    if (sd > 0) bnn_rng_normals(&s->rng, s->noise, s->dim);
    for (size_t i = 0; i < s->dim; i++)
        s->theta[i] += drift * s->grad[i] + (sd > 0 ? sd * s->noise[i] : 0);
    return BNN_OK;
}

bnn_status bnn_sghmc_step(bnn_sgmcmc *s, double eta, double alpha)
{
    BNN_TRY(gradient(s));
    const double keep = 1 - alpha, sd = sqrt(2 * alpha * eta);
    bnn_rng_normals(&s->rng, s->noise, s->dim);
    for (size_t i = 0; i < s->dim; i++) {
        s->velocity[i] = keep * s->velocity[i] + eta * s->grad[i] + sd * s->noise[i];
        s->theta[i] += s->velocity[i];
    }
    return BNN_OK;
}
