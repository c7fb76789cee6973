/* Prior, hyperparameters, temperature and the log-posterior target over a backend. */
#include "model/posterior.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bnn_status bnn_prior_var_parse(const char *text, bnn_prior_options *o)
{
    const char *p = text;
    o->n_var = 0;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !(v > 0) || !isfinite(v) || (*end && *end != ','))
            return BNN_ERROR(BNN_EINVAL,
                             "--prior-var '%s': expected positive numbers, one or one per "
                             "dense layer, separated by commas", text);
        if (o->n_var == BNN_NET_MAX_TENSORS)
            return BNN_ERROR(BNN_EINVAL, "--prior-var '%s': too many values", text);
        o->var[o->n_var++] = v;
        if (!*end) return BNN_OK;
        p = end + 1;
    }
}

bnn_status bnn_prior_options_check(const bnn_prior_options *prior, const bnn_net *m)
{
    if (prior->n_var != 1 && prior->n_var != m->n_prior_groups)
        return BNN_ERROR(BNN_EINVAL,
                         "--prior-var has %zu values; give one, or one per layer (%zu)",
                         prior->n_var, m->n_prior_groups);
    if (!(prior->temperature > 0) || !isfinite(prior->temperature))
        return BNN_ERROR(BNN_EINVAL, "--temperature must be positive and finite (got %g)",
                         prior->temperature);
    if (prior->hyper.layers.on && prior->family.kind != BNN_PRIOR_GAUSSIAN)
        return BNN_ERROR(BNN_EINVAL, "--prior-hyper needs --prior gaussian: the Gibbs update "
                                     "of a layer's precision draws from its Gamma conditional, "
                                     "which exists for a Gaussian prior only");
    return bnn_hyper_check(m, &prior->hyper);
}

bnn_status bnn_posterior_init(bnn_posterior *post, const bnn_net *m,
                              const bnn_prior_options *prior, bnn_backend backend)
{
    memset(post, 0, sizeof *post);
    BNN_TRY(bnn_prior_options_check(prior, m));
    post->model = m;
    post->backend = backend;
    post->prior = *prior;
    post->noise_sd = m->noise_sd;
    post->n_hyper = bnn_hyper_count(m, &prior->hyper);
    post->prior_var = malloc((m->n_params ? m->n_params : 1) * sizeof(double));
    post->hyper = post->n_hyper ? malloc(post->n_hyper * sizeof(double)) : NULL;
    if (!post->prior_var || (post->n_hyper && !post->hyper)) {
        bnn_posterior_free(post);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for the prior");
    }
    for (size_t k = 0; k < m->n_tensors; k++) {
        const bnn_tensor *t = &m->tensors[k];
        double v = prior->var[prior->n_var == 1 ? 0 : t->prior_group];
        if (prior->divide_by_fan_in && !t->is_bias) v /= (double)t->fan_in;
        for (size_t i = t->offset; i < t->offset + t->size; i++) post->prior_var[i] = v;
    }
    post->log_prior_norm = bnn_prior_log_norm(&prior->family, post->prior_var, m->n_params);
    if (post->n_hyper) {
        bnn_hyper_initial(m, &prior->hyper, prior->var, prior->n_var, m->noise_sd, post->hyper);
        bnn_posterior_set_hyper(post, post->hyper);
    }
    return BNN_OK;
}

void bnn_posterior_free(bnn_posterior *post)
{
    free(post->prior_var);
    free(post->hyper);
    post->prior_var = NULL;
    post->hyper = NULL;
}

void bnn_posterior_set_hyper(bnn_posterior *post, const double *hyper)
{
    const bnn_prior_options *o = &post->prior;
    if (hyper != post->hyper) memcpy(post->hyper, hyper, post->n_hyper * sizeof(double));
    if (o->hyper.layers.on) {
        bnn_hyper_prior_var(post->model, &o->hyper, o->divide_by_fan_in, post->hyper,
                            post->prior_var);
        post->log_prior_norm = bnn_prior_log_norm(&o->family, post->prior_var,
                                                  post->model->n_params);
    }
    if (o->hyper.noise.on) post->noise_sd = 1 / sqrt(post->hyper[post->n_hyper - 1]);
}

/* log N(y | f, σ²) = −(y − f)²/(2σ²) + gauss_norm(σ). */
static double gauss_norm(double sd) { return -log(sd) - 0.91893853320467274178032973640562; }

bnn_status bnn_posterior_gibbs(bnn_posterior *post, const double *theta, double log_lik,
                               bnn_rng *rng)
{
    const bnn_prior_options *o = &post->prior;
    const double n = (double)post->n_obs, sd = post->noise_sd;
    /* the residual sum of squares from log_lik = −ssr/(2σ²) + n gauss_norm(σ) */
    const double ssr = o->hyper.noise.on ? 2 * sd * sd * (n * gauss_norm(sd) - log_lik) : 0;
    BNN_TRY(bnn_hyper_gibbs(post->model, &o->hyper, o->divide_by_fan_in, theta, ssr,
                            post->n_obs, o->temperature, rng, post->hyper));
    bnn_posterior_set_hyper(post, post->hyper);
    return BNN_OK;
}

/* Adds the log prior to log_lik and tempers: out and, if grad holds ∇ log-likelihood, grad
 * becomes ∇ logp. Shared by the full-data and the mini-batch posterior. */
static void add_prior(const bnn_posterior *post, const double *theta, double log_lik,
                      double *grad, bnn_logp *out)
{
    const size_t P = post->model->n_params;
    if (post->prior.hyper.noise.on) { /* the backend's Gaussian has σ0 = model->noise_sd */
        const double s0 = post->model->noise_sd, sd = post->noise_sd, n = (double)post->n_obs;
        const double ratio = s0 * s0 / (sd * sd);
        log_lik = ratio * (log_lik - n * gauss_norm(s0)) + n * gauss_norm(sd);
        if (grad)
            for (size_t i = 0; i < P; i++) grad[i] *= ratio;
    }
    double log_prior = post->log_prior_norm +
                       bnn_prior_log_kernel(&post->prior.family, theta, post->prior_var, P, grad);
    const double inv_t = 1 / post->prior.temperature;
    if (grad)
        for (size_t i = 0; i < P; i++) grad[i] *= inv_t;
    out->log_lik = log_lik;
    out->log_prior = log_prior;
    out->logp = (log_lik + log_prior) * inv_t;
}

static bnn_status posterior_logp_grad(void *ctx, const double *theta, double *grad,
                                      bnn_logp *out)
{
    bnn_posterior *post = ctx;
    double log_lik;
    BNN_TRY(post->backend.ops->loglik_grad(post->backend.ctx, theta, grad, &log_lik));
    add_prior(post, theta, log_lik, grad, out);
    return BNN_OK;
}

bnn_status bnn_posterior_logp_grad_rows(bnn_posterior *post, const double *theta,
                                        const size_t *rows, size_t n_rows, double scale,
                                        double *grad, bnn_logp *out)
{
    const bnn_backend *b = &post->backend;
    if (!b->ops->loglik_grad_rows)
        return BNN_ERROR(BNN_EINVAL, "the %s backend has no mini-batch gradient", b->ops->name);
    double log_lik;
    BNN_TRY(b->ops->loglik_grad_rows(b->ctx, theta, rows, n_rows, grad, &log_lik));
    if (grad)
        for (size_t i = 0; i < post->model->n_params; i++) grad[i] *= scale;
    add_prior(post, theta, scale * log_lik, grad, out);
    return BNN_OK;
}

bnn_target bnn_posterior_target(bnn_posterior *post)
{
    return (bnn_target){.dim = post->model->n_params, .logp_grad = posterior_logp_grad,
                        .ctx = post};
}

void bnn_posterior_draw_prior(const bnn_posterior *post, bnn_rng *rng, double scale,
                              double *theta)
{
    bnn_prior_draw(&post->prior.family, post->prior_var, post->model->n_params, scale, rng,
                   theta);
}
