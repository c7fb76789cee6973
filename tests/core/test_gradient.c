/* Gradient of the full log posterior by finite differences (float64) for every activation ×
 * likelihood × prior (Gaussian, the other families, tempered), its value against a naive direct
 * computation (prior densities from R's nmath), and float32 vs float64. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#define MATHLIB_STANDALONE 1
#include <Rmath.h>

#include "backend/cpu.h"
#include "core/rng.h"
#include "model/posterior.h"
#include "prior_ref.h"

#define N_ROWS 23      /* 23 rows in blocks of 8: blocks of 8, 8 and 7 rows */
#define BLOCK_ROWS 8
#define N_IN 5
#define N_CLASSES 3
#define N_HIDDEN 10    /* 6 + 4 hidden units */
#define ARCH "mlp:6,4"
#define NOISE_SD 0.7
#define SEED 20240601
#define TWO_PI 6.283185307179586476925286766559

/* Tolerances. Gradient: five-point central difference with step FD_STEP; the error of each
 * coordinate is |fd - analytic| / max(|fd|, |analytic|, GRAD_FLOOR), the floor keeping
 * near-zero coordinates from dividing rounding noise by nothing. */
#define FD_STEP 1e-4
#define GRAD_FLOOR 1e-2
#define GRAD_TOL 1e-6
#define VALUE_TOL 1e-11 /* relative, direct computation vs library (both double) */
#define F32_TOL 1e-3    /* relative per coordinate, same floor as above */
/* ReLU kinks: θ is redrawn until every hidden pre-activation is at least KINK_MARGIN from 0;
 * a coordinate whose stencil still flips the sign of any pre-activation is skipped, and the
 * check fails if more than a tenth of the coordinates are skipped. */
#define KINK_MARGIN 1e-3

static const char *const act_names[] = {"tanh", "relu", "swish", "erf"};
static const char *const lik_names[] = {"categorical", "gaussian", "bernoulli", "hetero-gaussian"};

struct prior_case {
    const char *name;
    bnn_prior_options opt;
};

static const struct prior_case priors[] = {
    {"single", {.n_var = 1, .var = {0.8}, .divide_by_fan_in = 0, .temperature = 1}},
    {"perlayer_fanin", {.n_var = 3, .var = {0.5, 2.0, 1.5}, .divide_by_fan_in = 1,
                        .temperature = 1}},
    {"tempered", {.n_var = 1, .var = {1.3}, .divide_by_fan_in = 0, .temperature = 0.37}},
    {"laplace", {.n_var = 1, .var = {0.8}, .temperature = 1,
                 .family = {.kind = BNN_PRIOR_LAPLACE}}},
    {"student_t_fanin_tempered", {.n_var = 3, .var = {0.5, 2.0, 1.5}, .divide_by_fan_in = 1,
                                  .temperature = 0.37,
                                  .family = {.kind = BNN_PRIOR_STUDENT_T, .nu = 3}}},
    {"logistic", {.n_var = 1, .var = {1.3}, .temperature = 1,
                  .family = {.kind = BNN_PRIOR_LOGISTIC}}},
    {"mixture_perlayer", {.n_var = 3, .var = {0.5, 2.0, 1.5}, .temperature = 1,
                          .family = {.kind = BNN_PRIOR_MIXTURE, .pi = 0.3, .s1 = 1.5,
                                     .s2 = 0.2}}},
};
#define N_PRIORS (sizeof priors / sizeof priors[0])
#define N_LIKS 4
#define N_COMBOS (4 * N_LIKS * N_PRIORS)

struct combo {
    bnn_activation act;
    bnn_likelihood lik;
    const struct prior_case *prior;
};

/* One posterior over the CPU backend (2 threads) on the generated data. */
struct problem {
    bnn_net model;
    bnn_cpu_data *data;
    bnn_backend backend;
    bnn_posterior post;
    bnn_target target;
    double x[N_ROWS * N_IN]; /* (N_ROWS, N_IN) */
    double y[N_ROWS];
};

/* Inputs N(0,1); targets a class (categorical), U(-3, 3) (both Gaussians) or 0/1 (Bernoulli). */
static void make_data(bnn_likelihood lik, double *x, double *y)
{
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, 0);
    bnn_rng_normals(&rng, x, N_ROWS * N_IN);
    for (size_t r = 0; r < N_ROWS; r++) {
        double u = bnn_rng_uniform(&rng);
        if (lik == BNN_LIK_CATEGORICAL) y[r] = floor(u * N_CLASSES);
        else if (lik == BNN_LIK_BERNOULLI) y[r] = u < 0.5 ? 0 : 1;
        else y[r] = 6 * (u - 0.5);
    }
}

static void problem_init(struct problem *p, const struct combo *c, bnn_precision prec)
{
    make_data(c->lik, p->x, p->y);
    size_t n_out = bnn_likelihood_n_logits(c->lik, N_CLASSES);
    bnn_input_shape shape = {0, 0, N_IN};
    assert_int_equal(bnn_net_create(&p->model, ARCH, shape, n_out, c->act, c->lik, NOISE_SD),
                     BNN_OK);
    assert_int_equal(bnn_cpu_data_alloc(prec, N_IN, p->x, p->y, N_ROWS, NULL, 0, BLOCK_ROWS,
                                        &p->data), BNN_OK);
    assert_int_equal(bnn_cpu_backend_alloc(&p->model, p->data, 2, &p->backend), BNN_OK);
    assert_int_equal(bnn_posterior_init(&p->post, &p->model, &c->prior->opt, p->backend), BNN_OK);
    p->target = bnn_posterior_target(&p->post);
}

static void problem_free(struct problem *p)
{
    bnn_posterior_free(&p->post);
    bnn_backend_free(&p->backend);
    bnn_cpu_data_free(p->data);
    bnn_net_free(&p->model);
}

static double act_ref(bnn_activation a, double z)
{
    switch (a) {
    case BNN_ACT_TANH: return tanh(z);
    case BNN_ACT_RELU: return z > 0 ? z : 0;
    case BNN_ACT_SWISH: return z / (1 + exp(-z));
    case BNN_ACT_ERF: return erf(z);
    }
    return NAN;
}

/* Log-likelihood of one row from its network outputs f (K). */
static double row_loglik_ref(bnn_likelihood lik, const double *f, size_t k, double y)
{
    if (lik == BNN_LIK_GAUSSIAN) {
        double r = (y - f[0]) / NOISE_SD;
        return -0.5 * r * r - log(NOISE_SD) - 0.5 * log(TWO_PI);
    }
    if (lik == BNN_LIK_HETERO_GAUSSIAN) { /* f = (μ, s), σ = softplus(s) + 1e-6 */
        double sd = log1p(exp(f[1])) + 1e-6, r = (y - f[0]) / sd;
        return -0.5 * r * r - log(sd) - 0.5 * log(TWO_PI);
    }
    if (lik == BNN_LIK_BERNOULLI) return y * f[0] - log1p(exp(f[0]));
    double top = f[0], s = 0;
    for (size_t j = 1; j < k; j++) top = f[j] > top ? f[j] : top;
    for (size_t j = 0; j < k; j++) s += exp(f[j] - top);
    return f[(size_t)y] - top - log(s);
}

/* Naive forward pass and log-likelihood with the layout of mlp.h recomputed here (per layer
 * w (in, out) row-major, then b (out)). signs (N_ROWS * N_HIDDEN) receives 1 where a hidden
 * pre-activation is positive; *min_abs the smallest |pre-activation|. */
static double loglik_ref(const struct problem *p, const double *theta, char *signs,
                         double *min_abs)
{
    const bnn_mlp *m = p->model.mlp;
    double ll = 0;
    *min_abs = INFINITY;
    for (size_t r = 0; r < N_ROWS; r++) {
        double in[16], out[16];
        size_t width = N_IN, off = 0, h = 0;
        memcpy(in, p->x + r * N_IN, N_IN * sizeof(double));
        for (size_t l = 0; l < m->n_layers; l++) {
            size_t o = m->width[l + 1];
            for (size_t j = 0; j < o; j++) {
                double z = theta[off + width * o + j];
                for (size_t i = 0; i < width; i++) z += in[i] * theta[off + i * o + j];
                out[j] = z;
            }
            off += width * o + o;
            if (l + 1 < m->n_layers)
                for (size_t j = 0; j < o; j++, h++) {
                    signs[r * N_HIDDEN + h] = out[j] > 0;
                    *min_abs = fabs(out[j]) < *min_abs ? fabs(out[j]) : *min_abs;
                    out[j] = act_ref(m->act, out[j]);
                }
            memcpy(in, out, o * sizeof(double));
            width = o;
        }
        assert_int_equal(off, m->n_params);
        ll += row_loglik_ref(m->lik, in, width, p->y[r]);
    }
    return ll;
}

/* The prior variance of parameter i, recomputed from the options. */
static double prior_var_ref(const bnn_mlp *m, const bnn_prior_options *o, size_t i)
{
    size_t off = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        double v = o->var[o->n_var == 1 ? 0 : l];
        size_t nw = m->width[l] * m->width[l + 1];
        if (i < off + nw) return o->divide_by_fan_in ? v / (double)m->width[l] : v;
        if (i < off + nw + m->width[l + 1]) return v;
        off += nw + m->width[l + 1];
    }
    return NAN;
}

static double logprior_ref(const bnn_mlp *m, const bnn_prior_options *o, const double *theta)
{
    double lp = 0;
    for (size_t i = 0; i < m->n_params; i++)
        lp += prior_log_density_ref(&o->family, prior_var_ref(m, o, i), theta[i]);
    return lp;
}

/* θ ~ N(0, 0.7²), redrawn until no hidden pre-activation is within KINK_MARGIN of 0. */
static void draw_theta(const struct problem *p, double *theta)
{
    bnn_rng rng;
    bnn_rng_init(&rng, SEED, 1);
    char signs[N_ROWS * N_HIDDEN];
    double min_abs;
    for (int tries = 0; tries < 100; tries++) {
        bnn_rng_normals(&rng, theta, p->model.n_params);
        for (size_t i = 0; i < p->model.n_params; i++) theta[i] *= 0.7;
        loglik_ref(p, theta, signs, &min_abs);
        if (min_abs >= KINK_MARGIN) return;
    }
    fail_msg("no parameter draw keeps the pre-activations away from 0");
}

static double logp_at(const struct problem *p, const double *theta, double *grad)
{
    bnn_logp lp;
    assert_int_equal(p->target.logp_grad(p->target.ctx, theta, grad, &lp), BNN_OK);
    return lp.logp;
}

static double rel_err(double a, double b)
{
    double d = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) / (d > GRAD_FLOOR ? d : GRAD_FLOOR);
}

/* Five-point central difference of logp along coordinate i; *kink set when a ReLU sign of any
 * row differs between the stencil points and θ (the coordinate is then skipped). */
static double fd_coordinate(const struct problem *p, double *theta, size_t i, int *kink)
{
    static const double offsets[4] = {-2, -1, 1, 2}, weights[4] = {1, -8, 8, -1};
    char base[N_ROWS * N_HIDDEN], signs[N_ROWS * N_HIDDEN];
    double min_abs, t0 = theta[i], sum = 0;
    loglik_ref(p, theta, base, &min_abs);
    *kink = 0;
    for (int k = 0; k < 4; k++) {
        theta[i] = t0 + offsets[k] * FD_STEP;
        sum += weights[k] * logp_at(p, theta, NULL);
        loglik_ref(p, theta, signs, &min_abs);
        if (memcmp(base, signs, sizeof base) != 0) *kink = 1;
    }
    theta[i] = t0;
    return sum / (12 * FD_STEP);
}

static void name_combo(const struct combo *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s/%s", act_names[c->act], lik_names[c->lik], c->prior->name);
}

static void test_fd_gradient(void **state)
{
    const struct combo *c = *state;
    struct problem p;
    problem_init(&p, c, BNN_F64);
    const size_t P = p.model.n_params;
    double *theta = malloc(P * sizeof(double)), *grad = malloc(P * sizeof(double));
    assert_non_null(theta);
    assert_non_null(grad);
    draw_theta(&p, theta);
    logp_at(&p, theta, grad);
    double worst = 0;
    size_t worst_i = 0, skipped = 0;
    for (size_t i = 0; i < P; i++) {
        int kink;
        double fd = fd_coordinate(&p, theta, i, &kink);
        if (kink) {
            skipped++;
            continue;
        }
        double e = rel_err(fd, grad[i]);
        if (e > worst || isnan(e)) worst = e, worst_i = i;
    }
    char name[64], pname[64];
    name_combo(c, name, sizeof name);
    bnn_net_param_name(&p.model, worst_i, pname, sizeof pname);
    int ok = worst < GRAD_TOL && skipped <= P / 10;
    print_message("%s gradient %s: %zu params, max rel err %.2e at %s (tol %.0e), %zu skipped\n",
                  ok ? "ok" : "not ok", name, P, worst, pname, GRAD_TOL, skipped);
    free(theta);
    free(grad);
    problem_free(&p);
    if (!ok) fail();
}

/* logp, log_lik and log_prior from the library equal the direct computation. */
static void test_value(void **state)
{
    const struct combo *c = *state;
    struct problem p;
    problem_init(&p, c, BNN_F64);
    double theta[256], min_abs;
    char signs[N_ROWS * N_HIDDEN];
    assert_true(p.model.n_params <= 256);
    draw_theta(&p, theta);
    bnn_logp lp;
    assert_int_equal(p.target.logp_grad(p.target.ctx, theta, NULL, &lp), BNN_OK);
    double ll = loglik_ref(&p, theta, signs, &min_abs);
    double pr = logprior_ref(p.model.mlp, &c->prior->opt, theta);
    double logp = (ll + pr) / c->prior->opt.temperature;
    double e_ll = fabs(lp.log_lik - ll) / fabs(ll), e_pr = fabs(lp.log_prior - pr) / fabs(pr);
    double e_lp = fabs(lp.logp - logp) / fabs(logp);
    double worst = fmax(e_ll, fmax(e_pr, e_lp));
    char name[64];
    name_combo(c, name, sizeof name);
    int ok = worst < VALUE_TOL;
    print_message("%s value %s: log_lik %.12g (direct %.12g), log_prior %.12g, logp %.12g; "
                  "max rel err %.1e (tol %.0e)\n", ok ? "ok" : "not ok", name, lp.log_lik, ll,
                  lp.log_prior, lp.logp, worst, VALUE_TOL);
    problem_free(&p);
    if (!ok) fail();
}

/* The float32 backend's gradient agrees with float64's coordinate by coordinate. */
static void test_f32(void **state)
{
    const struct combo *c = *state;
    struct problem p64, p32;
    problem_init(&p64, c, BNN_F64);
    problem_init(&p32, c, BNN_F32);
    const size_t P = p64.model.n_params;
    double theta[256], g64[256], g32[256];
    assert_true(P <= 256);
    draw_theta(&p64, theta);
    double l64 = logp_at(&p64, theta, g64), l32 = logp_at(&p32, theta, g32);
    double worst = fabs(l64 - l32) / fabs(l64);
    size_t worst_i = P;
    for (size_t i = 0; i < P; i++) {
        double e = rel_err(g32[i], g64[i]);
        if (e > worst || isnan(e)) worst = e, worst_i = i;
    }
    char name[64], pname[64] = "logp";
    name_combo(c, name, sizeof name);
    if (worst_i < P) bnn_net_param_name(&p64.model, worst_i, pname, sizeof pname);
    int ok = worst < F32_TOL;
    print_message("%s float32 %s: max rel err %.2e at %s (tol %.0e)\n", ok ? "ok" : "not ok",
                  name, worst, pname, F32_TOL);
    problem_free(&p64);
    problem_free(&p32);
    if (!ok) fail();
}

/* A posterior with hyperparameters (layer and noise precisions, set by hand) has the log density
 * and gradient of the posterior whose --prior-var and --noise-sd are their inverses: the noise
 * precision rescales the backend's likelihood (computed at NOISE_SD), exactly. */
static void test_hyper_equals_fixed(void **state)
{
    (void)state;
    const double tau[4] = {2.5, 0.8, 1.7, 4.0}; /* tau.layer0..2, tau.noise */
    const struct prior_case fixed_prior = {
        "fixed", {.n_var = 3, .var = {1 / tau[0], 1 / tau[1], 1 / tau[2]}, .divide_by_fan_in = 1,
                  .temperature = 0.37}};
    struct prior_case hyper_prior = fixed_prior;
    hyper_prior.opt.hyper = (bnn_hyper_options){.layers = {1, 2, 1}, .noise = {1, 3, 2}};
    const struct combo ch = {BNN_ACT_TANH, BNN_LIK_GAUSSIAN, &hyper_prior};
    struct problem h, f;
    problem_init(&h, &ch, BNN_F64);
    assert_int_equal(h.post.n_hyper, 4);
    h.post.n_obs = N_ROWS;
    bnn_posterior_set_hyper(&h.post, tau);
    /* the same data, a net whose σ is τ_noise^(-1/2) and a posterior without hyperparameters */
    make_data(BNN_LIK_GAUSSIAN, f.x, f.y);
    const bnn_input_shape shape = {0, 0, N_IN};
    assert_int_equal(bnn_net_create(&f.model, ARCH, shape, 1, BNN_ACT_TANH, BNN_LIK_GAUSSIAN,
                                    1 / sqrt(tau[3])), BNN_OK);
    assert_int_equal(bnn_cpu_data_alloc(BNN_F64, N_IN, f.x, f.y, N_ROWS, NULL, 0, BLOCK_ROWS,
                                        &f.data), BNN_OK);
    assert_int_equal(bnn_cpu_backend_alloc(&f.model, f.data, 2, &f.backend), BNN_OK);
    assert_int_equal(bnn_posterior_init(&f.post, &f.model, &fixed_prior.opt, f.backend), BNN_OK);
    f.target = bnn_posterior_target(&f.post);
    const size_t P = h.model.n_params;
    double theta[256], gh[256], gf[256];
    assert_true(P <= 256);
    draw_theta(&h, theta);
    bnn_logp lh, lf;
    assert_int_equal(h.target.logp_grad(h.target.ctx, theta, gh, &lh), BNN_OK);
    assert_int_equal(f.target.logp_grad(f.target.ctx, theta, gf, &lf), BNN_OK);
    double worst = fmax(fabs(lh.log_lik - lf.log_lik) / fabs(lf.log_lik),
                        fmax(fabs(lh.log_prior - lf.log_prior) / fabs(lf.log_prior),
                             fabs(lh.logp - lf.logp) / fabs(lf.logp)));
    for (size_t i = 0; i < P; i++) worst = fmax(worst, rel_err(gh[i], gf[i]));
    int ok = worst < VALUE_TOL;
    print_message("%s hyperparameters set by hand equal the fixed prior and noise: log_lik %.12g, "
                  "log_prior %.12g; max rel err %.1e (tol %.0e)\n", ok ? "ok" : "not ok",
                  lh.log_lik, lh.log_prior, worst, VALUE_TOL);
    problem_free(&h);
    problem_free(&f);
    if (!ok) fail();
}

int main(void)
{
    static struct combo combos[N_COMBOS];
    static char names[3 * N_COMBOS][80];
    static struct CMUnitTest tests[3 * N_COMBOS + 1];
    static const char *const kinds[3] = {"gradient", "value", "float32"};
    const CMUnitTestFunction fns[3] = {test_fd_gradient, test_value, test_f32};
    size_t n = 0;
    for (int a = 0; a < 4; a++)
        for (int l = 0; l < N_LIKS; l++)
            for (size_t q = 0; q < N_PRIORS; q++, n++)
                combos[n] = (struct combo){(bnn_activation)a, (bnn_likelihood)l, &priors[q]};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < N_COMBOS; i++) {
            char *name = names[k * N_COMBOS + i], combo_name[64];
            name_combo(&combos[i], combo_name, sizeof combo_name);
            snprintf(name, sizeof names[0], "%s %s", kinds[k], combo_name);
            tests[k * N_COMBOS + i] = (struct CMUnitTest){.name = name, .test_func = fns[k],
                                                          .initial_state = &combos[i]};
        }
    tests[3 * N_COMBOS] = (struct CMUnitTest){.name = "hyper equals fixed",
                                              .test_func = test_hyper_equals_fixed};
    return cmocka_run_group_tests_name("gradient", tests, NULL, NULL);
}
