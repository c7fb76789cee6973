/* Checkpoints of a baseline chain's whole state, their restoration when a run is resumed, and
 * the decision to resume the run a directory holds: after a restore the chain continues exactly
 * as it would have without the interruption, so a resumed run writes the same bytes. */
#include "baseline/train_internal.h"

#include <stdlib.h>
#include <string.h>

#include "sample/run_describe.h"

/* The first bytes of a train checkpoint's payload: not the state of a `sample` chain. */
static const char train_tag[8] = {'B', 'N', 'N', 'T', 'R', 'A', 'I', 'N'};

/* The fixed-size part of a checkpoint; the arrays of chain_arrays follow it. */
struct chain_scalars {
    char tag[8];
    uint64_t method, chain, n_params, n_rows, batch_size, n_test, n_out;
    uint64_t step, n_bma, grads_since_draw;
    uint64_t seed;            /* of every stream of the chain */
    uint64_t noise_counter;   /* stream (seed, chain): SG-MCMC's noise, VI's ξ */
    uint64_t batch_counter;   /* stream (seed, 2^30 + chain): the epochs' shuffles */
    uint64_t batch_pos, epochs_begun;
    uint64_t draw_counter;    /* stream (seed, 2^29 + chain): VI's draws from q */
    uint64_t adam_steps;      /* map, ensemble, vi */
    double eps, objective;
    uint64_t rows[5];         /* stats, weights, fs, warmup_fs rows; records of records.log */
};
_Static_assert(sizeof(struct chain_scalars) == 200, "the layout docs/run-directory.md gives");

/* The arrays of a checkpoint, in order, after the scalars: the epoch's batch order, the
 * method's state, the model-average sums. */
static size_t chain_arrays(const struct bnn_train *t, struct train_chain *ch, bnn_ckpt_part *parts)
{
    const size_t P = t->model.n_params * sizeof(double);
    const size_t out = t->n_test * t->n_out * sizeof(double);
    size_t n = 0;
    parts[n++] = (bnn_ckpt_part){ch->order, t->n_train * sizeof(uint64_t)};
    if (ch->sg) {
        parts[n++] = (bnn_ckpt_part){ch->sg->theta, P};
        if (t->cfg.method == BNN_TRAIN_SGHMC) parts[n++] = (bnn_ckpt_part){ch->sg->velocity, P};
    } else {
        const bnn_adam *a = ch->vi ? &ch->vi->adam : &ch->adam; /* Adam over θ, or (μ, ρ) */
        parts[n++] = (bnn_ckpt_part){ch->vi ? ch->vi->params : ch->theta, a->dim * sizeof(double)};
        parts[n++] = (bnn_ckpt_part){a->m, a->dim * sizeof(double)};
        parts[n++] = (bnn_ckpt_part){a->v, a->dim * sizeof(double)};
    }
    parts[n++] = (bnn_ckpt_part){ch->bma_sum, out};
    parts[n++] = (bnn_ckpt_part){ch->bma_logdens, t->n_test * sizeof(double)};
    if (bnn_likelihood_is_regression(t->model.lik))
        parts[n++] = (bnn_ckpt_part){ch->bma_sumsq, t->n_test * sizeof(double)};
    return n;
}

/* The chain's stream of noise (SG-MCMC, VI), or NULL (map, ensemble: none after θ₀). */
static bnn_rng *noise_rng(struct train_chain *ch)
{
    return ch->sg ? &ch->sg->rng : ch->vi ? &ch->vi->rng : NULL;
}

bnn_status bnn_train_chain_checkpoint(struct bnn_train *t, struct train_chain *ch)
{
    const bnn_npy_writer *w[4] = {&ch->files.stats, &ch->files.weights, &ch->files.fs,
                                  &ch->files.warmup_fs};
    BNN_TRY(bnn_store_chain_flush(&ch->files));
    bnn_minibatch_order(&ch->batches, ch->order);
    const bnn_rng *noise = noise_rng(ch);
    const bnn_adam *adam = ch->vi ? &ch->vi->adam : ch->sg ? NULL : &ch->adam;
    struct chain_scalars sc = {
        .method = (uint64_t)t->cfg.method, .chain = ch->index, .n_params = t->model.n_params,
        .n_rows = t->n_train, .batch_size = t->cfg.batch_size, .n_test = t->n_test,
        .n_out = t->n_out, .step = ch->step, .n_bma = ch->n_bma,
        .grads_since_draw = ch->grads_since_draw, .seed = t->cfg.run.seed,
        .noise_counter = noise ? noise->counter : 0, .batch_counter = ch->batches.rng.counter,
        .batch_pos = ch->batches.pos, .epochs_begun = ch->batches.epochs_begun,
        .draw_counter = ch->draw_rng.counter, .adam_steps = adam ? adam->t : 0, .eps = ch->eps,
        .objective = ch->objective,
        .rows = {w[0]->rows, w[1]->rows, w[2]->rows, w[3]->rows, ch->files.log.n_records}};
    memcpy(sc.tag, train_tag, sizeof train_tag);
    bnn_ckpt_part parts[10] = {{&sc, sizeof sc}};
    size_t n = 1 + chain_arrays(t, ch, parts + 1);
    BNN_TRY(bnn_store_chain_checkpoint(t->cfg.run.out_dir, ch->index, parts, n));
    ch->unsaved = 0;
    return BNN_OK;
}

static bnn_status check_scalars(const struct bnn_train *t, const struct train_chain *ch,
                                const struct chain_scalars *sc, const char *path)
{
    const uint64_t draws = sc->n_bma;
    if (memcmp(sc->tag, train_tag, sizeof train_tag) != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: offset 32: not the checkpoint of a `bnnmc train` "
                                      "chain", path);
    if (sc->method != (uint64_t)t->cfg.method || sc->n_params != t->model.n_params ||
        sc->n_rows != t->n_train || sc->batch_size != t->cfg.batch_size ||
        sc->n_test != t->n_test || sc->n_out != t->n_out)
        return BNN_ERROR(BNN_EFORMAT, "%s: the checkpoint does not match the run's method, "
                                      "model or data (%llu parameters, %llu training rows)",
                         path, (unsigned long long)sc->n_params, (unsigned long long)sc->n_rows);
    if (sc->seed != t->cfg.run.seed || sc->chain != ch->index)
        return BNN_ERROR(BNN_EFORMAT, "%s: the checkpoint belongs to another run (chain %llu, "
                                      "seed %llu)", path, (unsigned long long)sc->chain,
                         (unsigned long long)sc->seed);
    if (sc->step > t->total_steps || draws > t->cfg.run.samples ||
        sc->grads_since_draw > sc->step || sc->rows[0] != draws || sc->rows[1] != draws ||
        sc->rows[2] != draws || sc->rows[3] != 0 || sc->rows[4] != draws)
        return BNN_ERROR(BNN_EFORMAT, "%s: the checkpoint's step %llu and %llu draws do not fit "
                                      "the run (%zu steps, %zu draws per chain)", path,
                         (unsigned long long)sc->step, (unsigned long long)draws,
                         t->total_steps, t->cfg.run.samples);
    return BNN_OK;
}

/* The counters and sums of the scalars into the chain (its arrays are read already). */
static void apply_scalars(struct bnn_train *t, struct train_chain *ch,
                          const struct chain_scalars *sc)
{
    bnn_rng *noise = noise_rng(ch);
    if (noise) noise->counter = sc->noise_counter;
    ch->draw_rng.counter = sc->draw_counter;
    if (ch->vi) ch->vi->adam.t = (size_t)sc->adam_steps;
    else if (!ch->sg) ch->adam.t = (size_t)sc->adam_steps;
    ch->step = (size_t)sc->step;
    ch->n_bma = (size_t)sc->n_bma;
    ch->grads_since_draw = (size_t)sc->grads_since_draw;
    ch->eps = sc->eps;
    pthread_mutex_lock(&t->lock); /* the progress bnn_train_poll reads */
    ch->steps_done = ch->step;
    ch->draws = ch->n_bma;
    ch->objective = sc->objective;
    ch->step_size = sc->eps;
    pthread_mutex_unlock(&t->lock);
}

/* The chain a checkpoint is restored into, and the rows of its arrays that it recorded. */
struct restore {
    struct bnn_train *t;
    struct train_chain *ch;
    size_t *rows;
};

/* Reads one checkpoint file into the chain of a struct restore (arrays first, then the
 * scalars): the bnn_ckpt_load_fn of bnn_store_chain_restore. */
static bnn_status restore_from(void *ctx, const char *path)
{
    struct bnn_train *t = ((struct restore *)ctx)->t;
    struct train_chain *ch = ((struct restore *)ctx)->ch;
    size_t *rows = ((struct restore *)ctx)->rows;
    struct chain_scalars sc;
    bnn_ckpt_cursor cur;
    BNN_TRY(bnn_ckpt_open(path, &sc, sizeof sc, &cur));
    bnn_status s = check_scalars(t, ch, &sc, path);
    bnn_ckpt_part parts[9];
    if (s == BNN_OK) s = bnn_ckpt_take_rest(&cur, parts, chain_arrays(t, ch, parts));
    bnn_ckpt_close(&cur);
    BNN_TRY(s);
    BNN_TRY(bnn_minibatch_restore(&ch->batches, ch->order, sc.batch_pos, sc.epochs_begun,
                                  sc.batch_counter, path));
    const bnn_chain_shape shape = {t->model.n_params, t->cfg.run.fs_points, t->n_out, 0};
    BNN_TRY(bnn_store_chain_holds(t->cfg.run.out_dir, ch->index, (size_t)t->cfg.run.precision,
                                  &shape, sc.rows));
    apply_scalars(t, ch, &sc);
    for (size_t i = 0; i < 5; i++) rows[i] = (size_t)sc.rows[i];
    return BNN_OK;
}

bnn_status bnn_train_chain_restore(struct bnn_train *t, struct train_chain *ch, size_t rows[5])
{
    struct restore ctx = {t, ch, rows};
    return bnn_store_chain_restore(t->cfg.run.out_dir, ch->index, restore_from, &ctx,
                                   t->warning, sizeof t->warning, &ch->restored);
}

bnn_status bnn_train_check_existing(struct bnn_train *t)
{
    const bnn_train_method m = t->cfg.method;
    /* more draws continue the same chains (SGLD, SGHMC) or draw more from the same q (VI);
     * cyclical SG-MCMC places its draws in every cycle, map and ensembles have one per chain */
    const int extendable = m == BNN_TRAIN_SGLD || m == BNN_TRAIN_SGHMC || m == BNN_TRAIN_VI;
    const bnn_run_config *c = &t->cfg.run;
    const bnn_run_existing e = {c->out_dir, c->resume, c->overwrite, c->samples, extendable,
                                NULL};
    return bnn_run_check_existing_json(&e, t->json, &t->resume);
}
