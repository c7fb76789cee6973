/* Finite-difference gradient check of a network's block log-likelihood. */
#include "nn/cnn_gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* Buffers of one check: θ and data in double and in the analytic gradient's precision. */
struct check {
    const bnn_net *net;
    const double *x, *y;
    size_t rows;
    double *theta, *work64;     /* θ (P), double workspace */
    void *theta_p, *x_p, *grad_p, *work_p; /* in opt->prec */
};

static double loglik64(struct check *c)
{
    return c->net->ops->block_loglik(c->net->impl, BNN_F64, c->theta, c->x, c->y, c->rows, NULL,
                                     c->work64);
}

/* The analytic gradient, converted to double into g (P). */
static void analytic(struct check *c, bnn_precision prec, double *g)
{
    const size_t P = c->net->n_params, n = c->rows * c->net->n_inputs;
    const void *theta = c->theta, *x = c->x;
    if (prec == BNN_F32) {
        for (size_t i = 0; i < P; i++) ((float *)c->theta_p)[i] = (float)c->theta[i];
        for (size_t i = 0; i < n; i++) ((float *)c->x_p)[i] = (float)c->x[i];
        theta = c->theta_p;
        x = c->x_p;
    }
    c->net->ops->block_loglik(c->net->impl, prec, theta, x, c->y, c->rows, c->grad_p, c->work_p);
    for (size_t i = 0; i < P; i++)
        g[i] = prec == BNN_F32 ? ((float *)c->grad_p)[i] : ((double *)c->grad_p)[i];
}

static void draw_theta(const bnn_net *net, bnn_rng *rng, double *theta)
{
    bnn_rng_normals(rng, theta, net->n_params);
    for (size_t k = 0; k < net->n_tensors; k++) {
        const bnn_tensor *t = &net->tensors[k];
        double sd = t->is_bias ? 0.1 : 1 / sqrt((double)(t->fan_in ? t->fan_in : 1));
        for (size_t i = 0; i < t->size; i++) theta[t->offset + i] *= sd;
    }
}

/* Central difference of the double log-likelihood in coordinate i with step h. */
static double central(struct check *c, size_t i, double h)
{
    double keep = c->theta[i];
    c->theta[i] = keep + h;
    double up = loglik64(c);
    c->theta[i] = keep - h;
    double down = loglik64(c);
    c->theta[i] = keep;
    return (up - down) / (2 * h);
}

/* Checks coordinate i: differences with steps h and h/2 that disagree by more than tol mean a
 * kink inside the stencil (TLU, max-pool, ReLU): the coordinate is counted as skipped.
 * Otherwise the result takes its relative error. */
static void check_coord(struct check *c, const bnn_gradcheck_options *opt, const double *g,
                        size_t i, size_t tensor, bnn_gradcheck_result *out)
{
    double fd = central(c, i, opt->step), fd_half = central(c, i, opt->step / 2);
    out->n_checked++;
    if (fabs(fd - fd_half) / fmax(fmax(fabs(fd), fabs(fd_half)), out->floor) > opt->kink_tol) {
        out->n_kinks++;
        return;
    }
    double err = fabs(g[i] - fd) / fmax(fmax(fabs(g[i]), fabs(fd)), out->floor);
    if (err > out->tensor_err[tensor]) out->tensor_err[tensor] = err;
    if (err >= out->max_rel_err) {
        out->max_rel_err = err;
        out->worst_analytic = g[i];
        out->worst_numeric = fd;
        bnn_net_param_name(c->net, i, out->worst, sizeof out->worst);
    }
}

static bnn_status run_checks(struct check *c, const bnn_gradcheck_options *opt, double *g,
                             bnn_gradcheck_result *out)
{
    const bnn_net *net = c->net;
    bnn_rng rng;
    bnn_rng_init(&rng, opt->seed, 0);
    draw_theta(net, &rng, c->theta);
    analytic(c, opt->prec, g);
    double gmax = 0;
    for (size_t i = 0; i < net->n_params; i++) gmax = fmax(gmax, fabs(g[i]));
    out->floor = 1e-3 * gmax + 1e-300;
    for (size_t k = 0; k < net->n_tensors; k++) {
        const bnn_tensor *t = &net->tensors[k];
        size_t n = t->size < opt->per_tensor ? t->size : opt->per_tensor;
        for (size_t j = 0; j < n; j++) {
            size_t i = n == t->size ? j : (size_t)(bnn_rng_uniform(&rng) * (double)t->size);
            check_coord(c, opt, g, t->offset + (i < t->size ? i : t->size - 1), k, out);
        }
    }
    return BNN_OK;
}

bnn_status bnn_net_gradcheck(const bnn_net *net, const double *x, const double *y, size_t rows,
                             const bnn_gradcheck_options *opt, bnn_gradcheck_result *out)
{
    memset(out, 0, sizeof *out);
    if (rows == 0 || !(opt->step > 0))
        return BNN_ERROR(BNN_EINVAL, "gradcheck needs rows and a positive step");
    const size_t P = net->n_params, W = net->ops->workspace_len(net->impl, rows);
    struct check c = {.net = net, .x = x, .y = y, .rows = rows};
    c.theta = malloc(P * sizeof(double));
    c.work64 = malloc(W * sizeof(double));
    c.theta_p = malloc(P * sizeof(double));
    c.x_p = malloc(rows * net->n_inputs * sizeof(double));
    c.grad_p = malloc(P * sizeof(double));
    c.work_p = malloc(W * sizeof(double));
    double *g = malloc(P * sizeof(double));
    bnn_status s = BNN_OK;
    if (!c.theta || !c.work64 || !c.theta_p || !c.x_p || !c.grad_p || !c.work_p || !g)
        s = BNN_ERROR(BNN_ENOMEM, "out of memory for the gradient check");
    else
        s = run_checks(&c, opt, g, out);
    free(c.theta);
    free(c.work64);
    free(c.theta_p);
    free(c.x_p);
    free(c.grad_p);
    free(c.work_p);
    free(g);
    return s;
}
