/* The run's description in run.json: resolved configuration, data, model layout, manifest. */
#include "sample/run_internal.h"
#include "sample/run_describe.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static json_t *config_json(const bnn_run_config *c)
{
    json_t *prior_var = json_array();
    for (size_t i = 0; i < c->prior.n_var; i++)
        json_array_append_new(prior_var, json_real(c->prior.var[i]));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:f, s:o, s:b, s:f, s:s, s:f, s:f, s:I, s:f, s:f, s:I, s:I, s:I, s:I, "
        "s:I, s:b, s:f, s:b, s:b, s:f, s:I, s:I, s:I, s:I, s:s, s:f}",
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
        (json_int_t)c->fs_points, "out", c->out_dir, "checkpoint_interval",
        c->checkpoint_interval);
    if (!o) return NULL;
    char text[128];
    bnn_prior_family_format(&c->prior.family, text, sizeof text);
    json_object_set_new(o, "prior", json_string(text));
    const bnn_hyper_options *h = &c->prior.hyper;
    bnn_gamma_prior_format(&h->layers, text, sizeof text);
    json_object_set_new(o, "prior_hyper", h->layers.on ? json_string(text) : json_null());
    json_object_set_new(o, "ard", json_boolean(h->ard));
    bnn_gamma_prior_format(&h->noise, text, sizeof text);
    json_object_set_new(o, "noise_hyper", h->noise.on ? json_string(text) : json_null());
    json_object_set_new(o, "sampler", json_string(c->sampler == BNN_SAMPLER_NUTS ? "nuts" : "hmc"));
    json_object_set_new(o, "max_depth", json_integer((json_int_t)c->max_depth));
    json_object_set_new(o, "superchains", json_integer((json_int_t)c->superchains));
    json_object_set_new(o, "symmetry_moves", json_boolean(c->symmetry_moves));
    json_object_set_new(o, "data_shards", json_integer((json_int_t)c->data_shards));
    json_object_set_new(o, "rank_groups", json_integer((json_int_t)c->rank_groups));
    if (c->init_from[0]) json_object_set_new(o, "init_from", json_string(c->init_from));
    if (c->device == BNN_DEVICE_CUDA) { /* absent: cpu (and run.json as before) */
        json_object_set_new(o, "device", json_string("cuda"));
        json_object_set_new(o, "math", json_string(c->tf32 ? "tf32" : "float32"));
    }
    return o;
}

json_t *bnn_run_data_json(const bnn_dataset *d, const bnn_dataset_options *o)
{
    json_t *j = json_pack("{s:s?, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I}", "name",
                     o->name, "train", d->train_source, "test", d->test_source, "task",
                     d->task == BNN_TASK_CLASSIFY ? "classification" : "regression", "n_train",
                     (json_int_t)d->train.n, "n_test", (json_int_t)d->test.n, "n_features",
                     (json_int_t)d->train.d, "n_classes", (json_int_t)d->n_classes,
                     "train_subset", (json_int_t)o->train_subset, "standardized", o->standardize,
                     "target_col", (json_int_t)o->csv.target_col, "csv_header",
                     (json_int_t)o->csv.header);
    if (j) json_object_set_new(j, "pad_to", json_integer((json_int_t)o->pad_to));
    if (j && d->target_standardized) /* only then, so that older runs still compare equal */
        json_object_update_new(j, json_pack("{s:b, s:f, s:f}", "standardized_target", 1,
                                            "target_mean", d->target_mean, "target_sd",
                                            d->target_sd));
    return j;
}

json_t *bnn_run_model_json(const bnn_net *net)
{
    json_t *params = json_array();
    for (size_t k = 0; k < net->n_tensors; k++) {
        const bnn_tensor *t = &net->tensors[k];
        json_t *shape = json_array();
        for (size_t d = 0; d < t->ndim; d++)
            json_array_append_new(shape, json_integer((json_int_t)t->shape[d]));
        json_array_append_new(params, json_pack("{s:s, s:I, s:o, s:I, s:I, s:b}", "name", t->name,
                                                "offset", (json_int_t)t->offset, "shape", shape,
                                                "prior_group", (json_int_t)t->prior_group,
                                                "fan_in", (json_int_t)t->fan_in, "is_bias",
                                                t->is_bias));
    }
    json_t *o = json_pack("{s:s, s:I, s:I, s:o}", "type", net->kind, "n_params",
                          (json_int_t)net->n_params, "n_logits", (json_int_t)net->n_logits,
                          "params", params);
    if (net->mlp) {
        json_t *widths = json_array();
        for (size_t l = 0; l <= net->mlp->n_layers; l++)
            json_array_append_new(widths, json_integer((json_int_t)net->mlp->width[l]));
        json_object_set_new(o, "widths", widths);
        json_object_set_new(o, "layout", json_string("per dense layer: weights (in, out) "
                                                     "row-major, then biases (out)"));
    }
    return o;
}

/* What the recorded outputs of one test input are (run.json's fs_output_meaning). */
static const char *fs_meaning(bnn_likelihood lik)
{
    if (lik == BNN_LIK_GAUSSIAN) return "predictive mean";
    return lik == BNN_LIK_HETERO_GAUSSIAN ? "predictive mean and sd" : "class probability";
}

json_t *bnn_run_describe(const struct bnn_run *r, const bnn_dataset_options *data_opt)
{
    json_t *stats = json_array(), *hyper = json_array();
    for (size_t i = 0; i < BNN_N_STATS; i++) json_array_append_new(stats, json_string(bnn_stat_names[i]));
    const bnn_hyper_options *h = &r->cfg.prior.hyper;
    for (size_t k = 0; k < bnn_hyper_count(&r->model, h); k++) {
        char name[64];
        bnn_hyper_name(&r->model, h, k, name, sizeof name);
        json_array_append_new(hyper, json_string(name));
    }
    json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:s, s:o}", "format",
                     "bnnmc-run", "format_version", 1, "bnnmc_version", "0.1.0", "status",
                     "running", "config", config_json(&r->cfg), "data",
                     bnn_run_data_json(r->data, data_opt), "model",
                     bnn_run_model_json(&r->model), "fs_points",
                     (json_int_t)r->cfg.fs_points, "fs_outputs", (json_int_t)r->n_out,
                     "fs_output_meaning", fs_meaning(r->model.lik), "stat_names", stats);
    if (o) json_object_set_new(o, "hyper_names", hyper);
    else json_decref(hyper);
    return o;
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
    if (bnn_likelihood_is_regression(r->model.lik)) {
        snprintf(path, sizeof path, "chain_%03zu/bma_logdens.npy", ch->index);
        json_array_append_new(arrays, bnn_store_manifest_entry("bma_logdens", c, path, "float64", 1, b, bma_dims));
        snprintf(path, sizeof path, "chain_%03zu/bma_sumsq.npy", ch->index);
        json_array_append_new(arrays, bnn_store_manifest_entry("bma_sumsq", c, path, "float64", 1, b, bma_dims));
    }
    snprintf(path, sizeof path, "chain_%03zu/inv_mass.npy", ch->index);
    json_array_append_new(arrays, bnn_store_manifest_entry("inv_mass", c, path, "float64", 1, &r->model.n_params, mass_dims));
    const size_t n_hyper = bnn_hyper_count(&r->model, &r->cfg.prior.hyper);
    if (n_hyper) {
        static const char *const hyper_dims[] = {"iteration", "hyper"};
        size_t hs[2] = {ch->files.stats.rows, n_hyper};
        snprintf(path, sizeof path, "chain_%03zu/hyper.npy", ch->index);
        json_array_append_new(arrays, bnn_store_manifest_entry("hyper", c, path, "float64", 2, hs, hyper_dims));
    }
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

/* Settings that may change when a run is resumed: they do not change its results (samples:
 * only in a run that a larger number extends). */
static int may_differ(const char *key, int extendable)
{
    return !strcmp(key, "threads") || !strcmp(key, "checkpoint_interval") ||
           !strcmp(key, "rank_groups") || !strcmp(key, "out") ||
           (extendable && !strcmp(key, "samples"));
}

/* The first key whose values differ between a and b (both objects), or NULL. */
static const char *first_difference(json_t *a, json_t *b, int extendable)
{
    const char *key;
    json_t *v;
    json_object_foreach(a, key, v) {
        if (!may_differ(key, extendable) && !json_equal(v, json_object_get(b, key))) return key;
    }
    json_object_foreach(b, key, v) {
        if (!may_differ(key, extendable) && !json_object_get(a, key)) return key;
    }
    return NULL;
}

/* The old run.json (path) against the new run's description: the same configuration and data,
 * an unfinished run or --resume, no fewer samples. */
static bnn_status compare_runs(json_t *old, json_t *now, const char *path,
                               const bnn_run_existing *e)
{
    json_t *old_cfg = json_object_get(old, "config"), *new_cfg = json_object_get(now, "config");
    json_t *old_data = json_object_get(old, "data"), *new_data = json_object_get(now, "data");
    const char *diff = NULL, *status = json_string_value(json_object_get(old, "status"));
    const json_int_t old_samples = json_integer_value(json_object_get(old_cfg, "samples"));
    if (!json_is_object(old_cfg) || !json_is_object(old_data) ||
        json_integer_value(json_object_get(old, "format_version")) != 1)
        return BNN_ERROR(BNN_EFORMAT, "%s: not a bnnmc run of format version 1 (pass "
                                      "--overwrite to replace it)", path);
    if (json_array_size(json_object_get(old, "stat_names")) < BNN_N_STATS)
        return BNN_ERROR(BNN_EFORMAT, "%s: the run was written by an older bnnmc (stats.npy "
                                      "without the tree_depth column): it can be read, not "
                                      "resumed or extended; choose another --out or pass "
                                      "--overwrite", path);
    if (e->old_defaults) json_object_update_missing(old_cfg, e->old_defaults);
    diff = first_difference(old_cfg, new_cfg, e->extendable);
    if (diff && !strcmp(diff, "samples"))
        return BNN_ERROR(BNN_EINVAL, "%s holds a run of %lld samples per chain whose number of "
                                     "samples cannot change (config.samples differs); choose "
                                     "another --out or pass --overwrite", path,
                         (long long)old_samples);
    if (diff)
        return BNN_ERROR(BNN_EINVAL, "%s holds a run with another configuration (config.%s "
                                     "differs); resume it with --resume %s, choose another "
                                     "--out, or pass --overwrite", path, diff, e->dir);
    if ((diff = first_difference(old_data, new_data, e->extendable)))
        return BNN_ERROR(BNN_EINVAL, "%s holds a run on other data (data.%s differs); choose "
                                     "another --out or pass --overwrite", path, diff);
    if (!e->resume && status && !strcmp(status, "complete") && e->extendable)
        return BNN_ERROR(BNN_EINVAL, "%s holds a complete run; extend it with --resume %s "
                                     "--samples N, choose another --out, or pass --overwrite",
                         path, e->dir);
    if (!e->resume && status && !strcmp(status, "complete"))
        return BNN_ERROR(BNN_EINVAL, "%s holds a complete run; choose another --out or pass "
                                     "--overwrite", path);
    if (old_samples > 0 && (size_t)old_samples > e->samples)
        return BNN_ERROR(BNN_EINVAL, "%s holds a run of %lld samples per chain; a resumed run "
                                     "can extend it but not shorten it (--samples %zu)", path,
                         (long long)old_samples, e->samples);
    return BNN_OK;
}

bnn_status bnn_run_check_existing_json(const bnn_run_existing *e, json_t *now, int *resume)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", e->dir);
    *resume = 0;
    if (e->resume && access(path, F_OK) != 0)
        return BNN_ERROR(BNN_EINVAL, "--resume %s: there is no run to resume (%s is missing)",
                         e->dir, path);
    if (e->overwrite || access(path, F_OK) != 0) return BNN_OK;
    json_error_t err;
    json_t *old = json_load_file(path, 0, &err);
    if (!old)
        return BNN_ERROR(BNN_EFORMAT, "%s: line %d: %s (pass --overwrite to replace it)", path,
                         err.line, err.text);
    bnn_status s = compare_runs(old, now, path, e);
    json_decref(old);
    if (s == BNN_OK) *resume = 1;
    return s;
}

bnn_status bnn_run_check_existing(struct bnn_run *r)
{
    /* settings added since format version 1 began: an older run had their defaults */
    json_t *defaults = json_pack("{s:s, s:n, s:b, s:n}", "prior", "gaussian", "prior_hyper",
                                 "ard", 0, "noise_hyper");
    const bnn_run_existing e = {r->cfg.out_dir, r->cfg.resume, r->cfg.overwrite, r->cfg.samples,
                                1, defaults};
    bnn_status s = bnn_run_check_existing_json(&e, r->json, &r->resume);
    json_decref(defaults);
    return s;
}

/* The settings of run.json's config that every method writes (sample, train): model, prior,
 * chains, samples, start, seed and execution. */
static bnn_status shared_from_json(json_t *o, const char *path, bnn_run_config *c)
{
    const char *arch, *act, *lik, *prec;
    json_t *prior_var;
    json_int_t chains, samples, seed, threads, block_rows, fs;
    int fan_in;
    json_error_t err;
    if (json_unpack_ex(o, &err, 0, "{s:s, s:s, s:s, s:F, s:o, s:b, s:F, s:s, s:I, s:I, s:F, "
                                   "s:I, s:I, s:I, s:I, s?F}", "arch", &arch, "activation", &act,
                       "likelihood", &lik, "noise_sd", &c->noise_sd, "prior_var", &prior_var,
                       "prior_var_divided_by_fan_in", &fan_in, "temperature",
                       &c->prior.temperature, "precision", &prec, "chains", &chains,
                       "samples", &samples, "init_scale", &c->init_scale, "seed", &seed,
                       "threads", &threads, "block_rows", &block_rows, "fs_points", &fs,
                       "checkpoint_interval", &c->checkpoint_interval) != 0 ||
        !json_is_array(prior_var) || json_array_size(prior_var) == 0 ||
        json_array_size(prior_var) > BNN_NET_MAX_TENSORS ||
        snprintf(c->arch, sizeof c->arch, "%s", arch) >= (int)sizeof c->arch)
        return BNN_ERROR(BNN_EFORMAT, "%s: config: %s", path,
                         err.text[0] ? err.text : "prior_var or arch malformed");
    BNN_TRY(bnn_activation_parse(act, &c->act));
    BNN_TRY(bnn_likelihood_parse(lik, &c->lik));
    c->prior.n_var = json_array_size(prior_var);
    for (size_t i = 0; i < c->prior.n_var; i++)
        c->prior.var[i] = json_real_value(json_array_get(prior_var, i));
    c->prior.divide_by_fan_in = fan_in;
    c->precision = !strcmp(prec, "float64") ? BNN_F64 : BNN_F32;
    c->chains = (size_t)chains;
    c->samples = (size_t)samples;
    c->seed = (uint64_t)seed;
    c->threads = (size_t)threads;
    c->block_rows = (size_t)block_rows;
    c->fs_points = (size_t)fs;
    return BNN_OK;
}

/* The sampler's settings of config_json back into c (the rest: shared_from_json). */
static bnn_status sampler_from_json(json_t *o, const char *path, bnn_run_config *c)
{
    json_int_t max_lf, burn_in, warmup, thin;
    int metropolis, adapt_step, adapt_mass;
    json_error_t err;
    if (json_unpack_ex(o, &err, 0, "{s:F, s:F, s:I, s:F, s:F, s:I, s:I, s:I, s:b, s:F, s:b, s:b}",
                       "step_size", &c->hmc.step_size, "traj_len", &c->hmc.traj_len,
                       "max_leapfrog", &max_lf, "jitter", &c->hmc.jitter, "max_energy_error",
                       &c->hmc.max_energy_error, "burn_in", &burn_in, "warmup", &warmup, "thin",
                       &thin, "metropolis", &metropolis, "target_accept", &c->target_accept,
                       "adapt_step_size", &adapt_step, "adapt_mass", &adapt_mass) != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: config: %s", path, err.text);
    c->hmc.max_leapfrog = (size_t)max_lf;
    c->burn_in = (size_t)burn_in;
    c->warmup = (size_t)warmup;
    c->thin = (size_t)thin;
    c->metropolis = metropolis;
    c->adapt_step_size = adapt_step;
    c->adapt_mass = adapt_mass;
    json_t *sampler = json_object_get(o, "sampler"), *max_depth = json_object_get(o, "max_depth");
    if (sampler && !json_is_string(sampler))
        return BNN_ERROR(BNN_EFORMAT, "%s: config.sampler: expected \"hmc\" or \"nuts\"", path);
    if (sampler && !strcmp(json_string_value(sampler), "nuts")) c->sampler = BNN_SAMPLER_NUTS;
    else if (sampler && strcmp(json_string_value(sampler), "hmc") != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: config.sampler: expected \"hmc\" or \"nuts\", got "
                                      "\"%.40s\"", path, json_string_value(sampler));
    if (max_depth && (!json_is_integer(max_depth) || json_integer_value(max_depth) < 1 ||
                      json_integer_value(max_depth) > BNN_NUTS_MAX_DEPTH_LIMIT))
        return BNN_ERROR(BNN_EFORMAT, "%s: config.max_depth: expected an integer in [1, %d]",
                         path, BNN_NUTS_MAX_DEPTH_LIMIT);
    if (max_depth) c->max_depth = (size_t)json_integer_value(max_depth);
    c->superchains = (size_t)json_integer_value(json_object_get(o, "superchains"));
    c->symmetry_moves = json_is_true(json_object_get(o, "symmetry_moves"));
    json_t *shards = json_object_get(o, "data_shards");
    c->data_shards = shards ? (size_t)json_integer_value(shards) : 1;
    json_t *rank_groups = json_object_get(o, "rank_groups");
    c->rank_groups = rank_groups ? (size_t)json_integer_value(rank_groups) : 1;
    const char *init_from = json_string_value(json_object_get(o, "init_from"));
    if (init_from && snprintf(c->init_from, sizeof c->init_from, "%s", init_from) >=
                         (int)sizeof c->init_from)
        return BNN_ERROR(BNN_EFORMAT, "%s: config.init_from is too long", path);
    json_t *family = json_object_get(o, "prior"); /* absent in older runs: Gaussian */
    if (family && !json_is_string(family))
        return BNN_ERROR(BNN_EFORMAT, "%s: config.prior is not a string", path);
    if (family) BNN_TRY(bnn_prior_family_parse(json_string_value(family), &c->prior.family));
    bnn_hyper_options *h = &c->prior.hyper; /* absent in older runs: none */
    json_t *layers = json_object_get(o, "prior_hyper"), *noise = json_object_get(o, "noise_hyper");
    if (json_is_string(layers))
        BNN_TRY(bnn_gamma_prior_parse("config.prior_hyper", json_string_value(layers), &h->layers));
    if (json_is_string(noise))
        BNN_TRY(bnn_gamma_prior_parse("config.noise_hyper", json_string_value(noise), &h->noise));
    h->ard = json_is_true(json_object_get(o, "ard"));
    const char *device = json_string_value(json_object_get(o, "device"));
    if (device && strcmp(device, "cuda") != 0 && strcmp(device, "cpu") != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: config.device: unknown device '%s'", path, device);
    c->device = device && !strcmp(device, "cuda") ? BNN_DEVICE_CUDA : BNN_DEVICE_CPU;
    const char *math = json_string_value(json_object_get(o, "math"));
    c->tf32 = math && !strcmp(math, "tf32");
    return BNN_OK;
}

/* The data object of run.json back into d. */
static bnn_status data_from_json(json_t *o, const char *path, bnn_dataset_options *d,
                                 bnn_run_data_strings *st)
{
    const char *name = NULL, *train, *test, *task;
    json_int_t n_classes, subset, target_col, header;
    int standardized;
    json_error_t err;
    json_t *name_json = NULL; /* a string, or null for data from --train/--test */
    if (json_unpack_ex(o, &err, 0, "{s?o, s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:I}", "name",
                       &name_json, "train", &train, "test", &test, "task", &task, "n_classes",
                       &n_classes, "train_subset", &subset, "standardized", &standardized,
                       "target_col", &target_col, "csv_header", &header) != 0)
        return BNN_ERROR(BNN_EFORMAT, "%s: data: %s", path, err.text);
    if (name_json && !json_is_null(name_json) && !json_is_string(name_json))
        return BNN_ERROR(BNN_EFORMAT, "%s: data.name is neither a string nor null", path);
    name = json_string_value(name_json);
    memset(d, 0, sizeof *d);
    if (name) {
        snprintf(st->name, sizeof st->name, "%s", name);
        d->name = st->name;
    } else {
        snprintf(st->train, sizeof st->train, "%s", train);
        snprintf(st->test, sizeof st->test, "%s", test);
        d->train_spec = st->train;
        d->test_spec = st->test;
    }
    d->task = !strcmp(task, "regression") ? BNN_TASK_REGRESS : BNN_TASK_CLASSIFY;
    d->n_classes = d->task == BNN_TASK_CLASSIFY ? (size_t)n_classes : 0;
    d->train_subset = (size_t)subset;
    d->standardize = standardized;
    d->csv.target_col = (long)target_col;
    d->csv.header = (int)header;
    d->pad_to = (size_t)json_integer_value(json_object_get(o, "pad_to"));
    d->standardize_target = json_is_true(json_object_get(o, "standardized_target")) ? 1 : -1;
    return BNN_OK;
}

bnn_status bnn_run_settings_read(const char *dir, bnn_run_config *c, bnn_dataset_options *d,
                                 bnn_run_data_strings *strings, json_t **config)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", dir);
    *config = NULL;
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) return BNN_ERROR(BNN_EFORMAT, "%s: line %d: %s", path, err.line, err.text);
    json_t *cfg = json_object_get(root, "config"), *data = json_object_get(root, "data");
    bnn_status s = json_is_object(cfg) && json_is_object(data)
                       ? shared_from_json(cfg, path, c)
                       : BNN_ERROR(BNN_EFORMAT, "%s: no config or data object", path);
    if (s == BNN_OK) s = data_from_json(data, path, d, strings);
    if (s == BNN_OK && snprintf(c->out_dir, sizeof c->out_dir, "%s", dir) >= (int)sizeof c->out_dir)
        s = BNN_ERROR(BNN_EINVAL, "run directory name too long: %s", dir);
    if (s == BNN_OK) *config = json_incref(cfg);
    json_decref(root);
    return s;
}

bnn_status bnn_run_config_read(const char *dir, bnn_run_config *c, bnn_dataset_options *d,
                               bnn_run_data_strings *strings)
{
    bnn_run_config_defaults(c);
    json_t *cfg;
    BNN_TRY(bnn_run_settings_read(dir, c, d, strings, &cfg));
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", dir);
    const json_t *method = json_object_get(cfg, "method"); /* only `bnnmc train` writes it */
    bnn_status s = !method ? sampler_from_json(cfg, path, c)
                           : BNN_ERROR(BNN_EINVAL, "%s: a run of `bnnmc train --method %s` (config."
                                                   "method), not of `bnnmc sample`: resume it with "
                                                   "`bnnmc train --resume %s`", path,
                                       json_is_string(method) ? json_string_value(method) : "?",
                                       dir);
    json_decref(cfg);
    return s;
}
