/* Geweke's (2004) joint-distribution test of the hierarchical prior's Gibbs updates, on linear
 * regression with 3 weights and a bias, 5 fixed inputs, a Gamma prior on the weights' precision
 * (per layer, or per input with ARD) and on the noise precision:
 *
 *   marginal-conditional:  τ ~ p(τ), θ ~ p(θ | τ), y ~ p(y | θ, τ_noise), independent draws;
 *   successive-conditional: a chain alternating HMC on θ | τ, y (bnn_hmc over bnn_posterior and
 *     the CPU backend), the Gibbs update of τ | θ, y (bnn_posterior_gibbs) and a new
 *     y ~ p(y | θ, τ_noise), whose stationary distribution is the same joint.
 *
 * The means of θ_i, θ_i², every τ, y_j and y_j² must agree: z = difference / √(MCSE² + SE²)
 * within TOL_Z for each, MCSE from the chain's ESS (posterior's method). A negative control runs
 * the chain with a Gibbs prior shape off by one and must be caught (some |z| > TOL_Z). Last, the
 * tempered conditional: a chain without data at T = 2 against the closed form. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu.h"
#include "diag/diag.h"
#include "model/posterior.h"
#include "sample/hmc.h"

#define N_IN 3
#define N_OBS 5
#define P (N_IN + 1)
#define MC_DRAWS 200000
#define SC_ITERS 200000
#define SC_BURN 1000
#define TOL_Z 4.0
#define SEED 424242

/* Test functions: θ_i, θ_i², τ_k (up to N_IN + 2), y_j, y_j². */
#define MAX_HYPER (N_IN + 2)
#define MAX_Q (2 * P + MAX_HYPER + 2 * N_OBS)

struct config {
    const char *name;
    int ard, fan_in;
    bnn_gamma_prior layers, noise;
};

struct sim {
    bnn_net model;
    bnn_cpu_data *data;
    bnn_backend backend;
    bnn_posterior post;
    double x[N_OBS * N_IN];
    size_t n_hyper, n_q;
};

/* f = x·w + b for θ = (w (N_IN), b), the layout of --arch linear. */
static void predict(const double *x, const double *theta, double *f)
{
    for (size_t r = 0; r < N_OBS; r++) {
        f[r] = theta[N_IN];
        for (size_t j = 0; j < N_IN; j++) f[r] += x[r * N_IN + j] * theta[j];
    }
}

/* y_r ~ N(f_r, 1 / τ_noise). */
static void draw_y(bnn_rng *rng, const double *x, const double *theta, double tau_noise, double *y)
{
    double f[N_OBS], z[N_OBS];
    predict(x, theta, f);
    bnn_rng_normals(rng, z, N_OBS);
    for (size_t r = 0; r < N_OBS; r++) y[r] = f[r] + z[r] / sqrt(tau_noise);
}

static size_t test_functions(const struct sim *s, const double *theta, const double *hyper,
                             const double *y, double *q)
{
    size_t k = 0;
    for (size_t i = 0; i < P; i++) q[k++] = theta[i];
    for (size_t i = 0; i < P; i++) q[k++] = theta[i] * theta[i];
    for (size_t h = 0; h < s->n_hyper; h++) q[k++] = hyper[h];
    for (size_t r = 0; r < N_OBS; r++) q[k++] = y[r];
    for (size_t r = 0; r < N_OBS; r++) q[k++] = y[r] * y[r];
    return k;
}

static void q_name(const struct sim *s, size_t k, char *buf, size_t len)
{
    char h[32];
    if (k < P) snprintf(buf, len, "theta[%zu]", k);
    else if (k < 2 * P) snprintf(buf, len, "theta[%zu]^2", k - P);
    else if (k < 2 * P + s->n_hyper) {
        bnn_hyper_name(&s->model, &s->post.prior.hyper, k - 2 * P, h, sizeof h);
        snprintf(buf, len, "%s", h);
    } else if (k < 2 * P + s->n_hyper + N_OBS) snprintf(buf, len, "y[%zu]", k - 2 * P - s->n_hyper);
    else snprintf(buf, len, "y[%zu]^2", k - 2 * P - s->n_hyper - N_OBS);
}

static int sim_init(struct sim *s, const struct config *c, const bnn_gamma_prior *gibbs_layers)
{
    memset(s, 0, sizeof *s);
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, 99);
    bnn_rng_normals(&rng, s->x, N_OBS * N_IN);
    double y0[N_OBS] = {0};
    bnn_prior_options prior = {.n_var = 1, .var = {1}, .divide_by_fan_in = c->fan_in,
                               .temperature = 1,
                               .hyper = {.layers = *gibbs_layers, .ard = c->ard,
                                         .noise = c->noise}};
    const bnn_input_shape shape = {0, 0, N_IN};
    if (bnn_net_create(&s->model, "linear", shape, 1, BNN_ACT_TANH, BNN_LIK_GAUSSIAN, 1.0) ||
        s->model.n_params != P ||
        bnn_cpu_data_alloc(BNN_F64, N_IN, s->x, y0, N_OBS, NULL, 0, 8, &s->data) ||
        bnn_cpu_backend_alloc(&s->model, s->data, 1, &s->backend) ||
        bnn_posterior_init(&s->post, &s->model, &prior, s->backend))
        return -1;
    s->post.n_obs = N_OBS;
    s->n_hyper = s->post.n_hyper;
    s->n_q = 2 * P + s->n_hyper + 2 * N_OBS;
    return s->n_hyper <= MAX_HYPER ? 0 : -1;
}

static void sim_free(struct sim *s)
{
    bnn_posterior_free(&s->post);
    bnn_backend_free(&s->backend);
    bnn_cpu_data_free(s->data);
    bnn_net_free(&s->model);
}

/* One joint draw in the hyperparameters' order: layer precision(s), ARD precisions, noise. */
static void marginal_draw(const struct sim *s, const struct config *c, bnn_rng *rng,
                          double *theta, double *hyper, double *y)
{
    for (size_t h = 0; h < s->n_hyper; h++) {
        const bnn_gamma_prior *g = h + 1 == s->n_hyper ? &c->noise : &c->layers;
        hyper[h] = bnn_rng_gamma(rng, g->shape) / g->rate;
    }
    double z[P];
    bnn_rng_normals(rng, z, P);
    for (size_t i = 0; i < P; i++) {
        /* weights: the ARD precision of their input, or the layer's; bias: the layer's */
        double tau = i < N_IN && c->ard ? hyper[1 + i] : hyper[0];
        double m = i < N_IN && c->fan_in ? 1.0 / N_IN : 1.0;
        theta[i] = z[i] * sqrt(m / tau);
    }
    draw_y(rng, s->x, theta, hyper[s->n_hyper - 1], y);
}

/* Runs both simulations; returns the largest |z| and prints a line per quantity if verbose. */
static double geweke(const struct config *c, const bnn_gamma_prior *gibbs_layers, int verbose,
                     int *setup_failed)
{
    struct sim s;
    memset(&s, 0, sizeof s);
    *setup_failed = 0;
    double *mc = malloc((size_t)MC_DRAWS * MAX_Q * sizeof(double));
    double *sc = malloc((size_t)SC_ITERS * MAX_Q * sizeof(double));
    double *col = malloc((size_t)(SC_ITERS > MC_DRAWS ? SC_ITERS : MC_DRAWS) * sizeof(double));
    bnn_diag_ws *ws = NULL;
    bnn_hmc *h = NULL;
    double worst = NAN;
    if (!mc || !sc || !col || sim_init(&s, c, gibbs_layers) != 0 ||
        bnn_diag_ws_alloc(SC_ITERS, 1, &ws) != BNN_OK) {
        printf("not ok %s set-up: %s\n", c->name, bnn_last_error());
        *setup_failed = 1;
        goto done;
    }
    bnn_rng rng;
    double theta[P], hyper[MAX_HYPER], y[N_OBS];
    bnn_rng_init(&rng, SEED, 1);
    for (size_t d = 0; d < MC_DRAWS; d++) {
        marginal_draw(&s, c, &rng, theta, hyper, y);
        test_functions(&s, theta, hyper, y, mc + d * s.n_q);
    }
    /* the chain starts at a joint draw: θ, τ, y */
    marginal_draw(&s, c, &rng, theta, hyper, y);
    bnn_posterior_set_hyper(&s.post, hyper);
    bnn_cpu_data_set_targets(s.data, y);
    const bnn_hmc_options opt = {.step_size = 0.05, .traj_len = 1.0, .max_leapfrog = 100,
                                 .jitter = 0.5, .max_energy_error = 1000};
    bnn_rng hmc_rng;
    bnn_rng_init(&hmc_rng, SEED, 2);
    if (bnn_hmc_alloc(bnn_posterior_target(&s.post), &opt, &h) != BNN_OK ||
        bnn_hmc_set(h, theta, hmc_rng) != BNN_OK) {
        printf("not ok %s sampler: %s\n", c->name, bnn_last_error());
        *setup_failed = 1;
        goto done;
    }
    size_t accepted = 0;
    for (size_t it = 0; it < SC_BURN + SC_ITERS; it++) {
        bnn_hmc_stats st;
        if (bnn_hmc_iterate(h, 1, &st) != BNN_OK ||
            bnn_posterior_gibbs(&s.post, h->theta, h->current.log_lik, &h->rng) != BNN_OK) {
            printf("not ok %s iteration %zu: %s\n", c->name, it, bnn_last_error());
            *setup_failed = 1;
            goto done;
        }
        draw_y(&h->rng, s.x, h->theta, s.post.hyper[s.n_hyper - 1], y);
        bnn_cpu_data_set_targets(s.data, y);
        if (bnn_hmc_refresh(h) != BNN_OK) {
            printf("not ok %s refresh at iteration %zu: %s\n", c->name, it, bnn_last_error());
            *setup_failed = 1;
            goto done;
        }
        accepted += (size_t)st.accepted;
        if (it >= SC_BURN)
            test_functions(&s, h->theta, s.post.hyper, y, sc + (it - SC_BURN) * s.n_q);
    }
    worst = 0;
    for (size_t k = 0; k < s.n_q; k++) {
        for (size_t d = 0; d < MC_DRAWS; d++) col[d] = mc[d * s.n_q + k];
        double m_mc = bnn_diag_mean(col, MC_DRAWS, 1, MC_DRAWS), v = 0;
        for (size_t d = 0; d < MC_DRAWS; d++) v += (col[d] - m_mc) * (col[d] - m_mc);
        double se_mc = sqrt(v / (MC_DRAWS - 1) / MC_DRAWS);
        for (size_t t = 0; t < SC_ITERS; t++) col[t] = sc[t * s.n_q + k];
        double m_sc = bnn_diag_mean(col, SC_ITERS, 1, SC_ITERS);
        double mcse = bnn_diag_mcse_mean(ws, col, SC_ITERS, 1, SC_ITERS);
        double ess = bnn_diag_ess_mean(ws, col, SC_ITERS, 1, SC_ITERS);
        double z = (m_sc - m_mc) / sqrt(mcse * mcse + se_mc * se_mc);
        worst = !(fabs(z) <= worst) ? fabs(z) : worst; /* NaN stays */
        if (verbose) {
            char name[48];
            q_name(&s, k, name, sizeof name);
            printf("%s %s mean %s: successive-conditional %.5g (MCSE %.2g, ESS %.0f), "
                   "marginal-conditional %.5g (SE %.2g): z %+.2f (tol %.0f)\n",
                   fabs(z) <= TOL_Z ? "ok" : "not ok", c->name, name, m_sc, mcse, ess, m_mc,
                   se_mc, z, TOL_Z);
        }
    }
    if (verbose)
        printf("# %s: HMC acceptance %.3f over %d iterations\n", c->name,
               (double)accepted / (SC_BURN + SC_ITERS), SC_BURN + SC_ITERS);
done:
    bnn_hmc_free(h);
    bnn_diag_ws_free(ws);
    sim_free(&s);
    free(mc);
    free(sc);
    free(col);
    return worst;
}

/* Without data at temperature T the chain targets [p(θ | τ) p(τ)]^(1/T): integrating θ out, τ
 * is Gamma(n (1/(2T) − 1/2) + (a − 1)/T + 1, b/T) and θ_i | τ ~ N(0, T/τ). With n = 4, a = 5,
 * b = 2, T = 2: Gamma(2, 1), so E τ = 2 and E θ_i² = T E[1/τ] = 2. */
static int tempered_check(void)
{
    const double T = 2, want_tau = 2, want_sq = 2;
    bnn_net model;
    bnn_cpu_data *data = NULL;
    bnn_backend backend = {0};
    bnn_posterior post;
    bnn_hmc *h = NULL;
    bnn_diag_ws *ws = NULL;
    memset(&post, 0, sizeof post);
    const bnn_input_shape shape = {0, 0, N_IN};
    bnn_prior_options prior = {.n_var = 1, .var = {1}, .temperature = T,
                               .hyper = {.layers = {1, 5, 2}}};
    const bnn_hmc_options opt = {.step_size = 0.1, .traj_len = 1.5, .max_leapfrog = 100,
                                 .jitter = 0.5, .max_energy_error = 1000};
    double *tau = malloc(SC_ITERS * sizeof(double)), *sq = malloc(SC_ITERS * sizeof(double));
    double theta[P] = {0.1, -0.2, 0.3, 0.05};
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, 7);
    int failures = 0;
    if (!tau || !sq || bnn_net_create(&model, "linear", shape, 1, BNN_ACT_TANH,
                                      BNN_LIK_GAUSSIAN, 1.0) ||
        bnn_cpu_data_alloc(BNN_F64, N_IN, NULL, NULL, 0, NULL, 0, 8, &data) ||
        bnn_cpu_backend_alloc(&model, data, 1, &backend) ||
        bnn_posterior_init(&post, &model, &prior, backend) ||
        bnn_hmc_alloc(bnn_posterior_target(&post), &opt, &h) || bnn_hmc_set(h, theta, rng) ||
        bnn_diag_ws_alloc(SC_ITERS, 1, &ws)) {
        printf("not ok tempered set-up: %s\n", bnn_last_error());
        failures = 1;
    }
    for (size_t it = 0; !failures && it < SC_BURN + SC_ITERS; it++) {
        bnn_hmc_stats st;
        if (bnn_hmc_iterate(h, 1, &st) ||
            bnn_posterior_gibbs(&post, h->theta, h->current.log_lik, &h->rng) ||
            bnn_hmc_refresh(h)) {
            printf("not ok tempered iteration %zu: %s\n", it, bnn_last_error());
            failures = 1;
        } else if (it >= SC_BURN) {
            tau[it - SC_BURN] = post.hyper[0];
            sq[it - SC_BURN] = h->theta[0] * h->theta[0];
        }
    }
    for (int k = 0; !failures && k < 2; k++) {
        const double *x = k ? sq : tau, want = k ? want_sq : want_tau;
        double m = bnn_diag_mean(x, SC_ITERS, 1, SC_ITERS);
        double mcse = bnn_diag_mcse_mean(ws, x, SC_ITERS, 1, SC_ITERS);
        double z = (m - want) / mcse;
        int ok = fabs(z) <= TOL_Z;
        printf("%s tempered T=2 without data: mean %s %.5g, exact %g (%+.2f MCSE, MCSE %.2g; "
               "tol %.0f)\n", ok ? "ok" : "not ok", k ? "theta[0]^2" : "tau.layer0", m, want, z,
               mcse, TOL_Z);
        failures += !ok;
    }
    bnn_diag_ws_free(ws);
    bnn_hmc_free(h);
    bnn_posterior_free(&post);
    bnn_backend_free(&backend);
    bnn_cpu_data_free(data);
    bnn_net_free(&model);
    free(tau);
    free(sq);
    return failures;
}

int main(void)
{
    const struct config configs[] = {
        {"layer+noise, fan-in", 0, 1, {1, 3, 2}, {1, 5, 2}},
        {"ard+layer+noise", 1, 0, {1, 3, 2}, {1, 5, 2}},
    };
    int failures = 0, setup;
    for (size_t k = 0; k < sizeof configs / sizeof configs[0]; k++) {
        double worst = geweke(&configs[k], &configs[k].layers, 1, &setup);
        int ok = !setup && worst <= TOL_Z;
        printf("%s %s: largest |z| %.2f over all test functions (tol %.0f)\n", ok ? "ok" : "not ok",
               configs[k].name, worst, TOL_Z);
        failures += !ok;
    }
    /* negative control: the chain's Gibbs step believes the layer prior has shape + 1 */
    bnn_gamma_prior wrong = configs[0].layers;
    wrong.shape += 1;
    double worst = geweke(&configs[0], &wrong, 0, &setup);
    int caught = !setup && worst > TOL_Z;
    printf("%s negative control: a Gibbs step with the layer prior's shape off by one is caught "
           "(largest |z| %.2f > %.0f)\n", caught ? "ok" : "not ok", worst, TOL_Z);
    failures += !caught;
    failures += tempered_check();
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
