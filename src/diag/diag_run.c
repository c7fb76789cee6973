/* Diagnosis of a run directory: reads run.json, streams every chain's weights.npy and fs.npy in
 * blocks of quantities (bounded memory) through worker threads, and reads stats.npy. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/npy.h"
#include "diag/align_run.h"
#include "diag/diag.h"
#include "diag/diag_internal.h"
#include "diag/diag_run.h"
#include "diag/diag_run_internal.h"
#include "store/run_store.h"

/* More chains than bnnmc sample allows means a damaged run.json, not a run. */
#define BNN_DIAG_MAX_CHAINS 4096

/* One chain's open .npy array. */
typedef struct {
    FILE *f;
    char path[1024];
    bnn_npy_header h;
} chain_array;

/* Opens DIR/chain_NNN/NAME; *missing = 1 (and BNN_OK) if the file does not exist. */
static bnn_status array_open(const char *dir, size_t chain, const char *name, chain_array *a,
                             int *missing)
{
    snprintf(a->path, sizeof a->path, "%s/chain_%03zu/%s", dir, chain, name);
    *missing = 0;
    a->f = fopen(a->path, "rb");
    if (!a->f) {
        if (errno == ENOENT) {
            *missing = 1;
            return BNN_OK;
        }
        return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", a->path, strerror(errno));
    }
    return bnn_npy_read_header(a->f, a->path, &a->h);
}

static void arrays_close(chain_array *a, size_t k)
{
    for (size_t c = 0; a && c < k; c++)
        if (a[c].f) fclose(a[c].f);
}

/* ---- run.json ----------------------------------------------------------------------------- */

/* run.json's hyper_names: the columns of each chain's hyper.npy. */
static bnn_status read_hyper_names(json_t *names, const char *path, bnn_diag_run *r)
{
    if (!json_is_array(names) || json_array_size(names) > (1u << 20))
        return BNN_ERROR(BNN_EFORMAT, "%s: hyper_names is not a list of names", path);
    r->n_hyper = json_array_size(names);
    r->hyper_names = calloc(r->n_hyper ? r->n_hyper : 1, sizeof *r->hyper_names);
    if (!r->hyper_names) return BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    for (size_t k = 0; k < r->n_hyper; k++) {
        const char *name = json_string_value(json_array_get(names, k));
        if (!name) return BNN_ERROR(BNN_EFORMAT, "%s: hyper_names[%zu] is not a string", path, k);
        snprintf(r->hyper_names[k], sizeof r->hyper_names[k], "%s", name);
    }
    return BNN_OK;
}

static bnn_status read_run_json(const char *dir, bnn_diag_run *r, size_t *n_params)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root && err.line < 1) return BNN_ERROR(BNN_EIO, "%s", err.text); /* names the file */
    if (!root)
        return BNN_ERROR(BNN_EFORMAT, "%s:%d:%d: %s", path, err.line, err.column, err.text);
    json_int_t chains = 0, np = 0, points = 0, outputs = 0, superchains = 1, burn_in = 0;
    json_int_t warmup = 0;
    json_t *params = NULL, *hyper = NULL;
    bnn_status st = BNN_OK;
    if (json_unpack_ex(root, &err, 0, "{s:{s:I, s?:I, s?:I, s?:I}, s:{s:I, s:o}, s?:I, s?:I, "
                       "s?:o}", "config", "chains", &chains, "superchains", &superchains,
                       "burn_in", &burn_in, "warmup", &warmup, "model", "n_params", &np,
                       "params", &params, "fs_points", &points, "fs_outputs", &outputs,
                       "hyper_names", &hyper) ||
        chains <= 0 || np < 0 || points < 0 || outputs < 0 || burn_in < 0 || warmup < 0)
        st = BNN_ERROR(BNN_EFORMAT, "%s: needs config.chains, model.n_params, model.params (%s)",
                       path, err.text);
    if (st == BNN_OK && json_is_false(json_object_get(root, "draws_are_samples")))
        st = BNN_ERROR(BNN_EINVAL, "%s: convergence diagnostics do not apply to this run "
                       "(method %s): each chain holds one trained network, not a chain of "
                       "draws; `bnnmc predict` reports its predictive performance", path,
                       json_string_value(json_object_get(root, "method")));
    if (st == BNN_OK && superchains == 0) superchains = 1;
    if (st == BNN_OK && (superchains < 0 || superchains > chains || chains % superchains))
        st = BNN_ERROR(BNN_EFORMAT, "%s: config.superchains = %lld does not divide config.chains "
                       "= %lld", path, (long long)superchains, (long long)chains);
    r->superchains = st == BNN_OK ? (size_t)superchains : 1;
    size_t fs_values;
    if (st == BNN_OK && chains > BNN_DIAG_MAX_CHAINS)
        st = BNN_ERROR(BNN_EFORMAT, "%s: config.chains = %lld, more than %d", path,
                       (long long)chains, BNN_DIAG_MAX_CHAINS);
    if (st == BNN_OK && __builtin_mul_overflow((size_t)points, (size_t)outputs, &fs_values))
        st = BNN_ERROR(BNN_EFORMAT, "%s: fs_points x fs_outputs overflows", path);
    if (st == BNN_OK) {
        r->n_chain = (size_t)chains;
        r->fs_points = (size_t)points;
        r->fs_outputs = (size_t)outputs;
        *n_params = (size_t)np;
        r->first_sampling = (size_t)burn_in + (size_t)warmup;
        st = bnn_store_read_params(params, path, *n_params, &r->blocks, &r->n_blocks);
    }
    if (st == BNN_OK && hyper) st = read_hyper_names(hyper, path, r);
    json_decref(root);
    return st;
}

/* ---- sample statistics ---------------------------------------------------------------------- */

static bnn_status chain_stats(const char *dir, size_t chain, bnn_diag_chain_stats *s)
{
    chain_array a = {0};
    int missing;
    memset(s, 0, sizeof *s);
    BNN_TRY(array_open(dir, chain, "stats.npy", &a, &missing));
    if (missing) return BNN_ERROR(BNN_EIO, "%s: missing", a.path);
    bnn_status st = bnn_stats_check_header(&a.h, a.path);
    double *v = NULL;
    if (st == BNN_OK && !(v = malloc((a.h.shape[0] ? a.h.shape[0] : 1) * BNN_N_STATS * sizeof *v)))
        st = BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    else if (st == BNN_OK)
        st = bnn_stats_read_rows(a.f, a.path, &a.h, 0, a.h.shape[0], v);
    fclose(a.f);
    if (st != BNN_OK) {
        free(v);
        return st;
    }
    /* Means over sampling iterations; E-BFMI as Stan computes it, a ratio of sums. */
    long double acc = 0, rate = 0, step = 0, leap = 0, depth = 0, e_sum = 0, diff2 = 0;
    double prev_e = NAN;
    for (size_t t = 0; t < a.h.shape[0]; t++) {
        const double *row = v + t * BNN_N_STATS;
        if (row[BNN_STAT_PHASE] != 2) continue;
        s->iterations++;
        acc += row[BNN_STAT_ACCEPT_PROB];
        rate += row[BNN_STAT_ACCEPTED];
        s->divergences += row[BNN_STAT_DIVERGENT] != 0;
        step += row[BNN_STAT_STEP_SIZE];
        leap += row[BNN_STAT_N_LEAPFROG];
        depth += row[BNN_STAT_TREE_DEPTH];
        e_sum += row[BNN_STAT_ENERGY];
        if (!isnan(prev_e)) diff2 += (row[BNN_STAT_ENERGY] - prev_e) * (row[BNN_STAT_ENERGY] - prev_e);
        prev_e = row[BNN_STAT_ENERGY];
    }
    long double n = (long double)s->iterations, e_mean = e_sum / n, e_var = 0;
    for (size_t t = 0; t < a.h.shape[0]; t++) {
        const double *row = v + t * BNN_N_STATS;
        if (row[BNN_STAT_PHASE] == 2) e_var += (row[BNN_STAT_ENERGY] - e_mean) * (row[BNN_STAT_ENERGY] - e_mean);
    }
    s->accept_prob = (double)(acc / n);
    s->accept_rate = (double)(rate / n);
    s->step_size = (double)(step / n);
    s->n_leapfrog = (double)(leap / n);
    s->tree_depth = (double)(depth / n);
    s->ebfmi = s->iterations > 1 ? (double)(diff2 / e_var) : NAN;
    free(v);
    return BNN_OK;
}

/* ---- streaming one space through the workers ------------------------------------------------ */

/* What a space computes beyond R-hat and ESS. */
typedef struct {
    const int *superchain_ids; /* (K) or NULL: nested R-hat */
    int moments;               /* means of x, x², x³, x⁴ */
    int pairs;                 /* per-chain means and 2-chain R-hat of every pair */
} space_plan;

typedef struct {
    bnn_diag_space *space;
    const space_plan *plan;
    const double *block;   /* (count, K, n): quantity j's chains at block + j * K * n */
    size_t first, count, K, n, member, n_members;
    bnn_diag_ws *ws;
    double *pair;          /* (2, n) scratch for one pair of chains */
} worker;

/* Moments, chain means and pairwise R-hat of quantity q, whose draws are x (K, n). */
static void worker_extras(worker *w, const double *x, size_t q)
{
    bnn_diag_space *sp = w->space;
    size_t K = w->K, n = w->n, Q = sp->n;
    if (w->plan->superchain_ids)
        sp->rhat_nested[q] = bnn_diag_rhat_nested(w->ws, x, n, K, n, w->plan->superchain_ids);
    if (w->plan->moments) {
        long double m[4] = {0};
        for (size_t i = 0; i < K * n; i++) {
            long double v = x[i], v2 = v * v;
            m[0] += v, m[1] += v2, m[2] += v2 * v, m[3] += v2 * v2;
        }
        for (size_t k = 0; k < 4; k++) sp->moments[k * Q + q] = (double)(m[k] / (long double)(K * n));
    }
    if (!w->plan->pairs) return;
    for (size_t c = 0; c < K; c++) sp->chain_mean[c * Q + q] = bnn_diag_mean(x + c * n, n, 1, n);
    for (size_t a = 0; a < K; a++)
        for (size_t b = a + 1; b < K; b++) {
            memcpy(w->pair, x + a * n, n * sizeof *x);
            memcpy(w->pair + n, x + b * n, n * sizeof *x);
            sp->pair_rhat[bnn_islands_pair_index(a, b, K) * Q + q] =
                bnn_diag_rhat(w->ws, w->pair, n, 2, n);
        }
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    for (size_t j = w->member; j < w->count; j += w->n_members) {
        bnn_diag_summary s;
        const double *x = w->block + j * w->K * w->n;
        if (bnn_diag_summarise(w->ws, x, w->n, w->K, w->n, BNN_DIAG_CONVERGENCE, &s) != BNN_OK)
            s.rhat = s.ess_bulk = s.ess_tail = NAN; /* cannot happen: the workspace fits */
        w->space->rhat[w->first + j] = s.rhat;
        w->space->ess_bulk[w->first + j] = s.ess_bulk;
        w->space->ess_tail[w->first + j] = s.ess_tail;
        worker_extras(w, x, w->first + j);
    }
    return NULL;
}

/* Reads quantities [first, first + count) of every chain's rows [skip, skip + n) into block. */
static bnn_status read_block(chain_array *a, size_t K, size_t skip, size_t n, size_t Q,
                             size_t first, size_t count, double *row, double *block)
{
    for (size_t c = 0; c < K; c++)
        for (size_t i = 0; i < n; i++) {
            BNN_TRY(bnn_npy_read_doubles(a[c].f, a[c].path, &a[c].h, (skip + i) * Q + first,
                                         count, row));
            for (size_t j = 0; j < count; j++) block[(j * K + c) * n + i] = row[j];
        }
    return BNN_OK;
}

/* Runs the workers over one block; the calling thread is member 0. */
static bnn_status run_workers(worker *w, size_t T)
{
    pthread_t tid[64];
    size_t started = 1;
    for (; started < T; started++)
        if (pthread_create(&tid[started], NULL, worker_run, &w[started])) break;
    worker_run(&w[0]);
    for (size_t t = started; t < T; t++) worker_run(&w[t]); /* threads that failed to start */
    for (size_t t = 1; t < started; t++) pthread_join(tid[t], NULL);
    return BNN_OK;
}

static bnn_status space_alloc(bnn_diag_space *sp, size_t Q, size_t n, size_t K,
                              const space_plan *plan)
{
    sp->present = 1;
    sp->n = Q;
    sp->draws = n;
    size_t q = Q ? Q : 1, pairs = K * (K - 1) / 2;
    sp->rhat = malloc(q * sizeof(double));
    sp->ess_bulk = malloc(q * sizeof(double));
    sp->ess_tail = malloc(q * sizeof(double));
    int ok = sp->rhat && sp->ess_bulk && sp->ess_tail;
    if (plan->superchain_ids) ok &= (sp->rhat_nested = malloc(q * sizeof(double))) != NULL;
    if (plan->moments) ok &= (sp->moments = malloc(4 * q * sizeof(double))) != NULL;
    if (plan->pairs) {
        ok &= (sp->chain_mean = malloc(K * q * sizeof(double))) != NULL;
        ok &= (sp->pair_rhat = malloc((pairs ? pairs : 1) * q * sizeof(double))) != NULL;
    }
    if (!ok) return BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory for %zu quantities", Q);
    return BNN_OK;
}

static bnn_status stream_space(chain_array *a, size_t K, size_t skip, size_t n, size_t Q,
                               const bnn_diag_run_options *opt, const space_plan *plan,
                               bnn_diag_space *sp)
{
    BNN_TRY(space_alloc(sp, Q, n, K, plan));
    size_t T = opt->threads < 1 ? 1 : opt->threads > 64 ? 64 : opt->threads;
    size_t bytes = opt->block_bytes ? opt->block_bytes : (size_t)64 << 20;
    size_t B = bytes / (K * n * sizeof(double));
    B = B < 1 ? 1 : B > Q ? Q : B;
    double *block = malloc(B * K * n * sizeof(double)), *row = malloc(B * sizeof(double));
    worker w[64] = {{0}};
    bnn_status st = block && row ? BNN_OK : BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    for (size_t t = 0; st == BNN_OK && t < T; t++) {
        w[t] = (worker){.space = sp, .plan = plan, .block = block, .K = K, .n = n, .member = t,
                        .n_members = T};
        st = bnn_diag_ws_alloc(n, K, &w[t].ws);
        if (st == BNN_OK && plan->pairs && !(w[t].pair = malloc(2 * n * sizeof(double))))
            st = BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    }
    for (size_t first = 0; st == BNN_OK && first < Q; first += B) {
        size_t count = Q - first < B ? Q - first : B;
        st = read_block(a, K, skip, n, Q, first, count, row, block);
        for (size_t t = 0; t < T; t++) {
            w[t].first = first;
            w[t].count = count;
        }
        if (st == BNN_OK) st = run_workers(w, T);
    }
    for (size_t t = 0; t < T; t++) {
        bnn_diag_ws_free(w[t].ws);
        free(w[t].pair);
    }
    free(block);
    free(row);
    return st;
}

/* Opens NAME in every chain; the space is absent if no chain has it. Rows per quantity: the
 * product of the trailing dimensions, which must be `expect` (or anything when expect = 0).
 * The first `skip` rows of each chain are left out (warm-up rows of an array of every
 * iteration). */
static bnn_status diagnose_space(const char *dir, const char *name, size_t expect, size_t skip,
                                 size_t K, const bnn_diag_run_options *opt,
                                 const space_plan *plan, bnn_diag_space *sp)
{
    chain_array *a = calloc(K, sizeof *a);
    if (!a) return BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    size_t n = SIZE_MAX, Q = 0, n_missing = 0;
    bnn_status st = BNN_OK;
    for (size_t c = 0; st == BNN_OK && c < K; c++) {
        int missing;
        st = array_open(dir, c, name, &a[c], &missing);
        if (st != BNN_OK || missing) {
            n_missing += missing;
            continue;
        }
        size_t rows = a[c].h.ndim ? a[c].h.shape[0] : 0;
        size_t q = rows ? a[c].h.count / rows : 0;
        if (a[c].h.ndim < 2 || (expect && q != expect) || (c > 0 && Q && q != Q))
            st = BNN_ERROR(BNN_EFORMAT, "%s: %zu values per draw, expected %zu", a[c].path, q,
                           expect ? expect : Q);
        Q = q;
        n = rows < n ? rows : n;
    }
    if (st == BNN_OK && n_missing && n_missing < K)
        st = BNN_ERROR(BNN_EFORMAT, "%s/chain_*/%s: present for %zu of %zu chains", dir, name,
                       K - n_missing, K);
    if (st == BNN_OK && n_missing == 0 && n < skip)
        st = BNN_ERROR(BNN_EFORMAT, "%s/chain_*/%s: %zu rows, fewer than the %zu of warm-up",
                       dir, name, n, skip);
    if (st == BNN_OK && n_missing == 0) st = stream_space(a, K, skip, n - skip, Q, opt, plan, sp);
    if (st == BNN_OK && sp->present) st = diag_space_summarise(sp);
    arrays_close(a, K);
    free(a);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantiles and fractions of the nested R-hat of a space. */
static bnn_status nested_summarise(bnn_diag_space *sp)
{
    double *tmp = malloc((sp->n ? sp->n : 1) * sizeof *tmp);
    if (!tmp) return BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    size_t k = 0, c[3] = {0};
    for (size_t i = 0; i < sp->n; i++)
        if (!isnan(sp->rhat_nested[i])) {
            double v = tmp[k++] = sp->rhat_nested[i];
            c[0] += v > 1.01, c[1] += v > 1.05, c[2] += v > 1.1;
        }
    qsort(tmp, k, sizeof *tmp, cmp_double);
    sp->nested_q50 = k ? diag_quantile7_sorted(tmp, k, 0.5) : NAN;
    sp->nested_q90 = k ? diag_quantile7_sorted(tmp, k, 0.9) : NAN;
    sp->nested_q99 = k ? diag_quantile7_sorted(tmp, k, 0.99) : NAN;
    sp->nested_max = k ? tmp[k - 1] : NAN;
    sp->nested_frac_gt_101 = k ? (double)c[0] / (double)k : NAN;
    sp->nested_frac_gt_105 = k ? (double)c[1] / (double)k : NAN;
    sp->nested_frac_gt_110 = k ? (double)c[2] / (double)k : NAN;
    free(tmp);
    return BNN_OK;
}

/* Nested summary and null reference of a computed space. */
static bnn_status space_finish(bnn_diag_space *sp, size_t K, const bnn_diag_run_options *opt)
{
    if (!sp->present) return BNN_OK;
    if (sp->rhat_nested) BNN_TRY(nested_summarise(sp));
    if (sp->draws < 4) return BNN_OK; /* too short for a null reference */
    BNN_TRY(bnn_null_rhat_compute(sp->rhat, sp->ess_bulk, sp->n, sp->draws, K,
                                  opt->null_reps ? opt->null_reps : 200, 20240601, &sp->null));
    sp->has_null = 1;
    return BNN_OK;
}

/* Aligns the run's weights (aligned_weights.npy) and diagnoses them. */
static bnn_status diagnose_aligned(const char *dir, size_t n_params, const bnn_diag_run_options *opt,
                                   const space_plan *plan, bnn_diag_run *r)
{
    bnn_align_run_options ao = {.mode = opt->align == 2 ? BNN_ALIGN_PER_CHAIN : BNN_ALIGN_PER_DRAW,
                                .threads = opt->threads};
    bnn_align_run_info info;
    BNN_TRY(bnn_align_run(dir, &ao, &info));
    r->align_mode = opt->align;
    r->align_changed = info.n_changed;
    r->align_mean_sweeps = info.mean_sweeps;
    return diagnose_space(dir, "aligned_weights.npy", n_params, 0, r->n_chain, opt, plan,
                          &r->weight_aligned);
}

/* Islands from the function space; prior-marginal check from the weight spaces. */
static bnn_status diagnose_extras(const char *dir, const bnn_diag_run_options *opt,
                                  bnn_diag_run *r)
{
    if (r->function.present && r->function.pair_rhat && r->fs_points && r->fs_outputs) {
        BNN_TRY(bnn_islands_compute(r->function.chain_mean, r->function.pair_rhat, r->n_chain,
                                    r->fs_points, r->fs_outputs, r->fs_outputs >= 2,
                                    opt->island_threshold, &r->islands));
        r->has_islands = 1;
    }
    if (!r->weight.present) return BNN_OK;
    size_t P = r->weight.n;
    double *prior_var = malloc((P ? P : 1) * sizeof *prior_var);
    bnn_marginal_block *blocks = calloc(r->n_blocks ? r->n_blocks : 1, sizeof *blocks);
    bnn_status st = prior_var && blocks ? bnn_marginals_prior_var(dir, P, prior_var)
                                        : BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    if (st == BNN_EFORMAT) { /* a run.json without the prior: no marginal check */
        free(prior_var);
        free(blocks);
        return BNN_OK;
    }
    for (size_t b = 0; st == BNN_OK && b < r->n_blocks; b++) {
        snprintf(blocks[b].name, sizeof blocks[b].name, "%s", r->blocks[b].name);
        blocks[b].offset = r->blocks[b].offset;
        blocks[b].size = r->blocks[b].size;
    }
    const bnn_diag_space *al = r->weight_aligned.present ? &r->weight_aligned : NULL;
    if (st == BNN_OK)
        st = bnn_marginals_compute(r->weight.moments, al ? al->moments : NULL, prior_var, P,
                                   blocks, r->n_blocks, r->weight.rhat, al ? al->rhat : NULL,
                                   &r->marginals);
    r->has_marginals = st == BNN_OK;
    free(prior_var);
    free(blocks);
    return st;
}

bnn_status bnn_diag_run_compute(const char *run_dir, const bnn_diag_run_options *opt,
                                bnn_diag_run **out)
{
    if (!run_dir || !opt || !out) return BNN_ERROR(BNN_EINVAL, "diagnose: NULL argument");
    bnn_diag_run *r = calloc(1, sizeof *r);
    if (!r) return BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    size_t n_params = 0;
    int *ids = NULL;
    bnn_status st = read_run_json(run_dir, r, &n_params);
    if (st == BNN_OK && (!(r->chain = calloc(r->n_chain, sizeof *r->chain)) ||
                         !(ids = malloc(r->n_chain * sizeof *ids))))
        st = BNN_ERROR(BNN_ENOMEM, "diagnose: out of memory");
    /* Chain c belongs to superchain floor(c / (K / S)), as bnnmc sample groups them. */
    for (size_t c = 0; st == BNN_OK && c < r->n_chain; c++)
        ids[c] = (int)(c / (r->n_chain / r->superchains));
    const int *nest = r->superchains > 1 ? ids : NULL;
    space_plan wplan = {nest, 1, 0}, fplan = {nest, 0, r->n_chain > 1};
    for (size_t c = 0; st == BNN_OK && c < r->n_chain; c++) st = chain_stats(run_dir, c, &r->chain[c]);
    if (st == BNN_OK)
        st = diagnose_space(run_dir, "weights.npy", n_params, 0, r->n_chain, opt, &wplan,
                            &r->weight);
    if (st == BNN_OK && opt->align && r->weight.present)
        st = diagnose_aligned(run_dir, n_params, opt, &wplan, r);
    if (st == BNN_OK)
        st = diagnose_space(run_dir, "fs.npy", r->fs_points * r->fs_outputs, 0, r->n_chain, opt,
                            &fplan, &r->function);
    space_plan hplan = {nest, 1, 0}; /* hyper.npy holds every iteration: skip the warm-up */
    if (st == BNN_OK && r->n_hyper)
        st = diagnose_space(run_dir, "hyper.npy", r->n_hyper, r->first_sampling, r->n_chain, opt,
                            &hplan, &r->hyper);
    bnn_diag_space *spaces[4] = {&r->weight, &r->weight_aligned, &r->function, &r->hyper};
    for (size_t k = 0; st == BNN_OK && k < 4; k++) st = space_finish(spaces[k], r->n_chain, opt);
    if (st == BNN_OK) st = diagnose_extras(run_dir, opt, r);
    free(ids);
    if (st != BNN_OK) {
        bnn_diag_run_free(r);
        return st;
    }
    *out = r;
    return BNN_OK;
}

static void space_free(bnn_diag_space *sp)
{
    free(sp->rhat);
    free(sp->ess_bulk);
    free(sp->ess_tail);
    free(sp->rhat_nested);
    free(sp->moments);
    free(sp->chain_mean);
    free(sp->pair_rhat);
}

void bnn_diag_run_free(bnn_diag_run *r)
{
    if (!r) return;
    space_free(&r->weight);
    space_free(&r->function);
    space_free(&r->weight_aligned);
    space_free(&r->hyper);
    free(r->hyper_names);
    bnn_islands_free(&r->islands);
    bnn_marginals_free(&r->marginals);
    free(r->blocks);
    free(r->chain);
    free(r);
}
