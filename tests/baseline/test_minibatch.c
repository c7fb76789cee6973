/* The mini-batch gradient (backend op loglik_grad_rows, and the bnn_minibatch target over it):
 *  - over an epoch of batches that divide N, the mean of (N/B)·(batch gradient) equals the
 *    full-data gradient to rounding, and so does the plain sum of batch gradients when the last
 *    batch is short;
 *  - the mini-batch target (log posterior with N/B scaling) averaged over one epoch equals the
 *    full-data log posterior's gradient;
 *  - the same batch gives the same bits with 1 and 3 threads;
 * for float64 and float32, on an MLP over generated classification data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu.h"
#include "baseline/minibatch.h"
#include "core/rng.h"
#include "model/posterior.h"

#define N 120
#define D 5
#define CLASSES 3
#define ARCH "mlp:7,4"
#define BLOCK 16

static double xs[N * D], ys[N];

struct model {
    bnn_net net;
    bnn_cpu_data *data;
    bnn_backend backend;
    bnn_posterior post;
};

static int model_init(struct model *m, bnn_precision prec, size_t threads)
{
    memset(m, 0, sizeof *m);
    const bnn_prior_options prior = {.n_var = 1, .var = {0.5}, .temperature = 0.7};
    return bnn_net_create(&m->net, ARCH, (bnn_input_shape){0, 0, D}, CLASSES, BNN_ACT_TANH,
                          BNN_LIK_CATEGORICAL, 1) != BNN_OK ||
           bnn_cpu_data_alloc(prec, D, xs, ys, N, NULL, 0, BLOCK, &m->data) != BNN_OK ||
           bnn_cpu_backend_alloc(&m->net, m->data, threads, &m->backend) != BNN_OK ||
           bnn_posterior_init(&m->post, &m->net, &prior, m->backend) != BNN_OK;
}

static void model_free(struct model *m)
{
    bnn_posterior_free(&m->post);
    bnn_backend_free(&m->backend);
    bnn_cpu_data_free(m->data);
    bnn_net_free(&m->net);
}

/* max_i |a_i - b_i| / max_i |b_i| */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs(a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
    }
    return s > 0 ? d / s : d;
}

/* One verdict line: relative difference against its tolerance. */
static int check(const char *what, double err, double tol)
{
    const int ok = err <= tol; /* false for NaN */
    printf("%s %s: relative difference %.2g (tol %.0e)\n", ok ? "ok" : "not ok", what, err, tol);
    return !ok;
}

/* Batches of `batch` rows of a random permutation, over one epoch: Σ (scale_b · g_b) / n_b vs
 * the full gradient, where scale_b = N/|b| and n_b = batches when `average`, else scale_b = 1
 * and n_b = 1 (the plain sum). */
static double epoch_vs_full(struct model *m, const size_t *perm, size_t batch, int average,
                            double *ll_err)
{
    const size_t P = m->net.n_params, n_batches = (N + batch - 1) / batch;
    double *full = calloc(P, sizeof(double)), *g = calloc(P, sizeof(double));
    double *acc = calloc(P, sizeof(double)), *theta = calloc(P, sizeof(double));
    double ll_full = 0, ll_acc = 0;
    bnn_rng rng;
    bnn_rng_init(&rng, 3, 1);
    bnn_rng_normals(&rng, theta, P);
    m->backend.ops->loglik_grad(m->backend.ctx, theta, full, &ll_full);
    for (size_t k = 0; k < n_batches; k++) {
        const size_t first = k * batch, n = N - first < batch ? N - first : batch;
        double ll;
        m->backend.ops->loglik_grad_rows(m->backend.ctx, theta, perm + first, n, g, &ll);
        const double w = average ? (double)N / (double)n / (double)n_batches : 1;
        ll_acc += w * ll;
        for (size_t i = 0; i < P; i++) acc[i] += w * g[i];
    }
    *ll_err = fabs(ll_acc - ll_full) / fabs(ll_full);
    const double err = rel_diff(acc, full, P);
    free(full);
    free(g);
    free(acc);
    free(theta);
    return err;
}

/* The mini-batch target over one epoch (B divides N): mean of ∇log π̂ vs ∇log π. */
static double target_epoch_vs_full(struct model *m, size_t batch)
{
    const size_t P = m->net.n_params;
    bnn_minibatch mb;
    bnn_rng rng;
    bnn_rng_init(&rng, 4, 2);
    double *full = calloc(P, sizeof(double)), *g = calloc(P, sizeof(double));
    double *acc = calloc(P, sizeof(double)), *theta = calloc(P, sizeof(double));
    bnn_rng_normals(&rng, theta, P);
    bnn_logp lp;
    bnn_target t_full = bnn_posterior_target(&m->post);
    t_full.logp_grad(t_full.ctx, theta, full, &lp);
    double err = INFINITY;
    if (bnn_minibatch_init(&mb, &m->post, N, batch, rng) == BNN_OK) {
        bnn_target t = bnn_minibatch_target(&mb);
        const size_t n_batches = bnn_minibatch_per_epoch(&mb);
        for (size_t k = 0; k < n_batches; k++) {
            t.logp_grad(t.ctx, theta, g, &lp);
            for (size_t i = 0; i < P; i++) acc[i] += g[i] / (double)n_batches;
        }
        err = rel_diff(acc, full, P);
        bnn_minibatch_free(&mb);
    }
    free(full);
    free(g);
    free(acc);
    free(theta);
    return err;
}

/* The same batch with 1 and 3 threads: identical bits? */
static int threads_identical(bnn_precision prec, const size_t *rows, size_t n)
{
    struct model a, b;
    int same = 0;
    if (!model_init(&a, prec, 1) && !model_init(&b, prec, 3)) {
        const size_t P = a.net.n_params;
        double *theta = calloc(P, sizeof(double)), *ga = calloc(P, sizeof(double));
        double *gb = calloc(P, sizeof(double)), lla, llb;
        bnn_rng rng;
        bnn_rng_init(&rng, 5, 0);
        bnn_rng_normals(&rng, theta, P);
        a.backend.ops->loglik_grad_rows(a.backend.ctx, theta, rows, n, ga, &lla);
        b.backend.ops->loglik_grad_rows(b.backend.ctx, theta, rows, n, gb, &llb);
        same = !memcmp(ga, gb, P * sizeof(double)) && !memcmp(&lla, &llb, sizeof lla);
        /* and the comparison can see a difference: another batch */
        b.backend.ops->loglik_grad_rows(b.backend.ctx, theta, rows + 1, n - 1, gb, &llb);
        same = same && memcmp(ga, gb, P * sizeof(double)) != 0;
        free(theta);
        free(ga);
        free(gb);
    }
    model_free(&a);
    model_free(&b);
    return same;
}

int main(void)
{
    bnn_rng rng;
    bnn_rng_init(&rng, 1, 0);
    bnn_rng_normals(&rng, xs, N * D);
    for (size_t r = 0; r < N; r++) ys[r] = (double)((size_t)(3 * bnn_rng_uniform(&rng)) % CLASSES);
    size_t perm[N];
    for (size_t i = 0; i < N; i++) perm[i] = (i * 37 + 11) % N; /* a permutation: gcd(37, N) = 1 */
    int failures = 0;
    const struct {
        bnn_precision prec;
        const char *name;
        double tol;
    } precs[2] = {{BNN_F64, "float64", 1e-12}, {BNN_F32, "float32", 1e-6}};
    for (int p = 0; p < 2; p++) {
        struct model m;
        char what[128];
        if (model_init(&m, precs[p].prec, 2) != 0) {
            printf("not ok %s set-up: %s\n", precs[p].name, bnn_last_error());
            return 1;
        }
        double ll_err, err = epoch_vs_full(&m, perm, 24, 1, &ll_err);
        snprintf(what, sizeof what, "%s, batches of 24: mean of (N/B)-scaled batch gradients vs "
                 "full", precs[p].name);
        failures += check(what, err, precs[p].tol);
        snprintf(what, sizeof what, "%s, batches of 24: log-likelihood", precs[p].name);
        failures += check(what, ll_err, precs[p].tol);
        snprintf(what, sizeof what, "%s, batches of 50 (last 20): sum of batch gradients vs full",
                 precs[p].name);
        failures += check(what, epoch_vs_full(&m, perm, 50, 0, &ll_err), precs[p].tol);
        snprintf(what, sizeof what, "%s, mini-batch target over an epoch of batches of 30 vs "
                 "the full log posterior's gradient", precs[p].name);
        failures += check(what, target_epoch_vs_full(&m, 30), precs[p].tol);
        const int same = threads_identical(precs[p].prec, perm + 7, 45);
        printf("%s %s, a batch of 45 rows (3 blocks): 1 and 3 threads give the same bits, and "
               "another batch other bits\n", same ? "ok" : "not ok", precs[p].name);
        failures += !same;
        model_free(&m);
    }
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
