/* HMC: momentum draw, leapfrog trajectory, divergence check, Metropolis test. */
#include "sample/hmc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bnn_status bnn_hmc_alloc(bnn_target target, const bnn_hmc_options *opt, bnn_hmc **out)
{
    if (!(opt->step_size > 0) || !isfinite(opt->step_size))
        return BNN_ERROR(BNN_EINVAL, "--step-size must be positive and finite (got %g)",
                         opt->step_size);
    if (!(opt->traj_len > 0) || !isfinite(opt->traj_len))
        return BNN_ERROR(BNN_EINVAL, "--traj-len must be positive and finite (got %g)",
                         opt->traj_len);
    if (opt->max_leapfrog == 0) return BNN_ERROR(BNN_EINVAL, "--max-leapfrog must be at least 1");
    if (!(opt->jitter >= 0 && opt->jitter < 1))
        return BNN_ERROR(BNN_EINVAL, "--jitter must be in [0, 1) (got %g)", opt->jitter);
    bnn_hmc *s = calloc(1, sizeof *s);
    if (!s) return BNN_ERROR(BNN_ENOMEM, "out of memory for the sampler");
    s->target = target;
    s->opt = *opt;
    s->dim = target.dim;
    size_t n = target.dim ? target.dim : 1;
    double **arrays[] = {&s->theta, &s->grad, &s->inv_mass, &s->theta_new, &s->grad_new,
                         &s->momentum};
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++) {
        *arrays[k] = malloc(n * sizeof(double));
        if (!*arrays[k]) {
            bnn_hmc_free(s);
            return BNN_ERROR(BNN_ENOMEM, "out of memory for the sampler (dimension %zu)", n);
        }
    }
    *out = s;
    return BNN_OK;
}

void bnn_hmc_free(bnn_hmc *s)
{
    if (!s) return;
    free(s->theta);
    free(s->grad);
    free(s->inv_mass);
    free(s->theta_new);
    free(s->grad_new);
    free(s->momentum);
    free(s);
}

bnn_status bnn_hmc_set(bnn_hmc *s, const double *theta0, bnn_rng rng)
{
    memcpy(s->theta, theta0, s->dim * sizeof(double));
    for (size_t i = 0; i < s->dim; i++) s->inv_mass[i] = 1;
    s->step_size = s->opt.step_size;
    s->rng = rng;
    BNN_TRY(s->target.logp_grad(s->target.ctx, s->theta, s->grad, &s->current));
    if (!isfinite(s->current.logp))
        return BNN_ERROR(BNN_ENUM, "the log posterior is not finite at the initial values");
    return BNN_OK;
}

/* p ~ N(0, M), M = diag(1 / inv_mass); returns the kinetic energy ½ pᵀ M⁻¹ p. */
static double draw_momentum(bnn_hmc *s)
{
    bnn_rng_normals(&s->rng, s->momentum, s->dim);
    double kinetic = 0;
    for (size_t i = 0; i < s->dim; i++) {
        s->momentum[i] /= sqrt(s->inv_mass[i]);
        kinetic += s->momentum[i] * s->momentum[i] * s->inv_mass[i];
    }
    return 0.5 * kinetic;
}

static double kinetic_energy(const bnn_hmc *s)
{
    double k = 0;
    for (size_t i = 0; i < s->dim; i++) k += s->momentum[i] * s->momentum[i] * s->inv_mass[i];
    return 0.5 * k;
}

/* The per-step vector loops are also built for AVX-512 and AVX2 (chosen at load time): each
 * number is computed by the same operations in the same order (no sums across numbers, no FMA
 * since contraction is off), so every build gives the same bits. */
#define STEP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* p += scale · g */
STEP_CLONES static void momentum_step(double *restrict p, double scale, const double *restrict g,
                                      size_t n)
{
    for (size_t i = 0; i < n; i++) p[i] += scale * g[i];
}

/* θ += ε · M⁻¹ p */
STEP_CLONES static void position_step(double *restrict theta, double eps,
                                      const double *restrict inv_mass,
                                      const double *restrict p, size_t n)
{
    for (size_t i = 0; i < n; i++) theta[i] += eps * inv_mass[i] * p[i];
}

/* Whether every number of g is finite (no early exit, so that the loop vectorises). */
STEP_CLONES static int all_finite(const double *g, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad |= !isfinite(g[i]);
    return !bad;
}

/* A non-finite gradient makes the state unusable: report it as a non-finite density. */
static void check_gradient(const double *grad, size_t n, bnn_logp *lp)
{
    if (!all_finite(grad, n)) lp->logp = NAN;
}

/* L leapfrog steps from (theta, grad, momentum) into (theta_new, grad_new, momentum).
 * Returns the log density at the end, or stops early (returning it) once it or its gradient is
 * not finite. */
static bnn_status leapfrog(bnn_hmc *s, double eps, size_t L, bnn_logp *end, size_t *steps)
{
    const size_t n = s->dim;
    memcpy(s->theta_new, s->theta, n * sizeof(double));
    memcpy(s->grad_new, s->grad, n * sizeof(double));
    momentum_step(s->momentum, 0.5 * eps, s->grad_new, n);
    for (size_t l = 1; l <= L; l++) {
        position_step(s->theta_new, eps, s->inv_mass, s->momentum, n);
        BNN_TRY(s->target.logp_grad(s->target.ctx, s->theta_new, s->grad_new, end));
        check_gradient(s->grad_new, n, end);
        *steps = l;
        if (!isfinite(end->logp)) return BNN_OK;
        momentum_step(s->momentum, l < L ? eps : 0.5 * eps, s->grad_new, n);
    }
    return BNN_OK;
}

bnn_status bnn_hmc_iterate(bnn_hmc *s, int metropolis, bnn_hmc_stats *st)
{
    const double h0 = -s->current.logp + draw_momentum(s);
    double eps = s->step_size;
    double u_jitter = bnn_rng_uniform(&s->rng);
    double u_accept = bnn_rng_uniform(&s->rng);
    if (s->opt.jitter > 0) eps *= 1 + s->opt.jitter * (2 * u_jitter - 1);
    double l_real = ceil(s->opt.traj_len / eps);
    size_t L = l_real > (double)s->opt.max_leapfrog ? s->opt.max_leapfrog : (size_t)l_real;
    if (L == 0) L = 1;

    bnn_logp end = {0};
    size_t steps = 0;
    BNN_TRY(leapfrog(s, eps, L, &end, &steps));
    double h1 = isfinite(end.logp) ? -end.logp + kinetic_energy(s) : INFINITY;
    double error = h1 - h0;
    int divergent = !isfinite(h1) || !(error <= s->opt.max_energy_error);
    double accept_prob = divergent ? 0 : (error <= 0 ? 1 : exp(-error));
    int accepted = !divergent && (!metropolis || u_accept < accept_prob);
    if (accepted) {
        double *t = s->theta;
        s->theta = s->theta_new;
        s->theta_new = t;
        t = s->grad;
        s->grad = s->grad_new;
        s->grad_new = t;
        s->current = end;
    }
    *st = (bnn_hmc_stats){.accept_prob = accept_prob, .accepted = accepted,
                          .divergent = divergent, .energy = accepted ? h1 : h0,
                          .energy_error = error, .step_size = eps,
                          .n_leapfrog = steps, .logp = s->current};
    return BNN_OK;
}

/* Acceptance probability of one leapfrog step of size eps from the current state. */
static bnn_status one_step_accept(bnn_hmc *s, double eps, double *prob)
{
    double h0 = -s->current.logp + draw_momentum(s);
    bnn_logp end;
    size_t steps = 0;
    BNN_TRY(leapfrog(s, eps, 1, &end, &steps));
    double h1 = isfinite(end.logp) ? -end.logp + kinetic_energy(s) : INFINITY;
    *prob = isfinite(h1) ? exp(h0 - h1 < 0 ? h0 - h1 : 0) : 0;
    return BNN_OK;
}

bnn_status bnn_hmc_find_step_size(bnn_hmc *s)
{
    double eps = s->step_size, prob;
    BNN_TRY(one_step_accept(s, eps, &prob));
    const int up = prob > 0.8;
    for (int k = 0; k < 50; k++) {
        double next = up ? 2 * eps : 0.5 * eps;
        BNN_TRY(one_step_accept(s, next, &prob));
        if (up ? prob < 0.8 : prob > 0.8) {
            s->step_size = up ? eps : next;
            return BNN_OK;
        }
        eps = next;
    }
    s->step_size = eps;
    return BNN_OK;
}

bnn_status bnn_hmc_refresh(bnn_hmc *s)
{
    BNN_TRY(s->target.logp_grad(s->target.ctx, s->theta, s->grad, &s->current));
    check_gradient(s->grad, s->dim, &s->current);
    if (!isfinite(s->current.logp))
        return BNN_ERROR(BNN_ENUM, "the log posterior or its gradient is not finite after the "
                                   "hyperparameter update");
    return BNN_OK;
}
