/* Baselines on mini-batches: the configuration and its defaults, one thread per chain group,
 * and each chain's schedule of steps (SGLD, SGHMC, cyclical SG-MCMC, Adam, VI) and draws. */
#include "baseline/train_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const method_names[] = {"sgld", "sghmc", "csgmcmc", "vi", "map", "ensemble"};

bnn_status bnn_train_method_parse(const char *name, bnn_train_method *out)
{
    for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++)
        if (!strcmp(name, method_names[i])) {
            *out = (bnn_train_method)i;
            return BNN_OK;
        }
    return BNN_ERROR(BNN_EINVAL, "--method '%s': expected sgld, sghmc, csgmcmc, vi, map or "
                                 "ensemble", name);
}

const char *bnn_train_method_name(bnn_train_method m) { return method_names[m]; }

void bnn_train_config_defaults(bnn_train_config *c)
{
    memset(c, 0, sizeof *c);
    bnn_run_config_defaults(&c->run);
    c->run.chains = c->run.samples = c->run.burn_in = c->run.thin = BNN_TRAIN_AUTO;
    c->method = BNN_TRAIN_SGLD;
    c->batch_size = 128;
    c->lr = c->lr_decay = c->lr_gamma = c->friction = c->explore = c->vi_init_sd = NAN;
    c->epochs = c->cycles = c->cycle_len = BNN_TRAIN_AUTO;
}

static int is_sgmcmc(bnn_train_method m)
{
    return m == BNN_TRAIN_SGLD || m == BNN_TRAIN_SGHMC || m == BNN_TRAIN_CSGMCMC;
}

static int uses_adam(bnn_train_method m)
{
    return m == BNN_TRAIN_MAP || m == BNN_TRAIN_ENSEMBLE || m == BNN_TRAIN_VI;
}

/* A setting given for a method it does not apply to is an error, not silently ignored. */
static bnn_status refuse(const char *flag, bnn_train_method m)
{
    return BNN_ERROR(BNN_EINVAL, "%s does not apply to --method %s", flag,
                     bnn_train_method_name(m));
}

static void size_default(size_t *v, size_t value)
{
    if (*v == BNN_TRAIN_AUTO) *v = value;
}

static void real_default(double *v, double value)
{
    if (isnan(*v)) *v = value;
}

/* Settings that only some methods use: refused elsewhere. */
static bnn_status check_applicable(const bnn_train_config *c)
{
    const bnn_train_method m = c->method;
    const int poly = m == BNN_TRAIN_SGLD || m == BNN_TRAIN_SGHMC;
    if (!poly && c->run.burn_in != BNN_TRAIN_AUTO) return refuse("--burn-in", m);
    if (!is_sgmcmc(m) && c->run.thin != BNN_TRAIN_AUTO) return refuse("--thin", m);
    if (!poly && !isnan(c->lr_decay)) return refuse("--lr-decay", m);
    if (!poly && !isnan(c->lr_gamma)) return refuse("--lr-gamma", m);
    if (m != BNN_TRAIN_SGHMC && !isnan(c->friction)) return refuse("--friction", m);
    if (!uses_adam(m) && c->epochs != BNN_TRAIN_AUTO) return refuse("--epochs", m);
    if (m != BNN_TRAIN_CSGMCMC && (c->cycles != BNN_TRAIN_AUTO ||
                                   c->cycle_len != BNN_TRAIN_AUTO || !isnan(c->explore)))
        return refuse("--cycles, --cycle-len and --explore", m);
    if (m != BNN_TRAIN_VI && !isnan(c->vi_init_sd)) return refuse("--vi-init-sd", m);
    if ((m == BNN_TRAIN_MAP || m == BNN_TRAIN_ENSEMBLE) && c->run.samples != BNN_TRAIN_AUTO &&
        c->run.samples != 1)
        return BNN_ERROR(BNN_EINVAL, "--samples: --method %s records one draw per chain (its "
                                     "trained weights); use --chains for more members",
                         bnn_train_method_name(m));
    return BNN_OK;
}

static bnn_status check_ranges(const bnn_train_config *c, size_t per_epoch)
{
    if (!(c->lr > 0) || !isfinite(c->lr))
        return BNN_ERROR(BNN_EINVAL, "--lr must be positive and finite (got %g)", c->lr);
    if (!(c->lr_decay > 0) || !isfinite(c->lr_decay) || !(c->lr_gamma >= 0) ||
        !isfinite(c->lr_gamma))
        return BNN_ERROR(BNN_EINVAL, "--lr-decay must be positive and --lr-gamma >= 0 (got %g, "
                                     "%g)", c->lr_decay, c->lr_gamma);
    if (!(c->friction > 0 && c->friction <= 1))
        return BNN_ERROR(BNN_EINVAL, "--friction must be in (0, 1] (got %g)", c->friction);
    if (!(c->explore >= 0 && c->explore < 1))
        return BNN_ERROR(BNN_EINVAL, "--explore must be in [0, 1) (got %g)", c->explore);
    if (c->run.chains == 0 || c->run.chains > 4096)
        return BNN_ERROR(BNN_EINVAL, "--chains must be between 1 and 4096 (got %zu)",
                         c->run.chains);
    if (c->run.samples == 0 || c->run.thin == 0 || c->epochs == 0 || c->cycles == 0 ||
        c->cycle_len == 0)
        return BNN_ERROR(BNN_EINVAL, "--samples, --thin, --epochs, --cycles and --cycle-len "
                                     "must be at least 1");
    if (c->run.threads == 0 || c->run.threads > 1024)
        return BNN_ERROR(BNN_EINVAL, "--threads must be between 1 and 1024 (got %zu)",
                         c->run.threads);
    if (!(c->run.init_scale >= 0) || !isfinite(c->run.init_scale))
        return BNN_ERROR(BNN_EINVAL, "--init-scale must be finite and >= 0 (got %g)",
                         c->run.init_scale);
    if (c->method != BNN_TRAIN_CSGMCMC) return BNN_OK;
    if (c->run.samples % c->cycles != 0)
        return BNN_ERROR(BNN_EINVAL, "--samples %zu must be a multiple of --cycles %zu (the "
                                     "same number of draws at the end of every cycle)",
                         c->run.samples, c->cycles);
    /* the first draw of a cycle must follow at least one step of the sampling phase */
    const size_t per_cycle = c->run.samples / c->cycles;
    const double sampling_steps = (1 - c->explore) * (double)c->cycle_len;
    if ((double)((per_cycle - 1) * c->run.thin + 1) > sampling_steps)
        return BNN_ERROR(BNN_EINVAL, "csgmcmc: %zu draws per cycle, %zu steps apart, do not "
                                     "fit in the sampling phase (the last %.0f of %zu steps; "
                                     "an epoch is %zu steps): lower --samples or --thin, or "
                                     "raise --cycle-len or lower --explore", per_cycle,
                         c->run.thin, sampling_steps, c->cycle_len, per_epoch);
    return BNN_OK;
}

bnn_status bnn_train_config_resolve(bnn_train_config *c, size_t n_train)
{
    BNN_TRY(check_applicable(c));
    if (n_train == 0) return BNN_ERROR(BNN_EINVAL, "the training set is empty");
    if (c->batch_size == 0)
        return BNN_ERROR(BNN_EINVAL, "--batch-size must be at least 1");
    if (c->batch_size > n_train) c->batch_size = n_train;
    const size_t per_epoch = (n_train + c->batch_size - 1) / c->batch_size;
    const double n = (double)n_train / c->run.prior.temperature; /* steps scale with T/N */
    const bnn_train_method m = c->method;
    size_default(&c->run.chains, m == BNN_TRAIN_MAP ? 1 : m == BNN_TRAIN_ENSEMBLE ? 5 : 4);
    size_default(&c->run.samples, m == BNN_TRAIN_CSGMCMC ? 12 : uses_adam(m) && m != BNN_TRAIN_VI ? 1 : 100);
    size_default(&c->run.burn_in, is_sgmcmc(m) ? 50 * per_epoch : 0);
    size_default(&c->run.thin, is_sgmcmc(m) ? per_epoch : 1);
    size_default(&c->epochs, m == BNN_TRAIN_VI ? 300 : uses_adam(m) ? 100 : 0);
    size_default(&c->cycles, m == BNN_TRAIN_CSGMCMC ? 4 : 0);
    size_default(&c->cycle_len, m == BNN_TRAIN_CSGMCMC ? 50 * per_epoch : 0);
    const double lr = m == BNN_TRAIN_SGLD ? 0.5 / n : m == BNN_TRAIN_SGHMC ? 0.05 / n
                    : m == BNN_TRAIN_CSGMCMC ? 1.0 / n : m == BNN_TRAIN_VI ? 1e-2 : 3e-3;
    real_default(&c->lr, lr);
    real_default(&c->lr_decay, c->run.burn_in > 0 ? (double)c->run.burn_in : 1);
    real_default(&c->lr_gamma, m == BNN_TRAIN_SGLD || m == BNN_TRAIN_SGHMC ? 0.55 : 0);
    real_default(&c->friction, 0.1);
    real_default(&c->explore, m == BNN_TRAIN_CSGMCMC ? 0.8 : 0);
    real_default(&c->vi_init_sd, 1e-3);
    if (m != BNN_TRAIN_CSGMCMC) c->cycles = c->cycle_len = 1; /* unused, in range */
    if (!uses_adam(m)) c->epochs = 1;
    return check_ranges(c, per_epoch);
}

size_t bnn_train_total_steps(const bnn_train_config *c, size_t n_train)
{
    const size_t per_epoch = (n_train + c->batch_size - 1) / c->batch_size;
    switch (c->method) {
    case BNN_TRAIN_SGLD:
    case BNN_TRAIN_SGHMC: return c->run.burn_in + c->run.samples * c->run.thin;
    case BNN_TRAIN_CSGMCMC: return c->cycles * c->cycle_len;
    default: return c->epochs * per_epoch;
    }
}

/* θ₀: weights N(0, s²/fan_in), biases 0, FRN scales (".gamma") 1. */
static void fan_in_init(const bnn_net *net, double scale, bnn_rng *rng, double *theta)
{
    for (size_t k = 0; k < net->n_tensors; k++) {
        const bnn_tensor *t = &net->tensors[k];
        double *v = theta + t->offset;
        const size_t len = strlen(t->name);
        if (len > 6 && !strcmp(t->name + len - 6, ".gamma")) {
            for (size_t i = 0; i < t->size; i++) v[i] = 1;
        } else if (t->is_bias) {
            memset(v, 0, t->size * sizeof(double));
        } else {
            bnn_rng_normals(rng, v, t->size);
            const double sd = scale / sqrt((double)(t->fan_in ? t->fan_in : 1));
            for (size_t i = 0; i < t->size; i++) v[i] *= sd;
        }
    }
}

/* Is the step just done (steps done: s ≥ 1) followed by a draw of an SG-MCMC chain? */
static int draw_after(const bnn_train_config *c, size_t s)
{
    if (c->method == BNN_TRAIN_CSGMCMC) { /* the last draws of each cycle, thin apart */
        const size_t back = (c->cycle_len - (s - 1) % c->cycle_len) - 1;
        return back % c->run.thin == 0 && back / c->run.thin < c->run.samples / c->cycles;
    }
    return s > c->run.burn_in && (s - c->run.burn_in) % c->run.thin == 0;
}

/* One step of chain ch; *eps receives its step size (or Adam's α), *objective the estimate. */
static bnn_status chain_step(struct bnn_train *t, struct train_chain *ch, size_t step,
                             double *eps, double *objective)
{
    const bnn_train_config *c = &t->cfg;
    switch (c->method) {
    case BNN_TRAIN_SGLD:
        *eps = bnn_step_poly(c->lr, c->lr_decay, c->lr_gamma, step);
        BNN_TRY(bnn_sgld_step(ch->sg, *eps, 1));
        *objective = ch->sg->last.logp;
        return BNN_OK;
    case BNN_TRAIN_SGHMC:
        *eps = bnn_step_poly(c->lr, c->lr_decay, c->lr_gamma, step);
        BNN_TRY(bnn_sghmc_step(ch->sg, *eps, c->friction));
        *objective = ch->sg->last.logp;
        return BNN_OK;
    case BNN_TRAIN_CSGMCMC:
        *eps = bnn_step_cosine(c->lr, c->cycle_len, step);
        BNN_TRY(bnn_sgld_step(ch->sg, *eps,
                              bnn_cycle_position(c->cycle_len, step) >= c->explore));
        *objective = ch->sg->last.logp;
        return BNN_OK;
    case BNN_TRAIN_VI:
        *eps = bnn_step_cosine(c->lr, t->total_steps, step);
        BNN_TRY(bnn_vi_step(ch->vi, *eps));
        *objective = ch->vi->elbo;
        return BNN_OK;
    case BNN_TRAIN_MAP:
    case BNN_TRAIN_ENSEMBLE: {
        *eps = bnn_step_cosine(c->lr, t->total_steps, step);
        bnn_target target = bnn_minibatch_target(&ch->batches);
        bnn_logp lp;
        BNN_TRY(target.logp_grad(target.ctx, ch->theta, ch->grad, &lp));
        int finite = isfinite(lp.logp);
        for (size_t i = 0; finite && i < t->model.n_params; i++) finite = isfinite(ch->grad[i]);
        if (!finite)
            return BNN_ERROR(BNN_ENUM, "chain %zu, step %zu: the log posterior or its gradient "
                                       "is not finite; lower --lr", ch->index, step);
        bnn_adam_step(&ch->adam, ch->theta, ch->grad, *eps);
        *objective = lp.logp;
        return BNN_OK;
    }
    }
    return BNN_ERROR(BNN_EINVAL, "unknown method");
}

/* The chain's state at its start: θ₀ from its own stream (seed, chain), which then drives the
 * noise; the batches from the stream (seed, 2^30 + chain); VI's draws from q from the stream
 * (seed, 2^29 + chain), after the fit. */
static bnn_status chain_init(struct bnn_train *t, struct train_group *g, struct train_chain *ch)
{
    const bnn_train_config *c = &t->cfg;
    const size_t P = t->model.n_params;
    bnn_rng rng, batch_rng;
    bnn_rng_init(&rng, c->run.seed, (uint32_t)ch->index);
    bnn_rng_init(&batch_rng, c->run.seed, 0x40000000u | (uint32_t)ch->index);
    bnn_rng_init(&ch->draw_rng, c->run.seed, 0x20000000u | (uint32_t)ch->index);
    BNN_TRY(bnn_minibatch_init(&ch->batches, &g->post, t->n_train, c->batch_size, batch_rng));
    bnn_target target = bnn_minibatch_target(&ch->batches);
    double *theta0 = malloc((P ? P : 1) * sizeof(double));
    if (!theta0) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    fan_in_init(&t->model, c->run.init_scale, &rng, theta0);
    bnn_status s = BNN_OK;
    if (is_sgmcmc(c->method)) {
        s = bnn_sgmcmc_alloc(target, &ch->sg);
        if (s == BNN_OK) bnn_sgmcmc_set(ch->sg, theta0, rng);
    } else if (c->method == BNN_TRAIN_VI) {
        s = bnn_vi_alloc(target, &ch->vi);
        if (s == BNN_OK) s = bnn_vi_set(ch->vi, theta0, c->vi_init_sd, rng);
        ch->draw = malloc((P ? P : 1) * sizeof(double));
        if (s == BNN_OK && !ch->draw) s = BNN_ERROR(BNN_ENOMEM, "out of memory");
    } else {
        s = bnn_adam_init(&ch->adam, P);
        ch->grad = malloc((P ? P : 1) * sizeof(double));
        if (s == BNN_OK && !ch->grad) s = BNN_ERROR(BNN_ENOMEM, "out of memory");
        ch->theta = theta0;
        theta0 = NULL;
    }
    free(theta0);
    ch->eps = c->lr;
    return s;
}

static void set_progress(struct bnn_train *t, struct train_chain *ch, double objective)
{
    /* a running mean over about an epoch of the noisy estimates */
    const double w = 1 / (double)bnn_minibatch_per_epoch(&ch->batches);
    pthread_mutex_lock(&t->lock);
    ch->objective = ch->steps_done == 0 ? objective : (1 - w) * ch->objective + w * objective;
    ch->steps_done = ch->step;
    ch->step_size = ch->eps;
    pthread_mutex_unlock(&t->lock);
}

/* Records a draw θ after the chain's step (or after the fit) and publishes the draw count. */
static bnn_status chain_draw(struct bnn_train *t, struct train_group *g, struct train_chain *ch,
                             const double *theta)
{
    BNN_TRY(bnn_train_record_draw(t, g, ch, theta, ch->eps, ch->step));
    pthread_mutex_lock(&t->lock);
    ch->draws = ch->n_bma;
    pthread_mutex_unlock(&t->lock);
    return BNN_OK;
}

/* After a step or a draw: a checkpoint once --checkpoint-interval seconds have passed since
 * the last one. */
static bnn_status chain_progressed(struct bnn_train *t, struct train_chain *ch)
{
    ch->unsaved = 1;
    const double now = now_seconds();
    if (now - ch->last_checkpoint < t->cfg.run.checkpoint_interval) return BNN_OK;
    ch->last_checkpoint = now;
    return bnn_train_chain_checkpoint(t, ch);
}

/* Trains or samples chain ch to the end (from where its checkpoint left it) and records its
 * draws; its last state is checkpointed, so that a resumed run finds it complete. */
static bnn_status chain_run(struct bnn_train *t, struct train_group *g, struct train_chain *ch)
{
    const bnn_train_config *c = &t->cfg;
    ch->last_checkpoint = now_seconds();
    while (ch->step < t->total_steps) {
        double objective = 0;
        BNN_TRY(chain_step(t, ch, ch->step, &ch->eps, &objective));
        ch->step++;
        ch->grads_since_draw++;
        if (ch->sg && draw_after(c, ch->step)) BNN_TRY(chain_draw(t, g, ch, ch->sg->theta));
        set_progress(t, ch, objective);
        BNN_TRY(chain_progressed(t, ch));
    }
    while (!ch->sg && ch->n_bma < c->run.samples) { /* VI: draws from q; MAP: the weights */
        if (ch->vi) bnn_vi_draw(ch->vi, &ch->draw_rng, ch->draw);
        BNN_TRY(chain_draw(t, g, ch, ch->vi ? ch->draw : ch->theta));
        BNN_TRY(chain_progressed(t, ch));
    }
    return ch->unsaved ? bnn_train_chain_checkpoint(t, ch) : BNN_OK;
}

/* A group runs its chains (k ≡ group mod n_groups) one after another. */
static void *group_main(void *arg)
{
    struct train_group *g = arg;
    struct bnn_train *t = g->run;
    bnn_status s = BNN_OK;
    for (size_t k = g->index; s == BNN_OK && k < t->cfg.run.chains; k += t->n_groups)
        s = chain_run(t, g, &t->chains[k]);
    g->status = s;
    if (s != BNN_OK) snprintf(g->error, sizeof g->error, "%s", bnn_last_error());
    pthread_mutex_lock(&t->lock);
    t->finished_groups++;
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Chain ch's buffers and its state: at its start, or, when the run resumes, as its newest
 * checkpoint left it, with its arrays cut back to that checkpoint. */
static bnn_status chain_alloc(struct bnn_train *t, struct train_group *g, struct train_chain *ch)
{
    const bnn_run_config *c = &t->cfg.run;
    const size_t P = t->model.n_params, out = t->n_test * t->n_out, fs = c->fs_points * t->n_out;
    ch->probs = calloc(out ? out : 1, sizeof(double));
    ch->bma_sum = calloc(out ? out : 1, sizeof(double));
    ch->bma_logdens = calloc(t->n_test ? t->n_test : 1, sizeof(double));
    ch->bma_sumsq = calloc(t->n_test ? t->n_test : 1, sizeof(double));
    ch->fs_row = calloc(fs ? fs : 1, sizeof(double));
    ch->row = malloc((P > fs ? P : fs ? fs : 1) * sizeof(double));
    ch->order = malloc(t->n_train * sizeof(uint64_t));
    if (!ch->probs || !ch->bma_sum || !ch->bma_logdens || !ch->bma_sumsq || !ch->fs_row ||
        !ch->row || !ch->order)
        return BNN_ERROR(BNN_ENOMEM, "out of memory for chain %zu", ch->index);
    for (size_t i = 0; i < t->n_test; i++) ch->bma_logdens[i] = -INFINITY;
    BNN_TRY(chain_init(t, g, ch));
    size_t rows[5];
    if (t->resume) BNN_TRY(bnn_train_chain_restore(t, ch, rows));
    const bnn_chain_shape shape = {P, c->fs_points, t->n_out, 0}; /* no hyperparameters */
    const char *descr = c->precision == BNN_F32 ? "<f4" : "<f8";
    if (ch->restored)
        return bnn_store_chain_reopen(c->out_dir, ch->index, descr, &shape, rows, &ch->files);
    return bnn_store_chain_open(c->out_dir, ch->index, descr, &shape, &ch->files);
}

static void chain_free(struct train_chain *ch)
{
    bnn_store_chain_close(&ch->files);
    bnn_minibatch_free(&ch->batches);
    bnn_sgmcmc_free(ch->sg);
    bnn_vi_free(ch->vi);
    bnn_adam_free(&ch->adam);
    free(ch->theta);
    free(ch->grad);
    free(ch->draw);
    free(ch->probs);
    free(ch->bma_sum);
    free(ch->bma_logdens);
    free(ch->bma_sumsq);
    free(ch->fs_row);
    free(ch->row);
    free(ch->order);
}

static bnn_status setup_groups(struct bnn_train *t)
{
    const bnn_run_config *c = &t->cfg.run;
    t->chains = calloc(c->chains, sizeof *t->chains);
    t->n_groups = c->chains < c->threads ? c->chains : c->threads;
    t->groups = calloc(t->n_groups, sizeof *t->groups);
    if (!t->chains || !t->groups) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t k = 0; k < c->chains; k++) {
        bnn_chain_files *f = &t->chains[k].files;
        f->stats.fd = f->weights.fd = f->fs.fd = f->warmup_fs.fd = f->hyper.fd = f->log.fd = -1;
        t->chains[k].index = k;
    }
    for (size_t gi = 0; gi < t->n_groups; gi++) {
        struct train_group *g = &t->groups[gi];
        g->run = t;
        g->index = gi;
        BNN_TRY(bnn_cpu_backend_alloc(&t->model, t->cpu_data, c->threads / t->n_groups,
                                      &g->backend));
        BNN_TRY(bnn_posterior_init(&g->post, &t->model, &c->prior, g->backend));
    }
    for (size_t k = 0; k < c->chains; k++)
        BNN_TRY(chain_alloc(t, &t->groups[k % t->n_groups], &t->chains[k]));
    return BNN_OK;
}

/* The test rows recorded in function space: row i·n_test/M, as `sample` records. */
static bnn_status choose_fs_points(struct bnn_train *t)
{
    bnn_run_config *c = &t->cfg.run;
    c->fs_points = c->fs_points < t->n_test ? c->fs_points : t->n_test;
    t->fs_index = malloc((c->fs_points ? c->fs_points : 1) * sizeof *t->fs_index);
    if (!t->fs_index) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->fs_points; i++) t->fs_index[i] = i * t->n_test / c->fs_points;
    return BNN_OK;
}

/* The run-level arrays: the recorded test rows and the test targets. */
static bnn_status write_run_arrays(struct bnn_train *t)
{
    const bnn_run_config *c = &t->cfg.run;
    const size_t m = c->fs_points;
    int64_t *idx = malloc((m ? m : 1) * sizeof *idx);
    if (!idx) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) idx[i] = (int64_t)t->fs_index[i];
    char path[1100];
    snprintf(path, sizeof path, "%s/fs_index.npy", c->out_dir);
    bnn_status s = bnn_npy_write(path, "<i8", 1, &m, idx);
    free(idx);
    snprintf(path, sizeof path, "%s/test_targets.npy", c->out_dir);
    if (s == BNN_OK) s = bnn_npy_write(path, "<f8", 1, &t->n_test, t->data->test.y);
    return s;
}

/* Resolves the configuration, builds the model and the data blocks, decides whether the run
 * resumes the one in its directory (nothing is written before), then writes the run-level
 * arrays and run.json and sets up the chains. */
static bnn_status train_setup(struct bnn_train *t, const bnn_dataset_options *data_opt)
{
    bnn_run_config *c = &t->cfg.run;
    t->n_train = t->data->train.n;
    t->n_test = t->data->test.n;
    BNN_TRY(bnn_train_config_resolve(&t->cfg, t->n_train));
    t->total_steps = bnn_train_total_steps(&t->cfg, t->n_train);
    BNN_TRY(bnn_run_net_create(c, t->data, &t->model));
    t->n_out = t->model.n_outputs;
    if (c->block_rows == 0)
        c->block_rows = bnn_run_default_block_rows(t->model.n_params, t->n_train);
    bnn_cpu_blas_single_thread();
    const bnn_table *tr = &t->data->train, *te = &t->data->test;
    BNN_TRY(bnn_cpu_data_alloc(c->precision, tr->d, tr->x, tr->y, tr->n, te->n ? te->x : NULL,
                               te->n, c->block_rows, &t->cpu_data));
    BNN_TRY(choose_fs_points(t));
    t->json = bnn_train_describe(t, data_opt);
    if (!t->json) return BNN_ERROR(BNN_ENOMEM, "out of memory for run.json");
    BNN_TRY(bnn_train_check_existing(t));
    BNN_TRY(bnn_store_create(c->out_dir, 1));
    BNN_TRY(write_run_arrays(t));
    BNN_TRY(setup_groups(t));
    return bnn_store_write_json(c->out_dir, t->json);
}

bnn_status bnn_train_start(const bnn_train_config *cfg, const bnn_dataset *data,
                           const bnn_dataset_options *data_opt, bnn_train **out)
{
    struct bnn_train *t = calloc(1, sizeof *t);
    if (!t) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    t->cfg = *cfg;
    t->data = data;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    BNN_TRY(train_setup(t, data_opt));
    t->start_time = now_seconds();
    for (size_t gi = 0; gi < t->n_groups; gi++) {
        if (pthread_create(&t->groups[gi].thread, NULL, group_main, &t->groups[gi]) != 0)
            return BNN_ERROR(BNN_EIO, "could not start the thread of chain group %zu", gi);
        t->groups[gi].started = 1;
    }
    t->launched = 1;
    return BNN_OK;
}

void bnn_train_poll(bnn_train *t, bnn_train_progress *p)
{
    memset(p, 0, sizeof *p);
    p->chains = t->cfg.run.chains;
    p->steps = t->total_steps;
    pthread_mutex_lock(&t->lock);
    for (size_t k = 0; t->chains && k < p->chains; k++) {
        const struct train_chain *ch = &t->chains[k];
        p->done_total += ch->steps_done;
        p->draws_total += ch->draws;
        p->objective += ch->objective / (double)p->chains;
        p->step_size += ch->step_size / (double)p->chains;
    }
    p->finished = t->finished_groups == t->n_groups;
    pthread_mutex_unlock(&t->lock);
    p->elapsed = t->start_time > 0 ? now_seconds() - t->start_time : 0;
}

const bnn_train_config *bnn_train_config_of(const bnn_train *t) { return &t->cfg; }

int bnn_train_resumed(const bnn_train *t) { return t->resume; }

const char *bnn_train_warning(const bnn_train *t) { return t->warning; }

bnn_status bnn_train_finish(bnn_train *t)
{
    bnn_status first = t->launched ? BNN_OK
                                   : BNN_ERROR(BNN_EINVAL, "the run did not start: nothing to "
                                                           "finish");
    for (size_t gi = 0; gi < t->n_groups; gi++) {
        struct train_group *g = &t->groups[gi];
        if (!g->started) continue;
        pthread_join(g->thread, NULL);
        g->started = 0;
        if (g->status != BNN_OK && first == BNN_OK)
            first = bnn_error_at(g->status, __FILE__, __LINE__, "%s", g->error);
    }
    for (size_t k = 0; t->chains && k < t->cfg.run.chains; k++) {
        struct train_chain *ch = &t->chains[k];
        bnn_status s = bnn_store_chain_close(&ch->files);
        const double *final = ch->sg ? ch->sg->theta : ch->vi ? ch->vi->mu : ch->theta;
        if (s == BNN_OK && first == BNN_OK) s = bnn_train_write_chain_results(t, ch, final);
        if (first == BNN_OK) first = s;
    }
    if (t->json) {
        bnn_train_describe_arrays(t, t->json, first == BNN_OK ? "complete" : "failed");
        bnn_status s = bnn_store_write_json(t->cfg.run.out_dir, t->json);
        if (first == BNN_OK) first = s;
    }
    return first;
}

void bnn_train_free(bnn_train *t)
{
    if (!t) return;
    for (size_t gi = 0; t->groups && gi < t->n_groups; gi++)
        if (t->groups[gi].started) pthread_join(t->groups[gi].thread, NULL);
    for (size_t k = 0; t->chains && k < t->cfg.run.chains; k++) chain_free(&t->chains[k]);
    for (size_t gi = 0; t->groups && gi < t->n_groups; gi++) {
        bnn_posterior_free(&t->groups[gi].post);
        bnn_backend_free(&t->groups[gi].backend);
    }
    free(t->groups);
    free(t->chains);
    free(t->fs_index);
    bnn_cpu_data_free(t->cpu_data);
    bnn_net_free(&t->model);
    json_decref(t->json);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
