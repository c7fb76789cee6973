/* Dual averaging of the step size and windowed diagonal mass estimation, following Stan. */
#include "sample/adapt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bnn_dual_avg_init(bnn_dual_avg *d, double delta, double eps0)
{
    *d = (bnn_dual_avg){.delta = delta, .gamma = 0.05, .t0 = 10, .kappa = 0.75};
    bnn_dual_avg_restart(d, eps0);
}

void bnn_dual_avg_restart(bnn_dual_avg *d, double eps0)
{
    d->mu = log(10 * eps0);
    d->counter = 0;
    d->s_bar = 0;
    d->x_bar = 0;
}

double bnn_dual_avg_update(bnn_dual_avg *d, double accept_prob)
{
    double a = accept_prob > 1 ? 1 : accept_prob;
    d->counter += 1;
    double eta = 1 / (d->counter + d->t0);
    d->s_bar = (1 - eta) * d->s_bar + eta * (d->delta - a);
    double x = d->mu - d->s_bar * sqrt(d->counter) / d->gamma;
    double x_eta = pow(d->counter, -d->kappa);
    d->x_bar = (1 - x_eta) * d->x_bar + x_eta * x;
    return exp(x);
}

double bnn_dual_avg_final(const bnn_dual_avg *d) { return exp(d->x_bar); }

static void window_restart(bnn_mass_adapt *a)
{
    a->window_counter = 0;
    a->window_size = a->base_window;
    a->next_window = a->init_buffer + a->window_size - 1;
}

bnn_status bnn_mass_adapt_init(bnn_mass_adapt *a, size_t dim, size_t n_warmup, int enabled)
{
    memset(a, 0, sizeof *a);
    a->dim = dim;
    a->n_warmup = n_warmup;
    a->enabled = enabled && n_warmup >= 20;
    a->init_buffer = 75;
    a->term_buffer = 50;
    a->base_window = 25;
    if (a->init_buffer + a->base_window + a->term_buffer > n_warmup) {
        a->init_buffer = (size_t)(0.15 * (double)n_warmup);
        a->term_buffer = (size_t)(0.1 * (double)n_warmup);
        a->base_window = n_warmup - (a->init_buffer + a->term_buffer);
    }
    window_restart(a);
    if (!a->enabled) return BNN_OK;
    a->mean = calloc(dim ? dim : 1, sizeof(double));
    a->m2 = calloc(dim ? dim : 1, sizeof(double));
    if (!a->mean || !a->m2) {
        bnn_mass_adapt_free(a);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for mass-matrix adaptation");
    }
    return BNN_OK;
}

void bnn_mass_adapt_free(bnn_mass_adapt *a)
{
    free(a->mean);
    free(a->m2);
    a->mean = a->m2 = NULL;
}

static int in_window(const bnn_mass_adapt *a)
{
    return a->window_counter >= a->init_buffer &&
           a->window_counter < a->n_warmup - a->term_buffer && a->window_counter != a->n_warmup;
}

static int window_ends(const bnn_mass_adapt *a)
{
    return a->window_counter == a->next_window && a->window_counter != a->n_warmup;
}

static void compute_next_window(bnn_mass_adapt *a)
{
    const size_t last = a->n_warmup - a->term_buffer - 1;
    if (a->next_window == last) return;
    a->window_size *= 2;
    a->next_window = a->window_counter + a->window_size;
    if (a->next_window != last && a->next_window + 2 * a->window_size >= a->n_warmup - a->term_buffer)
        a->next_window = last;
}

int bnn_mass_adapt_update(bnn_mass_adapt *a, const double *theta, double *inv_mass)
{
    if (!a->enabled) return 0;
    if (in_window(a)) {
        a->n++;
        for (size_t i = 0; i < a->dim; i++) {
            double delta = theta[i] - a->mean[i];
            a->mean[i] += delta / (double)a->n;
            a->m2[i] += delta * (theta[i] - a->mean[i]);
        }
    }
    if (!window_ends(a)) {
        a->window_counter++;
        return 0;
    }
    compute_next_window(a);
    const double n = (double)a->n;
    for (size_t i = 0; i < a->dim; i++) {
        double var = n > 1 ? a->m2[i] / (n - 1) : 1;
        inv_mass[i] = (n / (n + 5)) * var + 1e-3 * (5 / (n + 5));
    }
    a->n = 0;
    memset(a->mean, 0, a->dim * sizeof(double));
    memset(a->m2, 0, a->dim * sizeof(double));
    a->window_counter++;
    return 1;
}
