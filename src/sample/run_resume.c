/* Checkpoints of a chain's whole state, and their restoration when a run is resumed: after a
 * restore the chain continues exactly as it would have without the interruption. */
#include "sample/run_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/checkpoint.h"

/* The fixed-size part of a checkpoint. */
struct chain_scalars {
    uint64_t iter, n_params, n_test, n_out, mass_enabled;
    uint64_t rng_seed, rng_counter, rng_stream, probs_valid;
    double step_size, logp, log_lik, log_prior;
    bnn_dual_avg dual_avg;
    uint64_t window_counter, window_size, next_window, mass_n;
    uint64_t n_bma, divergences, gradients;
    double accept_sum, progress_step_size;
    uint64_t rows[5]; /* stats, weights, fs, warmup_fs rows; records of records.log */
};

/* The arrays of a checkpoint, in order, after the scalars. */
static size_t chain_arrays(const struct bnn_run *r, struct chain *ch, bnn_ckpt_part *parts)
{
    const size_t P = r->model.n_params * sizeof(double);
    const size_t out = r->n_test * r->n_out * sizeof(double);
    size_t n = 0;
    parts[n++] = (bnn_ckpt_part){ch->hmc->theta, P};
    parts[n++] = (bnn_ckpt_part){ch->hmc->grad, P};
    parts[n++] = (bnn_ckpt_part){ch->hmc->inv_mass, P};
    if (ch->mass.enabled) {
        parts[n++] = (bnn_ckpt_part){ch->mass.mean, P};
        parts[n++] = (bnn_ckpt_part){ch->mass.m2, P};
    }
    parts[n++] = (bnn_ckpt_part){ch->probs, out};
    parts[n++] = (bnn_ckpt_part){ch->bma_sum, out};
    parts[n++] = (bnn_ckpt_part){ch->bma_logdens, r->n_test * sizeof(double)};
    if (bnn_likelihood_is_regression(r->model.lik))
        parts[n++] = (bnn_ckpt_part){ch->bma_sumsq, r->n_test * sizeof(double)};
    if (ch->post.n_hyper) /* the hyperparameters θ's log density and gradient were taken at */
        parts[n++] = (bnn_ckpt_part){ch->post.hyper, ch->post.n_hyper * sizeof(double)};
    return n;
}

bnn_status bnn_run_chain_checkpoint(struct bnn_run *r, struct chain *ch)
{
    bnn_npy_writer *w[4] = {&ch->files.stats, &ch->files.weights, &ch->files.fs,
                            &ch->files.warmup_fs};
    BNN_TRY(bnn_store_chain_flush(&ch->files));
    const bnn_hmc *h = ch->hmc;
    struct chain_scalars sc = {
        .iter = ch->iter, .n_params = r->model.n_params, .n_test = r->n_test, .n_out = r->n_out,
        .mass_enabled = (uint64_t)ch->mass.enabled, .rng_seed = h->rng.seed,
        .rng_counter = h->rng.counter, .rng_stream = h->rng.stream,
        .probs_valid = (uint64_t)ch->probs_valid, .step_size = h->step_size,
        .logp = h->current.logp, .log_lik = h->current.log_lik,
        .log_prior = h->current.log_prior, .dual_avg = ch->dual_avg,
        .window_counter = ch->mass.window_counter, .window_size = ch->mass.window_size,
        .next_window = ch->mass.next_window, .mass_n = ch->mass.n, .n_bma = ch->n_bma,
        .divergences = ch->divergences, .gradients = ch->gradients,
        .accept_sum = ch->accept_sum, .progress_step_size = ch->step_size,
        .rows = {w[0]->rows, w[1]->rows, w[2]->rows, w[3]->rows, ch->files.log.n_records}};
    bnn_ckpt_part parts[11] = {{&sc, sizeof sc}};
    size_t n = 1 + chain_arrays(r, ch, parts + 1);
    char path[1200], prev[1200];
    bnn_store_chain_path(path, sizeof path, r->cfg.out_dir, ch->index, "checkpoint.bin");
    bnn_store_chain_path(prev, sizeof prev, r->cfg.out_dir, ch->index, "checkpoint.prev.bin");
    return bnn_ckpt_write(path, prev, parts, n);
}

static bnn_status check_scalars(const struct bnn_run *r, const struct chain *ch,
                                const struct chain_scalars *sc, const char *path)
{
    const size_t total = r->cfg.burn_in + r->cfg.warmup + r->cfg.samples;
    if (sc->n_params != r->model.n_params || sc->n_test != r->n_test || sc->n_out != r->n_out ||
        sc->mass_enabled != (uint64_t)ch->mass.enabled)
        return BNN_ERROR(BNN_EFORMAT, "%s: the checkpoint does not match the run's model or data "
                                      "(%llu parameters, %llu test inputs)", path,
                         (unsigned long long)sc->n_params, (unsigned long long)sc->n_test);
    if (sc->iter > total || sc->rng_seed != r->cfg.seed || sc->rng_stream != ch->index)
        return BNN_ERROR(BNN_EFORMAT, "%s: the checkpoint belongs to another run (iteration %llu, "
                                      "seed %llu)", path, (unsigned long long)sc->iter,
                         (unsigned long long)sc->rng_seed);
    return BNN_OK;
}

static void apply_scalars(struct chain *ch, const struct chain_scalars *sc)
{
    bnn_hmc *h = ch->hmc;
    ch->iter = sc->iter;
    h->rng = (bnn_rng){.seed = sc->rng_seed, .stream = (uint32_t)sc->rng_stream,
                       .counter = sc->rng_counter};
    ch->probs_valid = (int)sc->probs_valid;
    h->step_size = sc->step_size;
    h->current = (bnn_logp){.logp = sc->logp, .log_lik = sc->log_lik, .log_prior = sc->log_prior};
    ch->dual_avg = sc->dual_avg;
    ch->mass.window_counter = sc->window_counter;
    ch->mass.window_size = sc->window_size;
    ch->mass.next_window = sc->next_window;
    ch->mass.n = sc->mass_n;
    ch->n_bma = sc->n_bma;
    ch->divergences = sc->divergences;
    ch->gradients = sc->gradients;
    ch->accept_sum = sc->accept_sum;
    ch->step_size = sc->progress_step_size;
}

/* 1 if the chain's files hold at least the rows and records a checkpoint recorded (hyper.npy,
 * when the chain has hyperparameters, as many rows as stats.npy). */
static int arrays_hold(const struct bnn_run *r, const struct chain *ch, const uint64_t rows[5])
{
    static const char *const names[6] = {"stats.npy", "weights.npy", "fs.npy", "warmup_fs.npy",
                                         "records.log", "hyper.npy"};
    const size_t item = (size_t)r->cfg.precision, h = BNN_NPY_WRITER_HEADER_BYTES;
    const size_t row_bytes[6] = {BNN_N_STATS * sizeof(double), r->model.n_params * item,
                                 r->cfg.fs_points * r->n_out * item,
                                 r->cfg.fs_points * r->n_out * item, BNN_LOG_RECORD_BYTES,
                                 ch->post.n_hyper * sizeof(double)};
    const size_t header[6] = {h, h, h, h, BNN_LOG_HEADER_BYTES, h};
    const uint64_t n_rows[6] = {rows[0], rows[1], rows[2], rows[3], rows[4], rows[0]};
    for (size_t i = 0; i < (ch->post.n_hyper ? 6u : 5u); i++) {
        char path[1200];
        struct stat st;
        bnn_store_chain_path(path, sizeof path, r->cfg.out_dir, ch->index, names[i]);
        if (stat(path, &st) != 0 || (uint64_t)st.st_size < header[i] + n_rows[i] * row_bytes[i]) {
            BNN_ERROR(BNN_EFORMAT, "%s holds fewer than the %llu rows its checkpoint recorded",
                      path, (unsigned long long)n_rows[i]);
            return 0;
        }
    }
    return 1;
}

/* Reads one checkpoint file into the chain (arrays first, then the scalars). */
static bnn_status restore_from(struct bnn_run *r, struct chain *ch, const char *path,
                               size_t rows[5])
{
    void *payload;
    size_t len;
    BNN_TRY(bnn_ckpt_read(path, &payload, &len));
    bnn_ckpt_cursor cur = {.path = path, .data = payload, .len = len};
    struct chain_scalars sc;
    bnn_status s = bnn_ckpt_take(&cur, &sc, sizeof sc);
    if (s == BNN_OK) s = check_scalars(r, ch, &sc, path);
    bnn_ckpt_part parts[10];
    size_t n = s == BNN_OK ? chain_arrays(r, ch, parts) : 0;
    for (size_t i = 0; s == BNN_OK && i < n; i++)
        s = bnn_ckpt_take(&cur, (void *)parts[i].data, parts[i].len);
    if (s == BNN_OK && cur.pos != len)
        s = BNN_ERROR(BNN_EFORMAT, "%s: %zu unexpected bytes after the chain state", path,
                      len - cur.pos);
    free(payload);
    BNN_TRY(s);
    if (!arrays_hold(r, ch, sc.rows)) return BNN_EFORMAT;
    apply_scalars(ch, &sc);
    if (ch->post.n_hyper) bnn_posterior_set_hyper(&ch->post, ch->post.hyper);
    for (size_t i = 0; i < 5; i++) rows[i] = (size_t)sc.rows[i];
    return BNN_OK;
}

bnn_status bnn_run_chain_restore(struct bnn_run *r, struct chain *ch, size_t rows[5],
                                 int *restored)
{
    char path[1200], prev[1200];
    bnn_store_chain_path(path, sizeof path, r->cfg.out_dir, ch->index, "checkpoint.bin");
    bnn_store_chain_path(prev, sizeof prev, r->cfg.out_dir, ch->index, "checkpoint.prev.bin");
    *restored = 0;
    const int have = access(path, F_OK) == 0, have_prev = access(prev, F_OK) == 0;
    if (!have && !have_prev) return BNN_OK; /* killed before its first checkpoint: start anew */
    if (have && restore_from(r, ch, path, rows) == BNN_OK) {
        *restored = 1;
        return BNN_OK;
    }
    if (have) { /* the newest checkpoint is damaged: say so, fall back to the one before */
        size_t used = strlen(r->warning); /* several chains may warn: one line each */
        snprintf(r->warning + used, sizeof r->warning - used, "%schain %zu: %.1000s; resuming "
                 "from %.800s", used ? "\n" : "", ch->index, bnn_last_error(), prev);
    }
    if (!have_prev) return BNN_ERROR(BNN_EFORMAT, "%s", bnn_last_error());
    BNN_TRY(restore_from(r, ch, prev, rows));
    *restored = 1;
    return BNN_OK;
}
