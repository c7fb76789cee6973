/* Running K chains: set-up from the configuration and data, one thread per chain group, the
 * per-iteration schedule (burn-in, warm-up adaptation, sampling) and its recording. */
#include "sample/run_internal.h"

#include "eval/bma.h"
#include "nn/symmetry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void bnn_run_config_defaults(bnn_run_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->arch, sizeof c->arch, "mlp:100");
    c->act = BNN_ACT_TANH;
    c->lik = BNN_LIK_CATEGORICAL;
    c->noise_sd = 1;
    c->prior = (bnn_prior_options){.n_var = 1, .var = {1}, .divide_by_fan_in = 0,
                                   .temperature = 1};
    c->precision = BNN_F32;
    c->sampler = BNN_SAMPLER_HMC;
    c->hmc = (bnn_hmc_options){.step_size = 1e-3, .traj_len = 0 /* 0: paper's default */,
                               .max_leapfrog = 1000, .jitter = 0, .max_energy_error = 1000};
    c->max_depth = 10;
    c->chains = 4;
    c->burn_in = 0;
    c->warmup = 200;
    c->samples = 500;
    c->thin = 1;
    c->metropolis = 1;
    c->target_accept = 0.8;
    c->adapt_step_size = 1;
    c->adapt_mass = 1;
    c->init_scale = 1;
    c->seed = 1;
    c->threads = 2;
    c->block_rows = 0; /* chosen from the model's size, see bnn_run_default_block_rows */
    c->data_shards = 8;
    c->rank_groups = 1;
    c->fs_points = 1000;
    c->checkpoint_interval = 10;
    snprintf(c->out_dir, sizeof c->out_dir, "runs/latest");
}

size_t bnn_run_default_block_rows(size_t n_params, size_t n_rows)
{
    /* Larger nets want larger blocks: the weight-gradient products then have a long inner
     * dimension, and each block's partial gradient (n_params numbers, written and summed once
     * per block) is amortised over more rows. But not so large that few blocks are left to
     * share among threads: at least 8 blocks, down to 256 rows. (Not the thread count itself:
     * the block size fixes the summation order, which must not depend on it.) */
    size_t b = n_params >= 1000000 ? 2048 : n_params >= 100000 ? 1024 : 256;
    while (b > 256 && n_rows < 8 * b) b /= 2;
    return b;
}

double bnn_run_default_traj_len(const bnn_run_config *c)
{
    double v = 0, k = bnn_prior_variance_factor(&c->prior.family);
    for (size_t i = 0; i < c->prior.n_var; i++) v = c->prior.var[i] > v ? c->prior.var[i] : v;
    if (isfinite(k)) v *= k; /* else (Student-t, ν ≤ 2) the squared scale: v itself */
    return 1.5707963267948966 * sqrt(v) * sqrt(c->prior.temperature);
}

static bnn_status check_config(const bnn_run_config *c)
{
    if (c->chains == 0 || c->chains > 4096)
        return BNN_ERROR(BNN_EINVAL, "--chains must be between 1 and 4096 (got %zu)", c->chains);
    if (c->threads == 0 || c->threads > 1024)
        return BNN_ERROR(BNN_EINVAL, "--threads must be between 1 and 1024 (got %zu)", c->threads);
    if (c->samples == 0) return BNN_ERROR(BNN_EINVAL, "--samples must be at least 1");
    if (c->superchains > 1 && c->chains % c->superchains != 0)
        return BNN_ERROR(BNN_EINVAL, "--superchains %zu must divide --chains %zu", c->superchains,
                         c->chains);
    if (c->thin == 0) return BNN_ERROR(BNN_EINVAL, "--thin must be at least 1");
    if (c->data_shards == 0 || c->data_shards > 65536)
        return BNN_ERROR(BNN_EINVAL, "--shards must be between 1 and 65536 (got %zu)",
                         c->data_shards);
    if (!(c->target_accept > 0 && c->target_accept < 1))
        return BNN_ERROR(BNN_EINVAL, "--target-accept must be in (0, 1) (got %g)",
                         c->target_accept);
    if (!(c->prior.temperature > 0) || !isfinite(c->prior.temperature))
        return BNN_ERROR(BNN_EINVAL, "--temperature must be positive and finite (got %g)",
                         c->prior.temperature);
    if (!(c->checkpoint_interval >= 0) || !isfinite(c->checkpoint_interval))
        return BNN_ERROR(BNN_EINVAL, "--checkpoint-interval must be finite and >= 0 (got %g)",
                         c->checkpoint_interval);
    if (c->sampler != BNN_SAMPLER_HMC && c->sampler != BNN_SAMPLER_NUTS)
        return BNN_ERROR(BNN_EINVAL, "--sampler must be hmc or nuts");
    if (c->max_depth < 1 || c->max_depth > BNN_NUTS_MAX_DEPTH_LIMIT)
        return BNN_ERROR(BNN_EINVAL, "--max-depth must be between 1 and %d (got %zu)",
                         BNN_NUTS_MAX_DEPTH_LIMIT, c->max_depth);
    if (c->sampler == BNN_SAMPLER_NUTS && !c->metropolis)
        return BNN_ERROR(BNN_EINVAL, "--no-mh is for --sampler hmc: NUTS has no Metropolis "
                                     "correction to switch off");
    if (!(c->init_scale >= 0) || !isfinite(c->init_scale))
        return BNN_ERROR(BNN_EINVAL, "--init-scale must be finite and >= 0 (got %g)",
                         c->init_scale);
    return BNN_OK;
}

bnn_status bnn_run_net_create(const bnn_run_config *c, const bnn_dataset *d, bnn_net *net)
{
    const int regression = bnn_likelihood_is_regression(c->lik);
    if (regression && d->task != BNN_TASK_REGRESS)
        return BNN_ERROR(BNN_EINVAL, "--likelihood %s needs a regression data set (--task "
                                     "regression)", bnn_likelihood_name(c->lik));
    if (!regression && d->task != BNN_TASK_CLASSIFY)
        return BNN_ERROR(BNN_EINVAL, "--likelihood %s needs class labels; use --likelihood "
                                     "gaussian or hetero-gaussian for regression",
                         bnn_likelihood_name(c->lik));
    const size_t n_out = bnn_likelihood_n_logits(c->lik, d->n_classes);
    if (c->lik == BNN_LIK_BERNOULLI && d->n_classes != 2)
        return BNN_ERROR(BNN_EINVAL, "--likelihood bernoulli needs labels 0 and 1 (the data "
                                     "have %zu classes)", d->n_classes);
    bnn_input_shape shape = {d->train.height, d->train.width, d->train.channels};
    if (!shape.height || !shape.width || !shape.channels)
        shape = (bnn_input_shape){0, 0, d->train.d};
    return bnn_net_create(net, c->arch, shape, n_out, c->act, c->lik, c->noise_sd);
}

static bnn_status setup_model(struct bnn_run *r)
{
    BNN_TRY(bnn_run_net_create(&r->cfg, r->data, &r->model));
    r->n_out = r->model.n_outputs;
    return bnn_prior_options_check(&r->cfg.prior, &r->model);
}

/* fs_points test rows, evenly spread: row i·n_test / M. */
static bnn_status choose_fs_points(struct bnn_run *r)
{
    size_t m = r->cfg.fs_points < r->n_test ? r->cfg.fs_points : r->n_test;
    r->cfg.fs_points = m;
    r->fs_index = malloc((m ? m : 1) * sizeof *r->fs_index);
    if (!r->fs_index) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) r->fs_index[i] = i * r->n_test / m;
    return BNN_OK;
}

static bnn_status chain_alloc(struct bnn_run *r, struct chain *ch, bnn_target target)
{
    const bnn_run_config *c = &r->cfg;
    const size_t P = r->model.n_params, out = r->n_test * r->n_out;
    BNN_TRY(bnn_hmc_alloc(target, &c->hmc, &ch->hmc));
    if (c->sampler == BNN_SAMPLER_NUTS) BNN_TRY(bnn_nuts_alloc(ch->hmc, c->max_depth, &ch->nuts));
    BNN_TRY(bnn_mass_adapt_init(&ch->mass, P, c->warmup, c->adapt_mass));
    ch->probs = calloc(out ? out : 1, sizeof(double));
    ch->bma_sum = calloc(out ? out : 1, sizeof(double));
    ch->bma_logdens = calloc(r->n_test ? r->n_test : 1, sizeof(double));
    ch->bma_sumsq = calloc(r->n_test ? r->n_test : 1, sizeof(double));
    size_t row = P > c->fs_points * r->n_out ? P : c->fs_points * r->n_out;
    ch->row = malloc((row ? row : 1) * sizeof(double));
    ch->fs_row = malloc((c->fs_points * r->n_out + 1) * sizeof(double));
    if (c->symmetry_moves) {
        if (!r->model.mlp)
            return BNN_ERROR(BNN_EINVAL, "--symmetry-moves needs an MLP (--arch linear or mlp:...)");
        ch->unit_scratch = malloc((bnn_mlp_max_hidden_width(r->model.mlp) + 1) * sizeof(size_t));
        if (!ch->unit_scratch) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    }
    if (!ch->probs || !ch->bma_sum || !ch->bma_logdens || !ch->bma_sumsq || !ch->row ||
        !ch->fs_row)
        return BNN_ERROR(BNN_ENOMEM, "out of memory for chain %zu", ch->index);
    for (size_t i = 0; i < r->n_test; i++) ch->bma_logdens[i] = -INFINITY;
    const char *descr = c->precision == BNN_F32 ? "<f4" : "<f8";
    size_t rows[5];
    if (r->resume) BNN_TRY(bnn_run_chain_restore(r, ch, rows, &ch->restored));
    if (!r->writer) return BNN_OK;
    const bnn_chain_shape shape = {P, c->fs_points, r->n_out, ch->post.n_hyper};
    if (ch->restored)
        return bnn_store_chain_reopen(c->out_dir, ch->index, descr, &shape, rows, &ch->files);
    return bnn_store_chain_open(c->out_dir, ch->index, descr, &shape, &ch->files);
}

static void chain_free(struct chain *ch)
{
    bnn_posterior_free(&ch->post);
    bnn_nuts_free(ch->nuts);
    bnn_hmc_free(ch->hmc);
    bnn_mass_adapt_free(&ch->mass);
    free(ch->probs);
    free(ch->bma_sum);
    free(ch->bma_logdens);
    free(ch->bma_sumsq);
    free(ch->row);
    free(ch->fs_row);
    free(ch->unit_scratch);
}

/* Initial state: θ₀ = init_scale × a prior draw, from the chain's own stream, or with
 * superchains from the superchain's stream (key word 1 = 2^31 + superchain), so that the chains
 * of a superchain share their start; with --init-from, the source run's final weights. */
static bnn_status chain_init(struct bnn_run *r, struct chain *ch)
{
    ch->last_checkpoint = now_seconds();
    if (ch->restored) return BNN_OK;
    bnn_rng rng, init_rng;
    bnn_rng_init(&rng, r->cfg.seed, (uint32_t)ch->index);
    init_rng = rng;
    if (r->cfg.superchains > 1) {
        size_t per = r->cfg.chains / r->cfg.superchains;
        bnn_rng_init(&init_rng, r->cfg.seed, 0x80000000u | (uint32_t)(ch->index / per));
    }
    double *theta0 = malloc((r->model.n_params ? r->model.n_params : 1) * sizeof(double));
    if (!theta0) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    bnn_status s = BNN_OK;
    if (r->init) { /* the same source chain for every chain of a superchain */
        const size_t per = r->cfg.superchains > 1 ? r->cfg.chains / r->cfg.superchains : 1;
        s = bnn_init_source_theta(r->init, ch->index / per, theta0);
    } else {
        bnn_posterior_draw_prior(&ch->post, &init_rng, r->cfg.init_scale, theta0);
        if (r->cfg.superchains <= 1) rng = init_rng; /* the chain's stream continues after θ₀ */
    }
    if (s == BNN_OK) s = bnn_hmc_set(ch->hmc, theta0, rng);
    free(theta0);
    return s;
}

/* Copies n doubles into the chain's row buffer in the run precision. */
static const void *as_row(const struct bnn_run *r, struct chain *ch, const double *v, size_t n)
{
    if (r->cfg.precision == BNN_F64) return v;
    float *f = ch->row;
    for (size_t i = 0; i < n; i++) f[i] = (float)v[i];
    return f;
}

/* Function-space outputs at the recorded points, and the model-average sums. */
static bnn_status record_outputs(struct bnn_run *r, struct group *g, struct chain *ch,
                                 int sampling)
{
    const size_t K = r->n_out, M = r->cfg.fs_points;
    if (!ch->probs_valid && r->n_test > 0) {
        BNN_TRY(g->backend.ops->predict(g->backend.ctx, ch->hmc->theta, ch->probs));
        ch->probs_valid = 1;
    }
    double *fs = ch->fs_row;
    for (size_t i = 0; i < M; i++)
        memcpy(fs + i * K, ch->probs + r->fs_index[i] * K, K * sizeof(double));
    BNN_TRY(bnn_npy_writer_append(sampling ? &ch->files.fs : &ch->files.warmup_fs,
                                  as_row(r, ch, fs, M * K), 1));
    if (!sampling) return BNN_OK;
    bnn_bma_add(r->model.lik, ch->post.noise_sd, r->data->test.y, r->n_test, K, ch->probs,
                ch->bma_sum, ch->bma_logdens, ch->bma_sumsq);
    ch->n_bma++;
    return BNN_OK;
}

/* Warm-up adaptation after iteration `it` (0-based within warm-up). */
static bnn_status adapt(struct bnn_run *r, struct chain *ch, size_t it, const bnn_hmc_stats *st)
{
    const bnn_run_config *c = &r->cfg;
    if (c->adapt_step_size) ch->hmc->step_size = bnn_dual_avg_update(&ch->dual_avg, st->accept_prob);
    if (bnn_mass_adapt_update(&ch->mass, ch->hmc->theta, ch->hmc->inv_mass) && c->adapt_step_size) {
        BNN_TRY(bnn_hmc_find_step_size(ch->hmc));
        bnn_dual_avg_restart(&ch->dual_avg, ch->hmc->step_size);
    }
    if (it + 1 == c->warmup && c->adapt_step_size)
        ch->hmc->step_size = bnn_dual_avg_final(&ch->dual_avg);
    return BNN_OK;
}

/* Phase of the chain's next iteration: 0 burn-in, 1 warm-up, 2 sampling. */
static int chain_phase(const struct bnn_run *r, const struct chain *ch)
{
    const bnn_run_config *c = &r->cfg;
    return ch->iter < c->burn_in ? 0 : ch->iter < c->burn_in + c->warmup ? 1 : 2;
}

/* Before the chain's next iteration: at the start of warm-up, Stan's step-size search. Returns
 * in *metropolis whether the iteration makes the Metropolis test (not in burn-in). */
static bnn_status chain_begin(struct bnn_run *r, struct chain *ch, int *metropolis)
{
    const bnn_run_config *c = &r->cfg;
    if (ch->iter == c->burn_in && c->warmup > 0 && c->adapt_step_size) {
        BNN_TRY(bnn_hmc_find_step_size(ch->hmc));
        bnn_dual_avg_init(&ch->dual_avg, c->target_accept, ch->hmc->step_size);
    }
    *metropolis = chain_phase(r, ch) == 0 ? 0 : c->metropolis;
    return BNN_OK;
}

/* After the chain's iteration (statistics st): adaptation, symmetry move, Gibbs step, the
 * records, the progress counters and the checkpoint. */
static bnn_status chain_end(struct bnn_run *r, struct group *g, struct chain *ch,
                            bnn_hmc_stats st)
{
    const bnn_run_config *c = &r->cfg;
    const size_t it = ch->iter;
    const int phase = chain_phase(r, ch);
    if (phase == 1) BNN_TRY(adapt(r, ch, it - c->burn_in, &st));
    if (c->symmetry_moves) /* a random relabelling of hidden units: same function, new θ */
        BNN_TRY(bnn_mlp_symmetry_move(r->model.mlp, ch->hmc->theta, ch->hmc->grad,
                                      &ch->hmc->rng, ch->unit_scratch));
    size_t gradients = st.n_leapfrog;
    if (ch->post.n_hyper) { /* Gibbs: the precisions given θ; then logp and ∇ at the new ones */
        BNN_TRY(bnn_posterior_gibbs(&ch->post, ch->hmc->theta, ch->hmc->current.log_lik,
                                    &ch->hmc->rng));
        BNN_TRY(bnn_hmc_refresh(ch->hmc));
        gradients++;
    }
    double row[BNN_N_STATS] = {
        [BNN_STAT_PHASE] = phase, [BNN_STAT_ACCEPT_PROB] = st.accept_prob,
        [BNN_STAT_ACCEPTED] = st.accepted, [BNN_STAT_DIVERGENT] = st.divergent,
        [BNN_STAT_ENERGY] = st.energy, [BNN_STAT_ENERGY_ERROR] = st.energy_error,
        [BNN_STAT_STEP_SIZE] = st.step_size, [BNN_STAT_N_LEAPFROG] = (double)st.n_leapfrog,
        [BNN_STAT_LOG_LIK] = ch->hmc->current.log_lik,
        [BNN_STAT_LOG_PRIOR] = ch->hmc->current.log_prior,
        [BNN_STAT_TREE_DEPTH] = (double)st.tree_depth};
    if (r->comm) BNN_TRY(r->comm->check_state(r, g, ch));
    if (r->writer) {
        const int weights = phase == 2 && (it - c->burn_in - c->warmup) % c->thin == 0;
        BNN_TRY(bnn_npy_writer_append(&ch->files.stats, row, 1));
        if (ch->post.n_hyper) BNN_TRY(bnn_npy_writer_append(&ch->files.hyper, ch->post.hyper, 1));
        BNN_TRY(record_outputs(r, g, ch, phase == 2));
        if (weights)
            BNN_TRY(bnn_npy_writer_append(&ch->files.weights,
                                          as_row(r, ch, ch->hmc->theta, r->model.n_params), 1));
        BNN_TRY(bnn_store_chain_log(&ch->files, it, weights, phase == 2));
        BNN_TRY(bnn_store_chain_sync(&ch->files));
    }
    pthread_mutex_lock(&r->lock);
    ch->iter++;
    ch->accept_sum += st.accept_prob;
    ch->divergences += (size_t)st.divergent;
    ch->gradients += gradients;
    ch->step_size = ch->hmc->step_size;
    pthread_mutex_unlock(&r->lock);
    const double t = now_seconds();
    if (r->writer && (ch->iter == c->burn_in + c->warmup + c->samples ||
                      t - ch->last_checkpoint >= c->checkpoint_interval)) {
        BNN_TRY(bnn_run_chain_checkpoint(r, ch));
        ch->last_checkpoint = t;
    }
    return BNN_OK;
}

static bnn_status chain_iterate(struct bnn_run *r, struct group *g, struct chain *ch)
{
    int metropolis;
    BNN_TRY(chain_begin(r, ch, &metropolis));
    bnn_hmc_stats st;
    if (ch->nuts) BNN_TRY(bnn_nuts_iterate(ch->nuts, &st));
    else BNN_TRY(bnn_run_hmc_iterate(g, ch, metropolis, &st));
    if (st.accepted) ch->probs_valid = 0; /* (batched device chains: bnn_run_cuda_iterate_batch) */
    return chain_end(r, g, ch, st);
}

/* One round of a group whose chains run in lockstep on the device (bnn_run_cuda_batched): every
 * chain not yet finished makes one iteration, all in one batched device iteration. *busy = 0
 * once every chain has finished. */
static bnn_status group_round_batched(struct bnn_run *r, struct group *g, size_t total, int *busy)
{
    struct chain **chains = g->batch_chains;
    const size_t K = g->n_batch;
    *busy = 0;
    for (size_t k = 0; k < K; k++) {
        g->batch_active[k] = chains[k]->iter < total;
        if (!g->batch_active[k]) continue;
        BNN_TRY(chain_begin(r, chains[k], &g->batch_metropolis[k]));
        *busy = 1;
    }
    if (!*busy) return BNN_OK;
    BNN_TRY(bnn_run_cuda_iterate_batch(g));
    for (size_t k = 0; k < K; k++)
        if (g->batch_active[k]) BNN_TRY(chain_end(r, g, chains[k], g->batch_stats[k]));
    return BNN_OK;
}

/* A group runs its share of this process's chains (owned[k], k ≡ group mod n_groups) one
 * iteration at a time, in turn. */
static void *group_main(void *arg)
{
    struct group *g = arg;
    struct bnn_run *r = g->run;
    const size_t total = r->cfg.burn_in + r->cfg.warmup + r->cfg.samples;
    bnn_status s = BNN_OK;
    for (size_t k = g->index; s == BNN_OK && k < r->n_owned; k += r->n_groups)
        s = chain_init(r, &r->chains[r->owned[k]]);
    for (int busy = 1; s == BNN_OK && busy && g->n_batch;)
        s = group_round_batched(r, g, total, &busy);
    for (int busy = !g->n_batch; s == BNN_OK && busy;) { /* resumed chains may differ */
        busy = 0;
        for (size_t k = g->index; s == BNN_OK && k < r->n_owned; k += r->n_groups) {
            struct chain *ch = &r->chains[r->owned[k]];
            if (ch->iter >= total) continue;
            s = chain_iterate(r, g, ch);
            busy = 1;
        }
    }
    g->status = s;
    if (s != BNN_OK) snprintf(g->error, sizeof g->error, "%s", bnn_last_error());
    pthread_mutex_lock(&r->lock);
    r->finished_groups++;
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static bnn_status setup_groups(struct bnn_run *r)
{
    const bnn_run_config *c = &r->cfg;
    r->owned = calloc(c->chains, sizeof *r->owned);
    r->chains = calloc(c->chains, sizeof *r->chains);
    if (!r->owned || !r->chains) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t ci = r->rank_group; ci < c->chains; ci += r->n_rank_groups)
        r->owned[r->n_owned++] = ci;
    r->n_groups = r->n_owned < c->threads ? r->n_owned : c->threads;
    if (bnn_run_cuda_batched(r) && r->n_owned > 0) r->n_groups = 1; /* one batch of all chains */
    const size_t per_group = c->threads / (r->n_groups ? r->n_groups : 1);
    r->groups = calloc(r->n_groups ? r->n_groups : 1, sizeof *r->groups);
    if (!r->groups) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        struct group *g = &r->groups[gi];
        g->run = r;
        g->index = gi;
        BNN_TRY(bnn_run_backend_alloc(r, per_group, &g->backend));
        if (r->comm) BNN_TRY(r->comm->wrap_backend(r, &g->backend));
    }
    for (size_t ci = 0; ci < c->chains; ci++) {
        bnn_chain_files *f = &r->chains[ci].files;
        f->stats.fd = f->weights.fd = f->fs.fd = f->warmup_fs.fd = f->hyper.fd = f->log.fd = -1;
    }
    for (size_t ci = 0; ci < c->chains; ci++) r->chains[ci].index = ci;
    if (bnn_run_cuda_batched(r) && r->n_owned > 0) {
        struct group *g = &r->groups[0];
        g->batch_chains = calloc(r->n_owned, sizeof *g->batch_chains);
        g->batch_active = calloc(r->n_owned, sizeof *g->batch_active);
        g->batch_metropolis = calloc(r->n_owned, sizeof *g->batch_metropolis);
        g->batch_stats = calloc(r->n_owned, sizeof *g->batch_stats);
        g->batch_hmc = calloc(r->n_owned, sizeof *g->batch_hmc);
        g->batch_probs = calloc(r->n_owned, sizeof *g->batch_probs);
        g->batch_want = calloc(r->n_owned, sizeof *g->batch_want);
        if (!g->batch_chains || !g->batch_active || !g->batch_metropolis || !g->batch_stats ||
            !g->batch_hmc || !g->batch_probs || !g->batch_want)
            return BNN_ERROR(BNN_ENOMEM, "out of memory");
        g->n_batch = r->n_owned;
        for (size_t k = 0; k < r->n_owned; k++) g->batch_chains[k] = &r->chains[r->owned[k]];
    }
    for (size_t k = 0; k < r->n_owned; k++) {
        struct chain *ch = &r->chains[r->owned[k]];
        BNN_TRY(bnn_posterior_init(&ch->post, &r->model, &c->prior,
                                   r->groups[k % r->n_groups].backend));
        ch->post.n_obs = r->data->train.n;
        BNN_TRY(chain_alloc(r, ch, bnn_posterior_target(&ch->post)));
    }
    struct group *g = &r->groups[0];
    for (size_t k = 0; k < g->n_batch; k++) {
        g->batch_hmc[k] = g->batch_chains[k]->hmc;
        g->batch_probs[k] = g->batch_chains[k]->probs;
    }
    return BNN_OK;
}

static bnn_status run_setup(struct bnn_run *r, const bnn_dataset_options *data_opt)
{
    BNN_TRY(check_config(&r->cfg));
    BNN_TRY(setup_model(r));
    if (r->cfg.hmc.traj_len == 0) r->cfg.hmc.traj_len = bnn_run_default_traj_len(&r->cfg);
    if (r->cfg.block_rows == 0) r->cfg.block_rows = bnn_run_default_block_rows(r->model.n_params, r->data->train.n);
    r->n_test = r->data->test.n;
    BNN_TRY(choose_fs_points(r));
    bnn_cpu_blas_single_thread();
    const bnn_table *tr = &r->data->train, *te = &r->data->test;
    if (r->cfg.data_shards < r->n_ranks)
        return BNN_ERROR(BNN_EINVAL, "--shards %zu is fewer than the %zu MPI ranks",
                         r->cfg.data_shards, r->n_ranks);
    bnn_shard_layout shards;
    size_t row0, row1; /* this rank's training rows */
    bnn_shard_layout_for(tr->n, r->cfg.block_rows, r->cfg.data_shards, r->rank, r->n_ranks,
                         &shards, &row0, &row1);
    BNN_TRY(bnn_cpu_data_alloc(r->cfg.precision, tr->d, tr->x ? tr->x + row0 * tr->d : NULL,
                               tr->y ? tr->y + row0 : NULL, row1 - row0, te->x, te->n,
                               r->cfg.block_rows, &r->cpu_data));
    BNN_TRY(bnn_cpu_data_set_shards(r->cpu_data, &shards));
    BNN_TRY(bnn_run_cuda_setup(r));
    r->json = bnn_run_describe(r, data_opt);
    if (!r->json) return BNN_ERROR(BNN_ENOMEM, "out of memory for run.json");
    if (r->cfg.init_from[0]) {
        r->init = malloc(sizeof *r->init);
        if (!r->init) return BNN_ERROR(BNN_ENOMEM, "out of memory");
        BNN_TRY(bnn_init_source_open(r->cfg.init_from, json_object_get(r->json, "model"),
                                     r->init));
    }
    BNN_TRY(bnn_run_check_existing(r));
    if (r->comm) r->comm->barrier(r); /* every rank has read what was there before */
    if (r->json_writer) BNN_TRY(bnn_store_create(r->cfg.out_dir, 1));
    if (r->comm) r->comm->barrier(r); /* the directory exists before any chain opens files */
    BNN_TRY(setup_groups(r));
    if (!r->json_writer) return BNN_OK;
    char path[1100];
    size_t n = r->n_test, m = r->cfg.fs_points;
    snprintf(path, sizeof path, "%s/test_targets.npy", r->cfg.out_dir);
    BNN_TRY(bnn_npy_write(path, "<f8", 1, &n, te->y));
    int64_t *idx = malloc((m ? m : 1) * sizeof *idx);
    if (!idx) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) idx[i] = (int64_t)r->fs_index[i];
    snprintf(path, sizeof path, "%s/fs_index.npy", r->cfg.out_dir);
    bnn_status s = bnn_npy_write(path, "<i8", 1, &m, idx);
    free(idx);
    BNN_TRY(s);
    return bnn_store_write_json(r->cfg.out_dir, r->json);
}

bnn_status bnn_run_launch(struct bnn_run *r, const bnn_dataset_options *data_opt)
{
    BNN_TRY(run_setup(r, data_opt));
    r->start_time = now_seconds();
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        if (pthread_create(&r->groups[gi].thread, NULL, group_main, &r->groups[gi]) != 0)
            return BNN_ERROR(BNN_EIO, "could not start the thread of chain group %zu", gi);
        r->groups[gi].started = 1;
    }
    return BNN_OK;
}

bnn_status bnn_run_start(const bnn_run_config *cfg, const bnn_dataset *data,
                         const bnn_dataset_options *data_opt, bnn_run **out)
{
    struct bnn_run *r = calloc(1, sizeof *r);
    if (!r) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    r->cfg = *cfg;
    r->data = data;
    r->n_ranks = 1;
    r->writer = 1;
    r->json_writer = 1;
    r->n_rank_groups = 1;
    pthread_mutex_init(&r->lock, NULL);
    *out = r;
    return bnn_run_launch(r, data_opt);
}

int bnn_run_resumed(const bnn_run *r) { return r->resume; }

const char *bnn_run_warning(const bnn_run *r) { return r->warning; }

void bnn_run_poll(bnn_run *r, bnn_run_progress *p)
{
    const bnn_run_config *c = &r->cfg;
    memset(p, 0, sizeof *p);
    p->chains = c->chains;
    p->iterations = c->burn_in + c->warmup + c->samples;
    p->done_min = p->iterations;
    const size_t sampling_start = c->burn_in + c->warmup;
    pthread_mutex_lock(&r->lock);
    double accept = 0;
    p->chains = r->n_owned; /* this process's chains (all of them, but with rank groups) */
    for (size_t k = 0; r->chains && k < r->n_owned; k++) {
        const struct chain *ch = &r->chains[r->owned[k]];
        p->done_min = ch->iter < p->done_min ? ch->iter : p->done_min;
        p->done_total += ch->iter;
        p->sampling_done += ch->iter > sampling_start ? ch->iter - sampling_start : 0;
        accept += ch->accept_sum;
        p->step_size += ch->step_size / (double)r->n_owned;
        p->divergences += ch->divergences;
        p->gradients += ch->gradients;
    }
    p->finished = r->finished_groups == (int)r->n_groups;
    pthread_mutex_unlock(&r->lock);
    p->accept_rate = p->done_total ? accept / (double)p->done_total : 0;
    p->elapsed = r->start_time > 0 ? now_seconds() - r->start_time : 0;
}

/* The model-average sums of a finished chain. */
static bnn_status write_chain_results(struct bnn_run *r, struct chain *ch)
{
    char path[1200];
    size_t shape[2] = {r->n_test, r->n_out}, P = r->model.n_params;
    bnn_store_chain_path(path, sizeof path, r->cfg.out_dir, ch->index, "bma_sum.npy");
    BNN_TRY(bnn_npy_write(path, "<f8", 2, shape, ch->bma_sum));
    if (bnn_likelihood_is_regression(r->model.lik)) {
        bnn_store_chain_path(path, sizeof path, r->cfg.out_dir, ch->index, "bma_logdens.npy");
        BNN_TRY(bnn_npy_write(path, "<f8", 1, shape, ch->bma_logdens));
        bnn_store_chain_path(path, sizeof path, r->cfg.out_dir, ch->index, "bma_sumsq.npy");
        BNN_TRY(bnn_npy_write(path, "<f8", 1, shape, ch->bma_sumsq));
    }
    bnn_store_chain_path(path, sizeof path, r->cfg.out_dir, ch->index, "inv_mass.npy");
    return bnn_npy_write(path, "<f8", 1, &P, ch->hmc->inv_mass);
}

bnn_status bnn_run_finish(bnn_run *r)
{
    bnn_status first = BNN_OK;
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        struct group *g = &r->groups[gi];
        if (!g->started) continue;
        pthread_join(g->thread, NULL);
        g->started = 0;
        if (g->status != BNN_OK && first == BNN_OK)
            first = bnn_error_at(g->status, __FILE__, __LINE__, "%s", g->error);
    }
    for (size_t k = 0; r->writer && r->chains && k < r->n_owned; k++) {
        struct chain *ch = &r->chains[r->owned[k]];
        bnn_status s = bnn_store_chain_close(&ch->files);
        if (s == BNN_OK && first == BNN_OK) s = write_chain_results(r, ch);
        if (first == BNN_OK) first = s;
    }
    if (r->comm && r->n_rank_groups > 1) {
        bnn_status s = r->comm->share_counts(r);
        if (first == BNN_OK) first = s;
    }
    if (r->json_writer && r->json) {
        bnn_run_describe_arrays(r, r->json, first == BNN_OK ? "complete" : "failed");
        bnn_status s = bnn_store_write_json(r->cfg.out_dir, r->json);
        if (first == BNN_OK) first = s;
    }
    return first;
}

void bnn_run_free(bnn_run *r)
{
    if (!r) return;
    for (size_t gi = 0; gi < r->n_groups; gi++)
        if (r->groups[gi].started) pthread_join(r->groups[gi].thread, NULL);
    for (size_t ci = 0; r->chains && ci < r->cfg.chains; ci++) {
        bnn_store_chain_close(&r->chains[ci].files);
        chain_free(&r->chains[ci]);
    }
    for (size_t gi = 0; r->groups && gi < r->n_groups; gi++) {
        struct group *g = &r->groups[gi];
        bnn_cuda_hmc_free(g->cuda_hmc);
        bnn_cuda_batch_free(g->cuda_batch);
        free(g->batch_chains);
        free(g->batch_active);
        free(g->batch_metropolis);
        free(g->batch_stats);
        free(g->batch_hmc);
        free(g->batch_probs);
        free(g->batch_want);
        bnn_backend_free(&g->backend);
    }
    free(r->groups);
    free(r->chains);
    free(r->owned);
    free(r->fs_index);
    free(r->init);
    bnn_cpu_data_free(r->cpu_data);
    bnn_cuda_data_free(r->cuda_data);
    bnn_net_free(&r->model);
    json_decref(r->json);
    if (r->comm && r->comm->free_ctx) r->comm->free_ctx(r);
    free(r->comm_ctx);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
