/* Prior, temperature and the log-posterior target over a backend. */
#include "model/posterior.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

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

bnn_status bnn_posterior_init(bnn_posterior *post, const bnn_net *m,
                              const bnn_prior_options *prior, bnn_backend backend)
{
    if (prior->n_var != 1 && prior->n_var != m->n_prior_groups)
        return BNN_ERROR(BNN_EINVAL,
                         "--prior-var has %zu values; give one, or one per layer (%zu)",
                         prior->n_var, m->n_prior_groups);
    if (!(prior->temperature > 0) || !isfinite(prior->temperature))
        return BNN_ERROR(BNN_EINVAL, "--temperature must be positive and finite (got %g)",
                         prior->temperature);
    post->model = m;
    post->backend = backend;
    post->temperature = prior->temperature;
    post->family = prior->family;
    post->prior_var = malloc((m->n_params ? m->n_params : 1) * sizeof(double));
    if (!post->prior_var) return BNN_ERROR(BNN_ENOMEM, "out of memory for the prior");
    for (size_t k = 0; k < m->n_tensors; k++) {
        const bnn_tensor *t = &m->tensors[k];
        double v = prior->var[prior->n_var == 1 ? 0 : t->prior_group];
        if (prior->divide_by_fan_in && !t->is_bias) v /= (double)t->fan_in;
        for (size_t i = t->offset; i < t->offset + t->size; i++) post->prior_var[i] = v;
    }
    post->log_prior_norm = bnn_prior_log_norm(&post->family, post->prior_var, m->n_params);
    return BNN_OK;
}

void bnn_posterior_free(bnn_posterior *post)
{
    free(post->prior_var);
    post->prior_var = NULL;
}

static bnn_status posterior_logp_grad(void *ctx, const double *theta, double *grad,
                                      bnn_logp *out)
{
    bnn_posterior *post = ctx;
    const size_t P = post->model->n_params;
    double log_lik;
    BNN_TRY(post->backend.ops->loglik_grad(post->backend.ctx, theta, grad, &log_lik));
    double log_prior = post->log_prior_norm +
                       bnn_prior_log_kernel(&post->family, theta, post->prior_var, P, grad);
    const double inv_t = 1 / post->temperature;
    if (grad)
        for (size_t i = 0; i < P; i++) grad[i] *= inv_t;
    out->log_lik = log_lik;
    out->log_prior = log_prior;
    out->logp = (log_lik + log_prior) * inv_t;
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
    bnn_prior_draw(&post->family, post->prior_var, post->model->n_params, scale, rng, theta);
}
