/* Synthesised run directories for the alignment tests: run.json, and per chain stats.npy,
 * weights.npy and fs.npy written from arrays the test chooses. */
#ifndef BNN_TESTS_ALIGN_SYNTH_H
#define BNN_TESTS_ALIGN_SYNTH_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "nn/mlp.h"
#include "store/npy_writer.h"
#include "store/run_store.h"

/* Writes DIR/run.json for model m (activation m->act, prior variance 1 for every layer). */
static inline int synth_run_json(const char *dir, const bnn_mlp *m, size_t chains,
                                 size_t superchains, size_t fs_points, size_t fs_outputs)
{
    json_t *widths = json_array(), *params = json_array();
    for (size_t l = 0; l <= m->n_layers; l++) json_array_append_new(widths, json_integer((json_int_t)m->width[l]));
    for (size_t l = 0; l < m->n_layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "layer%zu.w", l);
        json_array_append_new(params, json_pack("{s:s, s:I, s:[I,I]}", "name", name, "offset",
                                                (json_int_t)m->w_offset[l], "shape",
                                                (json_int_t)m->width[l], (json_int_t)m->width[l + 1]));
        snprintf(name, sizeof name, "layer%zu.b", l);
        json_array_append_new(params, json_pack("{s:s, s:I, s:[I]}", "name", name, "offset",
                                                (json_int_t)m->b_offset[l], "shape",
                                                (json_int_t)m->width[l + 1]));
    }
    json_t *root = json_pack("{s:{s:I, s:I, s:s, s:[f], s:b}, s:{s:o, s:I, s:o}, s:I, s:I}",
                             "config", "chains", (json_int_t)chains, "superchains",
                             (json_int_t)superchains, "activation", bnn_activation_name(m->act),
                             "prior_var", 1.0, "prior_var_divided_by_fan_in", 0, "model",
                             "widths", widths, "n_params", (json_int_t)m->n_params, "params",
                             params, "fs_points", (json_int_t)fs_points, "fs_outputs",
                             (json_int_t)fs_outputs);
    char path[1024];
    snprintf(path, sizeof path, "%s/run.json", dir);
    int rc = json_dump_file(root, path, JSON_INDENT(1));
    json_decref(root);
    return rc;
}

/* Writes chain c's stats (all sampling, energies from x), weights (n, P) and fs (n, F, C). */
static inline int synth_chain(const char *dir, size_t c, size_t n, size_t P, const double *w,
                              size_t F, size_t C, const double *fs)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/chain_%03zu", dir, c);
    mkdir(path, 0755);
    double *stats = calloc(n * BNN_N_STATS, sizeof *stats);
    for (size_t i = 0; i < n; i++) {
        stats[i * BNN_N_STATS + BNN_STAT_PHASE] = 2;
        stats[i * BNN_N_STATS + BNN_STAT_ENERGY] = w[i * P] * 3 + (double)(i % 7);
        stats[i * BNN_N_STATS + BNN_STAT_STEP_SIZE] = 0.1;
        stats[i * BNN_N_STATS + BNN_STAT_ACCEPTED] = 1;
    }
    size_t s2[2] = {n, BNN_N_STATS}, w2[2] = {n, P}, f3[3] = {n, F, C};
    snprintf(path, sizeof path, "%s/chain_%03zu/stats.npy", dir, c);
    int rc = bnn_npy_write(path, "<f8", 2, s2, stats) != BNN_OK;
    snprintf(path, sizeof path, "%s/chain_%03zu/weights.npy", dir, c);
    rc |= bnn_npy_write(path, "<f8", 2, w2, w) != BNN_OK;
    snprintf(path, sizeof path, "%s/chain_%03zu/fs.npy", dir, c);
    rc |= bnn_npy_write(path, "<f8", 3, f3, fs) != BNN_OK;
    free(stats);
    return rc;
}

#endif
