/* HMC with no training data samples the (tempered) prior: the mean (0) and the variance (v·T)
 * of every parameter within 4 MCSE, driving bnn_hmc directly over a CPU backend with 0 rows;
 * and the Laplace prior (variance v, untempered), from a Laplace draw of bnn_posterior. */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu.h"
#include "core_test_util.h"
#include "diag/diag.h"
#include "model/posterior.h"
#include "sample/hmc.h"

#define N_IN 2
#define N_CLASSES 2
#define ARCH "mlp:3"  /* 2·3 + 3 + 3·2 + 2 = 17 parameters */
#define MAX_P 17
#define CHAINS 4
#define WARMUP 200    /* discarded, although chains start with a prior draw */
#define DRAWS 20000
#define SEED 5
#define TOL_MCSE 4.0

struct sampler {
    bnn_net model;
    bnn_cpu_data *data;
    bnn_backend backend;
    bnn_posterior post;
};

static int sampler_init(struct sampler *s, const bnn_prior_options *prior)
{
    memset(s, 0, sizeof *s);
    const bnn_input_shape shape = {0, 0, N_IN};
    if (bnn_net_create(&s->model, ARCH, shape, N_CLASSES, BNN_ACT_TANH, BNN_LIK_CATEGORICAL, 1) ||
        s->model.n_params != MAX_P ||
        bnn_cpu_data_alloc(BNN_F64, N_IN, NULL, NULL, 0, NULL, 0, 8, &s->data) ||
        bnn_cpu_backend_alloc(&s->model, s->data, 1, &s->backend) ||
        bnn_posterior_init(&s->post, &s->model, prior, s->backend))
        return -1;
    return 0;
}

static void sampler_free(struct sampler *s)
{
    bnn_posterior_free(&s->post);
    bnn_backend_free(&s->backend);
    bnn_cpu_data_free(s->data);
    bnn_net_free(&s->model);
}

/* Runs one chain into draws (DRAWS, MAX_P); counts iterations whose log_lik is not exactly 0. */
static int run_chain(struct sampler *s, size_t chain, double *draws, size_t *nonzero_loglik)
{
    /* Unit mass, fixed ε. Prior sds are 0.5 to 2 (T=1, T=2): τ = 1 turns each coordinate's
     * oscillation (period 2π·sd) by 0.5 to 2 radians, away from π where θ² would barely move. */
    const bnn_hmc_options opt = {.step_size = 0.1, .traj_len = 1.0, .max_leapfrog = 100,
                                 .jitter = 0.3, .max_energy_error = 1000};
    bnn_hmc *h = NULL;
    bnn_rng rng;
    double theta0[MAX_P];
    bnn_rng_init(&rng, SEED, (uint32_t)chain);
    bnn_posterior_draw_prior(&s->post, &rng, 1, theta0);
    if (bnn_hmc_alloc(bnn_posterior_target(&s->post), &opt, &h) != BNN_OK ||
        bnn_hmc_set(h, theta0, rng) != BNN_OK) {
        bnn_hmc_free(h);
        return -1;
    }
    for (size_t it = 0; it < WARMUP + DRAWS; it++) {
        bnn_hmc_stats st;
        if (bnn_hmc_iterate(h, 1, &st) != BNN_OK) {
            bnn_hmc_free(h);
            return -1;
        }
        *nonzero_loglik += st.logp.log_lik != 0;
        if (it >= WARMUP) memcpy(draws + (it - WARMUP) * MAX_P, h->theta, MAX_P * sizeof(double));
    }
    bnn_hmc_free(h);
    return 0;
}

/* Prior variance of parameter i of the options in main, written out by hand: layer0.w (2, 3)
 * 0.5 / 2, layer0.b (3) 0.5, layer1.w (3, 2) 2.0 / 3, layer1.b (2) 2.0. */
static double prior_var(size_t i)
{
    return i < 6 ? 0.25 : i < 9 ? 0.5 : i < 15 ? 2.0 / 3.0 : 2.0;
}

/* Verdict lines for parameter i: mean 0 and E θ² = var, both within TOL_MCSE. */
static int check_param(bnn_diag_ws *ws, const char *tag, const struct sampler *s,
                       const double *draws, size_t i, double var, double *q)
{
    char name[64], what[128];
    int failures = 0;
    bnn_net_param_name(&s->model, i, name, sizeof name);
    for (int square = 0; square <= 1; square++) {
        for (size_t k = 0; k < CHAINS * DRAWS; k++)
            q[k] = square ? draws[k * MAX_P + i] * draws[k * MAX_P + i] : draws[k * MAX_P + i];
        double est = bnn_diag_mean(q, DRAWS, CHAINS, DRAWS);
        double mcse = bnn_diag_mcse_mean(ws, q, DRAWS, CHAINS, DRAWS);
        double ess = bnn_diag_ess_mean(ws, q, DRAWS, CHAINS, DRAWS);
        snprintf(what, sizeof what, "%s %s %s", tag, square ? "E[theta^2]" : "mean", name);
        failures += !core_check_mcse(what, est, square ? var : 0.0, mcse, ess, TOL_MCSE);
    }
    return failures;
}

/* Samples the prior given by `prior` (no data) and checks every parameter. */
static int check_prior(bnn_diag_ws *ws, const char *tag, const bnn_prior_options *prior)
{
    struct sampler s;
    double *draws = malloc(CHAINS * DRAWS * MAX_P * sizeof(double));
    double *q = malloc(CHAINS * DRAWS * sizeof(double));
    size_t nonzero = 0;
    int failures = 0;
    if (!draws || !q || sampler_init(&s, prior) != 0) {
        printf("not ok %s set-up: %s\n", tag, bnn_last_error());
        free(draws);
        free(q);
        return 1;
    }
    /* chain-major (CHAINS, DRAWS, MAX_P): quantity k = c·DRAWS + i has stride DRAWS per chain */
    for (size_t c = 0; c < CHAINS && failures == 0; c++)
        if (run_chain(&s, c, draws + c * DRAWS * MAX_P, &nonzero) != 0) {
            printf("not ok %s sampling: %s\n", tag, bnn_last_error());
            failures++;
        }
    if (failures == 0) {
        printf("%s %s log_lik: %zu iterations with a nonzero log-likelihood (want 0)\n",
               nonzero ? "not ok" : "ok", tag, nonzero);
        failures += nonzero != 0;
        for (size_t i = 0; i < MAX_P; i++)
            failures += check_param(ws, tag, &s, draws, i, prior_var(i) * prior->temperature, q);
    }
    sampler_free(&s);
    free(draws);
    free(q);
    return failures;
}

int main(void)
{
    const bnn_prior_options plain = {.n_var = 2, .var = {0.5, 2.0}, .divide_by_fan_in = 1,
                                     .temperature = 1};
    bnn_prior_options tempered = plain;
    tempered.temperature = 2; /* the target is prior^(1/T): variances v·T */
    bnn_diag_ws *ws = NULL;
    if (bnn_diag_ws_alloc(DRAWS, CHAINS, &ws) != BNN_OK) {
        printf("not ok diagnostics workspace\n");
        return 1;
    }
    bnn_prior_options laplace = plain;
    laplace.family.kind = BNN_PRIOR_LAPLACE;
    int failures = check_prior(ws, "T=1", &plain) + check_prior(ws, "T=2", &tempered) +
                   check_prior(ws, "laplace", &laplace);
    bnn_diag_ws_free(ws);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
