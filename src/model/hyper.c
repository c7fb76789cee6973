/* Hyperparameters of hierarchical priors: which precision governs which parameters, their
 * names and initial values, the variances they set, and their Gibbs updates. */
#include "model/hyper.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/prior.h"

bnn_status bnn_gamma_prior_parse(const char *flag, const char *text, bnn_gamma_prior *out)
{
    double v[2];
    const char *p = text + 6;
    int ok = !strncmp(text, "gamma:", 6);
    for (int i = 0; ok && i < 2; i++) {
        char *end;
        errno = 0;
        v[i] = strtod(p, &end);
        ok = end != p && !errno && isfinite(v[i]) && v[i] > 0 && *end == (i ? '\0' : ',');
        p = end + 1;
    }
    if (!ok)
        return BNN_ERROR(BNN_EINVAL, "%s '%s': expected gamma:SHAPE,RATE with SHAPE and RATE "
                                     "positive (a Gamma prior of a precision, mean SHAPE/RATE)",
                         flag, text);
    *out = (bnn_gamma_prior){.on = 1, .shape = v[0], .rate = v[1]};
    return BNN_OK;
}

void bnn_gamma_prior_format(const bnn_gamma_prior *g, char *buf, size_t len)
{
    char a[32], b[32];
    bnn_format_double(a, sizeof a, g->shape);
    bnn_format_double(b, sizeof b, g->rate);
    snprintf(buf, len, "gamma:%s,%s", a, b);
}

bnn_status bnn_gamma_conditional_draw(const bnn_gamma_prior *g, double n, double S, double T,
                                      bnn_rng *rng, double *tau)
{
    const double shape = (0.5 * n + g->shape - 1) / T + 1, rate = (0.5 * S + g->rate) / T;
    if (!(shape > 0) || !(rate > 0) || !isfinite(shape) || !isfinite(rate))
        return BNN_ERROR(BNN_ENUM, "the conditional of a precision is not a proper Gamma "
                                   "(shape %g, rate %g; temperature %g)", shape, rate, T);
    const double t = bnn_rng_gamma(rng, shape) / rate;
    if (!(t > 0) || !isfinite(t))
        return BNN_ERROR(BNN_ENUM, "a precision drawn from Gamma(%g, %g) is %g", shape, rate, t);
    *tau = t;
    return BNN_OK;
}

bnn_status bnn_hyper_check(const bnn_net *net, const bnn_hyper_options *o)
{
    if (o->ard && !o->layers.on)
        return BNN_ERROR(BNN_EINVAL, "--ard needs --prior-hyper (the precisions of the other "
                                     "layers and of the first layer's biases)");
    if (o->ard && (!net->mlp || net->n_tensors == 0 || net->tensors[0].ndim != 2))
        return BNN_ERROR(BNN_EINVAL, "--ard needs an MLP (--arch linear or mlp:...)");
    if (o->noise.on && net->lik != BNN_LIK_GAUSSIAN)
        return BNN_ERROR(BNN_EINVAL, "--noise-hyper needs --likelihood gaussian (got %s)",
                         bnn_likelihood_name(net->lik));
    return BNN_OK;
}

/* Hyperparameters before the ARD ones: one per prior group with --prior-hyper. */
static size_t n_layer_hyper(const bnn_net *net, const bnn_hyper_options *o)
{
    return o->layers.on ? net->n_prior_groups : 0;
}

static size_t n_ard_hyper(const bnn_net *net, const bnn_hyper_options *o)
{
    return o->ard ? net->tensors[0].shape[0] : 0;
}

size_t bnn_hyper_count(const bnn_net *net, const bnn_hyper_options *o)
{
    return n_layer_hyper(net, o) + n_ard_hyper(net, o) + (o->noise.on ? 1 : 0);
}

void bnn_hyper_name(const bnn_net *net, const bnn_hyper_options *o, size_t k, char *buf,
                    size_t len)
{
    const size_t groups = n_layer_hyper(net, o), ard = n_ard_hyper(net, o);
    if (k >= groups + ard) {
        snprintf(buf, len, "tau.noise");
    } else if (k >= groups) {
        snprintf(buf, len, "tau.ard[%zu]", k - groups);
    } else { /* the group's first tensor, without its ".w" */
        size_t t = 0;
        while (t + 1 < net->n_tensors && net->tensors[t].prior_group != k) t++;
        const char *name = net->tensors[t].name, *dot = strrchr(name, '.');
        snprintf(buf, len, "tau.%.*s", (int)(dot ? (size_t)(dot - name) : strlen(name)), name);
    }
}

void bnn_hyper_initial(const bnn_net *net, const bnn_hyper_options *o, const double *var,
                       size_t n_var, double noise_sd, double *hyper)
{
    const size_t groups = n_layer_hyper(net, o), ard = n_ard_hyper(net, o);
    for (size_t g = 0; g < groups; g++) hyper[g] = 1 / var[n_var == 1 ? 0 : g];
    for (size_t j = 0; j < ard; j++) hyper[groups + j] = 1 / var[0];
    if (o->noise.on) hyper[groups + ard] = 1 / (noise_sd * noise_sd);
}

/* m_i of a tensor's elements: v_i = m_i / τ. */
static double tensor_m(const bnn_tensor *t, int divide_by_fan_in)
{
    return divide_by_fan_in && !t->is_bias ? 1 / (double)t->fan_in : 1;
}

void bnn_hyper_prior_var(const bnn_net *net, const bnn_hyper_options *o, int divide_by_fan_in,
                         const double *hyper, double *prior_var)
{
    const size_t groups = n_layer_hyper(net, o);
    for (size_t k = 0; o->layers.on && k < net->n_tensors; k++) {
        const bnn_tensor *t = &net->tensors[k];
        const int fan = divide_by_fan_in && !t->is_bias;
        if (o->ard && k == 0) { /* row j of layer0.w (in, out): the weights leaving input j */
            const size_t out = t->shape[1];
            for (size_t j = 0; j < t->shape[0]; j++) {
                double v = 1 / hyper[groups + j];
                if (fan) v /= (double)t->fan_in;
                for (size_t i = 0; i < out; i++) prior_var[t->offset + j * out + i] = v;
            }
            continue;
        }
        double v = 1 / hyper[t->prior_group];
        if (fan) v /= (double)t->fan_in;
        for (size_t i = t->offset; i < t->offset + t->size; i++) prior_var[i] = v;
    }
}

/* Σ x_i² / m over n numbers. */
static double squares(const double *x, size_t n, double m)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i] * x[i];
    return s / m;
}

bnn_status bnn_hyper_gibbs(const bnn_net *net, const bnn_hyper_options *o, int divide_by_fan_in,
                           const double *theta, double ssr, size_t n_obs, double temperature,
                           bnn_rng *rng, double *hyper)
{
    const size_t groups = n_layer_hyper(net, o), ard = n_ard_hyper(net, o);
    for (size_t g = 0; g < groups; g++) {
        double S = 0, n = 0;
        for (size_t k = 0; k < net->n_tensors; k++) {
            const bnn_tensor *t = &net->tensors[k];
            if (t->prior_group != g || (o->ard && k == 0)) continue;
            S += squares(theta + t->offset, t->size, tensor_m(t, divide_by_fan_in));
            n += (double)t->size;
        }
        BNN_TRY(bnn_gamma_conditional_draw(&o->layers, n, S, temperature, rng, &hyper[g]));
    }
    if (ard) {
        const bnn_tensor *t = &net->tensors[0];
        const size_t out = t->shape[1];
        const double m = tensor_m(t, divide_by_fan_in);
        for (size_t j = 0; j < ard; j++)
            BNN_TRY(bnn_gamma_conditional_draw(&o->layers, (double)out,
                                               squares(theta + t->offset + j * out, out, m),
                                               temperature, rng, &hyper[groups + j]));
    }
    if (o->noise.on)
        BNN_TRY(bnn_gamma_conditional_draw(&o->noise, (double)n_obs, ssr, temperature, rng,
                                           &hyper[groups + ard]));
    return BNN_OK;
}
