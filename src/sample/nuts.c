/* NUTS: the iterative doubling of Stan's base_nuts::transition over the recursive build_tree,
 * with multinomial sampling and the generalised no-U-turn criterion.
 *
 * Memory: Stan keeps the momenta p and the "sharp" momenta M⁻¹p; with a diagonal metric the
 * latter are recomputed inside the dot products, so only p is stored. The recursion is a single
 * path, so each depth d owns one set of buffers (struct level), allocated the first time the tree
 * gets that deep. The state being integrated is one of the two ends of the trajectory (fwd or
 * bck), advanced in place; the momentum at the end of a subtree is therefore the state's own.
 * Proposals are swapped by pointer, never copied, once a leaf has written them. */
#include "sample/nuts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A point of the trajectory that may become the draw. */
struct prop {
    double *theta, *grad;
    bnn_logp lp;
    double energy; /* H = -logp + ½ pᵀM⁻¹p */
};

/* An end of the trajectory: the integrator's state. */
struct end {
    double *theta, *grad, *p;
    bnn_logp lp;
};

/* Buffers of a subtree of depth d ≥ 1: the momentum sums of its two halves, the momenta on
 * either side of the seam between them, and the proposal of its second half. */
struct level {
    double *rho_init, *rho_final, *p_init_end, *p_final_beg;
    struct prop final;
};

struct bnn_nuts {
    bnn_hmc *s;
    size_t dim, max_depth;
    struct end fwd, bck;
    double *rho;       /* Σ p over the whole trajectory */
    double *rho_sub;   /* Σ p over the subtree being added */
    double *p_old;     /* momentum at the end the new subtree grows from (before it grows) */
    double *p_beg;     /* momentum at the first point of the new subtree */
    struct prop sample, propose;
    struct level *levels; /* [1, max_depth): levels[0] is unused */
    size_t n_levels;      /* levels allocated so far (1 + the deepest) */
    /* the transition in progress */
    struct end *z;     /* the end being advanced */
    double eps;        /* signed step */
    double h0;
    size_t n_leapfrog;
    double sum_metro_prob;
    int divergent;
};

static double *vec(size_t n) { return malloc((n ? n : 1) * sizeof(double)); }

static int prop_alloc(struct prop *p, size_t n)
{
    p->theta = vec(n);
    p->grad = vec(n);
    return p->theta && p->grad ? 0 : -1;
}

static void prop_free(struct prop *p)
{
    free(p->theta);
    free(p->grad);
}

bnn_status bnn_nuts_alloc(bnn_hmc *s, size_t max_depth, bnn_nuts **out)
{
    if (max_depth < 1 || max_depth > BNN_NUTS_MAX_DEPTH_LIMIT)
        return BNN_ERROR(BNN_EINVAL, "--max-depth must be between 1 and %d (got %zu)",
                         BNN_NUTS_MAX_DEPTH_LIMIT, max_depth);
    bnn_nuts *n = calloc(1, sizeof *n);
    if (!n) return BNN_ERROR(BNN_ENOMEM, "out of memory for the NUTS sampler");
    n->s = s;
    n->dim = s->dim;
    n->max_depth = max_depth;
    n->levels = calloc(max_depth, sizeof *n->levels);
    n->n_levels = 1;
    const size_t d = s->dim;
    double **v[] = {&n->fwd.theta, &n->fwd.grad, &n->fwd.p, &n->bck.theta, &n->bck.grad,
                    &n->bck.p,     &n->rho,      &n->rho_sub, &n->p_old,   &n->p_beg};
    int bad = !n->levels;
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) bad |= !(*v[k] = vec(d));
    bad |= prop_alloc(&n->sample, d) | prop_alloc(&n->propose, d);
    if (bad) {
        bnn_nuts_free(n);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for the NUTS sampler (dimension %zu)", d);
    }
    *out = n;
    return BNN_OK;
}

void bnn_nuts_free(bnn_nuts *n)
{
    if (!n) return;
    double *v[] = {n->fwd.theta, n->fwd.grad, n->fwd.p, n->bck.theta, n->bck.grad,
                   n->bck.p,     n->rho,      n->rho_sub, n->p_old,   n->p_beg};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) free(v[k]);
    prop_free(&n->sample);
    prop_free(&n->propose);
    for (size_t d = 1; n->levels && d < n->n_levels; d++) {
        struct level *l = &n->levels[d];
        free(l->rho_init);
        free(l->rho_final);
        free(l->p_init_end);
        free(l->p_final_beg);
        prop_free(&l->final);
    }
    free(n->levels);
    free(n);
}

/* The buffers of depth d, allocated on first use. */
static bnn_status level_at(bnn_nuts *n, size_t d, struct level **out)
{
    while (n->n_levels <= d) {
        struct level *l = &n->levels[n->n_levels];
        l->rho_init = vec(n->dim);
        l->rho_final = vec(n->dim);
        l->p_init_end = vec(n->dim);
        l->p_final_beg = vec(n->dim);
        int bad = prop_alloc(&l->final, n->dim) || !l->rho_init || !l->rho_final ||
                  !l->p_init_end || !l->p_final_beg;
        n->n_levels++; /* freed by bnn_nuts_free even when incomplete */
        if (bad)
            return BNN_ERROR(BNN_ENOMEM, "out of memory for a NUTS tree of depth %zu "
                                         "(dimension %zu)", d, n->dim);
    }
    *out = &n->levels[d];
    return BNN_OK;
}

/* Stan's log_sum_exp of two numbers. */
static double log_sum_exp(double a, double b)
{
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    double hi = a > b ? a : b, lo = a > b ? b : a;
    return hi + log1p(exp(lo - hi));
}

static double kinetic(const double *p, const double *inv_mass, size_t n)
{
    double k = 0;
    for (size_t i = 0; i < n; i++) k += p[i] * p[i] * inv_mass[i];
    return 0.5 * k;
}

/* The generalised no-U-turn criterion between two points with momenta a and b, for the summed
 * momentum rho = x + y (y NULL: rho = x): (M⁻¹a)·rho > 0 and (M⁻¹b)·rho > 0. */
static int criterion(const bnn_nuts *n, const double *a, const double *b, const double *x,
                     const double *y)
{
    const double *m = n->s->inv_mass;
    double da = 0, db = 0;
    for (size_t i = 0; i < n->dim; i++) {
        double r = y ? x[i] + y[i] : x[i];
        da += m[i] * a[i] * r;
        db += m[i] * b[i] * r;
    }
    return db > 0 && da > 0;
}

/* The three checks of a merge of an older part O (momenta at its far and near ends, momentum
 * sum rho_o) with the part N grown from O's near end (momenta at its first and last points,
 * sum rho_n): across the whole, and across each part extended by the neighbouring point of the
 * other. */
static int merge_ok(const bnn_nuts *n, const double *o_far, const double *o_near,
                    const double *rho_o, const double *n_beg, const double *n_end,
                    const double *rho_n)
{
    return criterion(n, o_far, n_end, rho_o, rho_n) &&
           criterion(n, o_far, n_beg, rho_o, n_beg) &&
           criterion(n, o_near, n_end, rho_n, o_near);
}

static void swap_prop(struct prop *a, struct prop *b)
{
    struct prop t = *a;
    *a = *b;
    *b = t;
}

/* One leapfrog step of the end z by the signed step eps; H at the new point (∞ when the
 * density or its gradient is not finite, which stops the step there). */
static bnn_status leapfrog(bnn_nuts *n, double *h)
{
    struct end *z = n->z;
    const double *m = n->s->inv_mass, eps = n->eps;
    const size_t d = n->dim;
    for (size_t i = 0; i < d; i++) z->p[i] += 0.5 * eps * z->grad[i];
    for (size_t i = 0; i < d; i++) z->theta[i] += eps * m[i] * z->p[i];
    BNN_TRY(n->s->target.logp_grad(n->s->target.ctx, z->theta, z->grad, &z->lp));
    n->n_leapfrog++;
    for (size_t i = 0; i < d; i++)
        if (!isfinite(z->grad[i])) z->lp.logp = NAN;
    if (!isfinite(z->lp.logp)) {
        *h = INFINITY;
        return BNN_OK;
    }
    for (size_t i = 0; i < d; i++) z->p[i] += 0.5 * eps * z->grad[i];
    *h = -z->lp.logp + kinetic(z->p, m, d);
    if (isnan(*h)) *h = INFINITY;
    return BNN_OK;
}

/* Builds a subtree of 2^depth leapfrog steps from the end n->z: its proposal into *prop, the
 * momentum of its first point into p_beg, its momentum sum into rho, its log summed weight
 * log Σ exp(H0 - H) into *log_w. *valid = 0 when it diverged or (depth ≥ 1) it or one of its
 * subtrees turned; the caller then discards it. */
static bnn_status build_tree(bnn_nuts *n, size_t depth, struct prop *prop, double *p_beg,
                             double *rho, double *log_w, int *valid)
{
    const size_t d = n->dim;
    if (depth == 0) {
        double h;
        BNN_TRY(leapfrog(n, &h));
        const double dh = n->h0 - h; /* -∞ for a non-finite point */
        if (!(h - n->h0 <= n->s->opt.max_energy_error)) n->divergent = 1;
        n->sum_metro_prob += dh > 0 ? 1 : exp(dh);
        *log_w = dh;
        *valid = !n->divergent;
        if (!*valid) return BNN_OK;
        memcpy(prop->theta, n->z->theta, d * sizeof(double));
        memcpy(prop->grad, n->z->grad, d * sizeof(double));
        prop->lp = n->z->lp;
        prop->energy = h;
        memcpy(p_beg, n->z->p, d * sizeof(double));
        memcpy(rho, n->z->p, d * sizeof(double));
        return BNN_OK;
    }
    struct level *l = NULL;
    BNN_TRY(level_at(n, depth, &l));
    double log_w_init = 0, log_w_final = 0;
    BNN_TRY(build_tree(n, depth - 1, prop, p_beg, l->rho_init, &log_w_init, valid));
    if (!*valid) return BNN_OK;
    memcpy(l->p_init_end, n->z->p, d * sizeof(double));
    BNN_TRY(build_tree(n, depth - 1, &l->final, l->p_final_beg, l->rho_final, &log_w_final,
                       valid));
    if (!*valid) return BNN_OK;
    /* multinomial sampling within the subtree: the second half in proportion to its weight */
    const double log_w_sub = log_sum_exp(log_w_init, log_w_final);
    *log_w = log_w_sub;
    if (log_w_final > log_w_sub || bnn_rng_uniform(&n->s->rng) < exp(log_w_final - log_w_sub))
        swap_prop(prop, &l->final);
    for (size_t i = 0; i < d; i++) rho[i] = l->rho_init[i] + l->rho_final[i];
    *valid = merge_ok(n, p_beg, l->p_init_end, l->rho_init, l->p_final_beg, n->z->p,
                      l->rho_final);
    return BNN_OK;
}

static void end_set(struct end *e, const bnn_hmc *s, const double *p0, size_t d)
{
    memcpy(e->theta, s->theta, d * sizeof(double));
    memcpy(e->grad, s->grad, d * sizeof(double));
    memcpy(e->p, p0, d * sizeof(double));
    e->lp = s->current;
}

bnn_status bnn_nuts_iterate(bnn_nuts *n, bnn_hmc_stats *st)
{
    bnn_hmc *s = n->s;
    const size_t d = n->dim;
    /* p ~ N(0, M) into rho (the sum over the one-point trajectory), then ε with jitter */
    double *p0 = n->rho;
    bnn_rng_normals(&s->rng, p0, d);
    for (size_t i = 0; i < d; i++) p0[i] /= sqrt(s->inv_mass[i]);
    double eps = s->step_size;
    if (s->opt.jitter > 0) eps *= 1 + s->opt.jitter * (2 * bnn_rng_uniform(&s->rng) - 1);
    n->h0 = -s->current.logp + kinetic(p0, s->inv_mass, d);
    end_set(&n->fwd, s, p0, d);
    end_set(&n->bck, s, p0, d);
    n->n_leapfrog = 0;
    n->sum_metro_prob = 0;
    n->divergent = 0;
    double log_w = 0; /* log Σ exp(H0 - H) over the trajectory: the start weighs exp(0) */
    int at_start = 1; /* the draw is still the starting point */
    size_t depth = 0;
    while (depth < n->max_depth) {
        const int forward = bnn_rng_uniform(&s->rng) > 0.5;
        n->z = forward ? &n->fwd : &n->bck;
        const struct end *other = forward ? &n->bck : &n->fwd;
        n->eps = forward ? eps : -eps;
        memcpy(n->p_old, n->z->p, d * sizeof(double));
        double log_w_sub;
        int valid;
        BNN_TRY(build_tree(n, depth, &n->propose, n->p_beg, n->rho_sub, &log_w_sub, &valid));
        if (!valid) break;
        depth++;
        /* biased progressive sampling: the new subtree at least in proportion to its weight */
        if (log_w_sub > log_w || bnn_rng_uniform(&s->rng) < exp(log_w_sub - log_w)) {
            swap_prop(&n->sample, &n->propose);
            at_start = 0;
        }
        log_w = log_sum_exp(log_w, log_w_sub);
        const int go_on = merge_ok(n, other->p, n->p_old, n->rho, n->p_beg, n->z->p, n->rho_sub);
        for (size_t i = 0; i < d; i++) n->rho[i] += n->rho_sub[i];
        if (!go_on) break;
    }
    const double h0 = n->h0;
    double energy = h0;
    if (!at_start) {
        memcpy(s->theta, n->sample.theta, d * sizeof(double));
        memcpy(s->grad, n->sample.grad, d * sizeof(double));
        s->current = n->sample.lp;
        energy = n->sample.energy;
    }
    *st = (bnn_hmc_stats){.accept_prob = n->sum_metro_prob / (double)n->n_leapfrog,
                          .accepted = !at_start, .divergent = n->divergent, .energy = energy,
                          .energy_error = energy - h0, .step_size = eps,
                          .n_leapfrog = n->n_leapfrog, .tree_depth = depth,
                          .logp = s->current};
    return BNN_OK;
}
