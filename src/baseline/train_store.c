/* What a baseline run records, in the run directory layout of `bnnmc sample` (store/run_store.h):
 * per draw a stats row, the weights and the function-space row; per chain the model-average
 * sums and the final weights; and run.json with the method and its resolved settings. */
#include "baseline/train_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval/bma.h"
#include "sample/run_describe.h"

/* The resolved settings: the model's as `sample` names them, then the method's. Keys `sample`
 * uses with another meaning (burn_in, warmup, thin: iterations of recorded rows) are not
 * written: a draw is one row of every array here. */
static json_t *config_json(const bnn_train_config *t)
{
    const bnn_run_config *c = &t->run;
    json_t *prior_var = json_array();
    for (size_t i = 0; i < c->prior.n_var; i++)
        json_array_append_new(prior_var, json_real(c->prior.var[i]));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:f, s:o, s:b, s:f, s:s, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:s}",
        "method", bnn_train_method_name(t->method), "arch", c->arch, "activation",
        bnn_activation_name(c->act), "likelihood", bnn_likelihood_name(c->lik), "noise_sd",
        c->noise_sd, "prior_var", prior_var, "prior_var_divided_by_fan_in",
        c->prior.divide_by_fan_in, "temperature", c->prior.temperature, "precision",
        c->precision == BNN_F32 ? "float32" : "float64", "chains", (json_int_t)c->chains,
        "samples", (json_int_t)c->samples, "init_scale", c->init_scale, "seed",
        (json_int_t)c->seed, "threads", (json_int_t)c->threads, "block_rows",
        (json_int_t)c->block_rows, "fs_points", (json_int_t)c->fs_points, "out", c->out_dir);
    if (!o) return NULL;
    json_object_set_new(o, "checkpoint_interval", json_real(c->checkpoint_interval));
    json_object_set_new(o, "batch_size", json_integer((json_int_t)t->batch_size));
    json_object_set_new(o, "lr", json_real(t->lr));
    const bnn_train_method m = t->method;
    if (m == BNN_TRAIN_SGLD || m == BNN_TRAIN_SGHMC) {
        json_object_set_new(o, "lr_decay", json_real(t->lr_decay));
        json_object_set_new(o, "lr_gamma", json_real(t->lr_gamma));
        json_object_set_new(o, "burn_in_steps", json_integer((json_int_t)c->burn_in));
    }
    if (m == BNN_TRAIN_SGHMC) json_object_set_new(o, "friction", json_real(t->friction));
    if (m == BNN_TRAIN_SGLD || m == BNN_TRAIN_SGHMC || m == BNN_TRAIN_CSGMCMC)
        json_object_set_new(o, "thin_steps", json_integer((json_int_t)c->thin));
    if (m == BNN_TRAIN_CSGMCMC) {
        json_object_set_new(o, "cycles", json_integer((json_int_t)t->cycles));
        json_object_set_new(o, "cycle_len", json_integer((json_int_t)t->cycle_len));
        json_object_set_new(o, "explore", json_real(t->explore));
    }
    if (m == BNN_TRAIN_VI || m == BNN_TRAIN_MAP || m == BNN_TRAIN_ENSEMBLE) {
        json_object_set_new(o, "epochs", json_integer((json_int_t)t->epochs));
        json_object_set_new(o, "lr_schedule", json_string("cosine decay to 0"));
    }
    if (m == BNN_TRAIN_VI) json_object_set_new(o, "vi_init_sd", json_real(t->vi_init_sd));
    return o;
}

/* The method's settings of config_json back into t (those it did not write stay unset). */
static bnn_status method_from_json(json_t *o, const char *path, bnn_train_config *t)
{
    const char *method;
    json_int_t batch, burn_in = -1, thin = -1, epochs = -1, cycles = -1, cycle_len = -1;
    json_error_t err;
    if (json_unpack_ex(o, &err, 0, "{s:s, s:I, s:F, s?F, s?F, s?I, s?F, s?I, s?I, s?I, s?F, "
                                   "s?I, s?F}", "method", &method, "batch_size", &batch, "lr",
                       &t->lr, "lr_decay", &t->lr_decay, "lr_gamma", &t->lr_gamma,
                       "burn_in_steps", &burn_in, "friction", &t->friction, "thin_steps",
                       &thin, "cycles", &cycles, "cycle_len", &cycle_len, "explore",
                       &t->explore, "epochs", &epochs, "vi_init_sd", &t->vi_init_sd) != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: config: %s", path, err.text);
    if (bnn_train_method_parse(method, &t->method) != BNN_OK)
        return BNN_ERROR(BNN_EFORMAT, "%s: config.method: unknown method '%.40s'", path,
                         method);
    const json_int_t counts[] = {batch, burn_in, thin, epochs, cycles, cycle_len};
    size_t *fields[] = {&t->batch_size, &t->run.burn_in, &t->run.thin, &t->epochs, &t->cycles,
                        &t->cycle_len};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (counts[i] >= 0) *fields[i] = (size_t)counts[i];
    return BNN_OK;
}

bnn_status bnn_train_config_read(const char *dir, bnn_train_config *c, bnn_dataset_options *d,
                                 bnn_run_data_strings *strings)
{
    bnn_train_config_defaults(c);
    json_t *cfg;
    BNN_TRY(bnn_run_settings_read(dir, &c->run, d, strings, &cfg));
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", dir);
    bnn_status s = json_is_string(json_object_get(cfg, "method"))
                       ? method_from_json(cfg, path, c)
                       : BNN_ERROR(BNN_EFORMAT, "%s: not a run of `bnnmc train` (no "
                                                "config.method): resume it with `bnnmc sample "
                                                "--resume %s`", path, dir);
    json_decref(cfg);
    return s;
}

/* What the draws of a chain are, for a reader of run.json. */
static const char *draws_meaning(bnn_train_method m)
{
    switch (m) {
    case BNN_TRAIN_SGLD:
    case BNN_TRAIN_SGHMC: return "iterates every thin_steps steps after burn_in_steps";
    case BNN_TRAIN_CSGMCMC: return "iterates at the end of each cycle's sampling phase";
    case BNN_TRAIN_VI: return "independent draws from the chain's fitted q";
    default: return "the chain's trained weights (one ensemble member)";
    }
}

json_t *bnn_train_describe(const struct bnn_train *t, const bnn_dataset_options *data_opt)
{
    json_t *stats = json_array();
    for (size_t i = 0; i < BNN_N_STATS; i++)
        json_array_append_new(stats, json_string(bnn_stat_names[i]));
    const bnn_train_method m = t->cfg.method;
    return json_pack(
        "{s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:I, s:s, s:o, s:I}", "format",
        "bnnmc-run", "format_version", 1, "bnnmc_version", "0.1.0", "status", "running",
        "method", bnn_train_method_name(m), "draws", draws_meaning(m), "draws_are_samples",
        m != BNN_TRAIN_MAP && m != BNN_TRAIN_ENSEMBLE, "config", config_json(&t->cfg), "data",
        bnn_run_data_json(t->data, data_opt), "model", bnn_run_model_json(&t->model),
        "fs_points", (json_int_t)t->cfg.run.fs_points, "fs_outputs", (json_int_t)t->n_out,
        "fs_output_meaning",
        t->model.lik == BNN_LIK_GAUSSIAN ? "predictive mean" : "class probability",
        "stat_names", stats, "steps_per_chain", (json_int_t)t->total_steps);
}

/* One manifest entry of chain c: DIR/chain_NNN/NAME.npy. */
static void add_entry(json_t *arrays, size_t c, const char *name, const char *dtype,
                      size_t ndim, const size_t *shape, const char *const *dims)
{
    char path[64];
    snprintf(path, sizeof path, "chain_%03zu/%s.npy", c, name);
    json_array_append_new(arrays,
                          bnn_store_manifest_entry(name, (long)c, path, dtype, ndim, shape, dims));
}

void bnn_train_describe_arrays(const struct bnn_train *t, json_t *root, const char *status)
{
    static const char *const test_dims[] = {"test_point"}, *const point_dims[] = {"point"};
    static const char *const stats_dims[] = {"draw", "stat"}, *const w_dims[] = {"draw", "param"};
    static const char *const fs_dims[] = {"draw", "point", "output"};
    static const char *const warm_dims[] = {"iteration", "point", "output"};
    static const char *const bma_dims[] = {"test_point", "output"}, *const p_dims[] = {"param"};
    const bnn_run_config *c = &t->cfg.run;
    const char *dt = c->precision == BNN_F32 ? "float32" : "float64";
    json_t *arrays = json_array(), *iters = json_array(), *counts = json_array();
    json_array_append_new(arrays, bnn_store_manifest_entry("test_targets", -1, "test_targets.npy",
                                                           "float64", 1, &t->n_test, test_dims));
    json_array_append_new(arrays, bnn_store_manifest_entry("fs_index", -1, "fs_index.npy",
                                                           "int64", 1, &c->fs_points, point_dims));
    for (size_t k = 0; k < c->chains; k++) {
        const struct train_chain *ch = &t->chains[k];
        const size_t P = t->model.n_params, draws = ch->files.stats.rows;
        const size_t s[2] = {draws, BNN_N_STATS}, w[2] = {ch->files.weights.rows, P};
        const size_t f[3] = {ch->files.fs.rows, c->fs_points, t->n_out};
        const size_t f0[3] = {0, c->fs_points, t->n_out}, b[2] = {t->n_test, t->n_out};
        add_entry(arrays, k, "stats", "float64", 2, s, stats_dims);
        add_entry(arrays, k, "weights", dt, 2, w, w_dims);
        add_entry(arrays, k, "fs", dt, 3, f, fs_dims);
        add_entry(arrays, k, "warmup_fs", dt, 3, f0, warm_dims);
        add_entry(arrays, k, "bma_sum", "float64", 2, b, bma_dims);
        if (bnn_likelihood_is_regression(t->model.lik)) {
            add_entry(arrays, k, "bma_logdens", "float64", 1, b, bma_dims);
            add_entry(arrays, k, "bma_sumsq", "float64", 1, b, bma_dims);
        }
        add_entry(arrays, k, "final", "float64", 1, &P, p_dims);
        if (t->cfg.method == BNN_TRAIN_VI) add_entry(arrays, k, "vi_sd", "float64", 1, &P, p_dims);
        json_array_append_new(iters, json_integer((json_int_t)draws));
        json_array_append_new(counts, json_integer((json_int_t)ch->n_bma));
    }
    json_object_set_new(root, "arrays", arrays);
    json_object_set_new(root, "status", json_string(status));
    json_object_set_new(root, "iterations_done", iters);
    json_object_set_new(root, "bma_count", counts);
}

/* Copies n doubles into the chain's row buffer in the run precision. */
static const void *as_row(const struct bnn_train *t, struct train_chain *ch, const double *v,
                          size_t n)
{
    if (t->cfg.run.precision == BNN_F64) return v;
    float *f = ch->row;
    for (size_t i = 0; i < n; i++) f[i] = (float)v[i];
    return f;
}

bnn_status bnn_train_record_draw(struct bnn_train *t, struct train_group *g,
                                 struct train_chain *ch, const double *theta, double step_size,
                                 size_t step)
{
    const size_t K = t->n_out, M = t->cfg.run.fs_points, P = t->model.n_params;
    bnn_target full = bnn_posterior_target(&g->post); /* all training rows, no gradient */
    bnn_logp lp;
    BNN_TRY(full.logp_grad(full.ctx, theta, NULL, &lp));
    if (t->n_test > 0) BNN_TRY(g->backend.ops->predict(g->backend.ctx, theta, ch->probs));
    for (size_t i = 0; i < M; i++)
        memcpy(ch->fs_row + i * K, ch->probs + t->fs_index[i] * K, K * sizeof(double));
    bnn_bma_add(t->model.lik, t->model.noise_sd, t->data->test.y, t->n_test, K, ch->probs,
                ch->bma_sum, ch->bma_logdens, ch->bma_sumsq);
    ch->n_bma++;
    /* No Metropolis step and no Hamiltonian: every draw is kept (accept 1), energy is NaN. */
    const double row[BNN_N_STATS] = {
        [BNN_STAT_PHASE] = 2, [BNN_STAT_ACCEPT_PROB] = 1, [BNN_STAT_ACCEPTED] = 1,
        [BNN_STAT_DIVERGENT] = !isfinite(lp.logp), [BNN_STAT_ENERGY] = NAN,
        [BNN_STAT_ENERGY_ERROR] = NAN, [BNN_STAT_STEP_SIZE] = step_size,
        [BNN_STAT_N_LEAPFROG] = (double)ch->grads_since_draw, [BNN_STAT_LOG_LIK] = lp.log_lik,
        [BNN_STAT_LOG_PRIOR] = lp.log_prior};
    ch->grads_since_draw = 0;
    BNN_TRY(bnn_npy_writer_append(&ch->files.stats, row, 1));
    BNN_TRY(bnn_npy_writer_append(&ch->files.fs, as_row(t, ch, ch->fs_row, M * K), 1));
    BNN_TRY(bnn_npy_writer_append(&ch->files.weights, as_row(t, ch, theta, P), 1));
    BNN_TRY(bnn_store_chain_log(&ch->files, step, 1, 1));
    return bnn_store_chain_sync(&ch->files);
}

bnn_status bnn_train_write_chain_results(struct bnn_train *t, struct train_chain *ch,
                                         const double *final)
{
    char path[1200];
    const char *dir = t->cfg.run.out_dir;
    size_t shape[2] = {t->n_test, t->n_out}, P = t->model.n_params;
    bnn_store_chain_path(path, sizeof path, dir, ch->index, "bma_sum.npy");
    BNN_TRY(bnn_npy_write(path, "<f8", 2, shape, ch->bma_sum));
    if (bnn_likelihood_is_regression(t->model.lik)) {
        bnn_store_chain_path(path, sizeof path, dir, ch->index, "bma_logdens.npy");
        BNN_TRY(bnn_npy_write(path, "<f8", 1, shape, ch->bma_logdens));
        bnn_store_chain_path(path, sizeof path, dir, ch->index, "bma_sumsq.npy");
        BNN_TRY(bnn_npy_write(path, "<f8", 1, shape, ch->bma_sumsq));
    }
    bnn_store_chain_path(path, sizeof path, dir, ch->index, "final.npy");
    BNN_TRY(bnn_npy_write(path, "<f8", 1, &P, final));
    if (!ch->vi) return BNN_OK;
    for (size_t i = 0; i < P; i++) ch->draw[i] = bnn_vi_sd(ch->vi, i);
    bnn_store_chain_path(path, sizeof path, dir, ch->index, "vi_sd.npy");
    return bnn_npy_write(path, "<f8", 1, &P, ch->draw);
}
