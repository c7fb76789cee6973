/* The run's description in run.json: resolved configuration, data, model layout, manifest. */
#include "sample/run_internal.h"

#include <stdio.h>

static json_t *config_json(const bnn_run_config *c)
{
    json_t *prior_var = json_array();
    for (size_t i = 0; i < c->prior.n_var; i++)
        json_array_append_new(prior_var, json_real(c->prior.var[i]));
    return json_pack(
        "{s:s, s:s, s:s, s:f, s:o, s:b, s:f, s:s, s:f, s:f, s:I, s:f, s:f, s:I, s:I, s:I, s:I, "
        "s:I, s:b, s:f, s:b, s:b, s:f, s:I, s:I, s:I, s:I, s:s}",
        "arch", c->arch, "activation", bnn_activation_name(c->act), "likelihood",
        bnn_likelihood_name(c->lik), "noise_sd", c->noise_sd, "prior_var", prior_var,
        "prior_var_divided_by_fan_in", c->prior.divide_by_fan_in, "temperature",
        c->prior.temperature, "precision", c->precision == BNN_F32 ? "float32" : "float64",
        "step_size", c->hmc.step_size, "traj_len", c->hmc.traj_len, "max_leapfrog",
        (json_int_t)c->hmc.max_leapfrog, "jitter", c->hmc.jitter, "max_energy_error",
        c->hmc.max_energy_error, "chains", (json_int_t)c->chains, "burn_in",
        (json_int_t)c->burn_in, "warmup", (json_int_t)c->warmup, "samples",
        (json_int_t)c->samples, "thin", (json_int_t)c->thin, "metropolis", c->metropolis,
        "target_accept", c->target_accept, "adapt_step_size", c->adapt_step_size, "adapt_mass",
        c->adapt_mass, "init_scale", c->init_scale, "seed", (json_int_t)c->seed, "threads",
        (json_int_t)c->threads, "block_rows", (json_int_t)c->block_rows, "fs_points",
        (json_int_t)c->fs_points, "out", c->out_dir);
}

static json_t *data_json(const bnn_dataset *d, const bnn_dataset_options *o)
{
    return json_pack("{s:s?, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I}", "name",
                     o->name, "train", d->train_source, "test", d->test_source, "task",
                     d->task == BNN_TASK_CLASSIFY ? "classification" : "regression", "n_train",
                     (json_int_t)d->train.n, "n_test", (json_int_t)d->test.n, "n_features",
                     (json_int_t)d->train.d, "n_classes", (json_int_t)d->n_classes,
                     "train_subset", (json_int_t)o->train_subset, "standardized", o->standardize,
                     "target_col", (json_int_t)o->csv.target_col, "csv_header",
                     (json_int_t)o->csv.header);
}

static json_t *model_json(const bnn_mlp *m)
{
    json_t *widths = json_array(), *params = json_array();
    for (size_t l = 0; l <= m->n_layers; l++)
        json_array_append_new(widths, json_integer((json_int_t)m->width[l]));
    for (size_t l = 0; l < m->n_layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "layer%zu.w", l);
        json_array_append_new(params, json_pack("{s:s, s:I, s:[I,I]}", "name", name, "offset",
                                                (json_int_t)m->w_offset[l], "shape",
                                                (json_int_t)m->width[l],
                                                (json_int_t)m->width[l + 1]));
        snprintf(name, sizeof name, "layer%zu.b", l);
        json_array_append_new(params, json_pack("{s:s, s:I, s:[I]}", "name", name, "offset",
                                                (json_int_t)m->b_offset[l], "shape",
                                                (json_int_t)m->width[l + 1]));
    }
    return json_pack("{s:s, s:o, s:I, s:o, s:s}", "type", "mlp", "widths", widths, "n_params",
                     (json_int_t)m->n_params, "params", params, "layout",
                     "per dense layer: weights (in, out) row-major, then biases (out)");
}

json_t *bnn_run_describe(const struct bnn_run *r, const bnn_dataset_options *data_opt)
{
    json_t *stats = json_array();
    for (size_t i = 0; i < BNN_N_STATS; i++) json_array_append_new(stats, json_string(bnn_stat_names[i]));
    return json_pack("{s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:s, s:o}", "format",
                     "bnnmc-run", "format_version", 1, "bnnmc_version", "0.1.0", "status",
                     "running", "config", config_json(&r->cfg), "data",
                     data_json(r->data, data_opt), "model", model_json(&r->model), "fs_points",
                     (json_int_t)r->cfg.fs_points, "fs_outputs", (json_int_t)r->n_out,
                     "fs_output_meaning",
                     r->model.lik == BNN_LIK_GAUSSIAN ? "predictive mean" : "class probability",
                     "stat_names", stats);
}

/* Adds the chain's arrays to the manifest. */
static void describe_chain(const struct bnn_run *r, const struct chain *ch, json_t *arrays)
{
    static const char *const stats_dims[] = {"iteration", "stat"};
    static const char *const weight_dims[] = {"draw", "param"};
    static const char *const fs_dims[] = {"draw", "point", "output"};
    static const char *const warm_dims[] = {"iteration", "point", "output"};
    static const char *const bma_dims[] = {"test_point", "output"};
    static const char *const mass_dims[] = {"param"};
    const char *dt = r->cfg.precision == BNN_F32 ? "float32" : "float64";
    const long c = (long)ch->index;
    char path[64];
    size_t s2[2] = {ch->files.stats.rows, BNN_N_STATS};
    snprintf(path, sizeof path, "chain_%03zu/stats.npy", ch->index);
    json_array_append_new(arrays, bnn_store_manifest_entry("stats", c, path, "float64", 2, s2, stats_dims));
    size_t w[2] = {ch->files.weights.rows, r->model.n_params};
    snprintf(path, sizeof path, "chain_%03zu/weights.npy", ch->index);
    json_array_append_new(arrays, bnn_store_manifest_entry("weights", c, path, dt, 2, w, weight_dims));
    size_t f[3] = {ch->files.fs.rows, r->cfg.fs_points, r->n_out};
    snprintf(path, sizeof path, "chain_%03zu/fs.npy", ch->index);
    json_array_append_new(arrays, bnn_store_manifest_entry("fs", c, path, dt, 3, f, fs_dims));
    f[0] = ch->files.warmup_fs.rows;
    snprintf(path, sizeof path, "chain_%03zu/warmup_fs.npy", ch->index);
    json_array_append_new(arrays, bnn_store_manifest_entry("warmup_fs", c, path, dt, 3, f, warm_dims));
    size_t b[2] = {r->n_test, r->n_out};
    snprintf(path, sizeof path, "chain_%03zu/bma_sum.npy", ch->index);
    json_array_append_new(arrays, bnn_store_manifest_entry("bma_sum", c, path, "float64", 2, b, bma_dims));
    if (r->model.lik == BNN_LIK_GAUSSIAN) {
        snprintf(path, sizeof path, "chain_%03zu/bma_logdens.npy", ch->index);
        json_array_append_new(arrays, bnn_store_manifest_entry("bma_logdens", c, path, "float64", 1, b, bma_dims));
    }
    snprintf(path, sizeof path, "chain_%03zu/inv_mass.npy", ch->index);
    json_array_append_new(arrays, bnn_store_manifest_entry("inv_mass", c, path, "float64", 1, &r->model.n_params, mass_dims));
}

void bnn_run_describe_arrays(const struct bnn_run *r, json_t *root, const char *status)
{
    static const char *const test_dims[] = {"test_point"};
    static const char *const fs_dims[] = {"point"};
    json_t *arrays = json_array();
    json_array_append_new(arrays, bnn_store_manifest_entry("test_targets", -1, "test_targets.npy",
                                                           "float64", 1, &r->n_test, test_dims));
    json_array_append_new(arrays, bnn_store_manifest_entry("fs_index", -1, "fs_index.npy", "int64",
                                                           1, &r->cfg.fs_points, fs_dims));
    for (size_t ci = 0; ci < r->cfg.chains; ci++) describe_chain(r, &r->chains[ci], arrays);
    json_object_set_new(root, "arrays", arrays);
    json_object_set_new(root, "status", json_string(status));
    json_t *iters = json_array();
    for (size_t ci = 0; ci < r->cfg.chains; ci++) {
        json_array_append_new(iters, json_integer((json_int_t)r->chains[ci].iter));
    }
    json_object_set_new(root, "iterations_done", iters);
    json_t *n_bma = json_array();
    for (size_t ci = 0; ci < r->cfg.chains; ci++)
        json_array_append_new(n_bma, json_integer((json_int_t)r->chains[ci].n_bma));
    json_object_set_new(root, "bma_count", n_bma);
}
