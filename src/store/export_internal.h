/* Shared by the exporters: a run directory opened for reading (run.json's layout and the common
 * number of draws over chains) and row reads from one chain's .npy arrays. */
#ifndef BNN_STORE_EXPORT_INTERNAL_H
#define BNN_STORE_EXPORT_INTERNAL_H

#include <jansson.h>
#include <stdio.h>

#include "data/npy.h"
#include "store/export.h"
#include "store/run_store.h"

#define BNN_EXPORT_MAX_CHAINS 4096
#define BNN_EXPORT_MAX_DIMS BNN_PARAM_MAX_DIMS

/* A parameter tensor of the model as run.json lists it ("layer0.w", offset, shape). */
typedef struct {
    char name[64];       /* "layer0.w" */
    char var_name[64];   /* "layer0_w": the name in NetCDF and Stan CSV ('.' becomes '_') */
    size_t offset, size; /* position in the flat parameter vector, number of values */
    size_t ndim, shape[BNN_EXPORT_MAX_DIMS];
} bnn_export_block;

typedef struct {
    const char *dir;          /* borrowed */
    json_t *root;             /* run.json, owned */
    size_t n_chain, n_params, fs_points, fs_outputs, thin;
    size_t first_sampling;    /* stats.npy row of the first sampling iteration (burn-in + warm-up) */
    double temperature;       /* lp = (log_lik + log_prior) / temperature */
    bnn_export_block *blocks; /* (n_blocks) */
    size_t n_blocks;
    int has_weights, has_fs;  /* every chain has weights.npy / fs.npy */
    size_t weight_draws;      /* common minimum over chains of weights.npy rows */
    size_t draws;             /* common minimum of sampling iterations in stats.npy (and fs.npy) */
    size_t stat_cols;         /* columns of stats.npy: BNN_N_STATS, or BNN_N_STATS_V1 (older run) */
    bnn_npy_dtype dtype;      /* of weights and fs (float32 or float64) */
    size_t n_hyper;           /* hierarchical priors: run.json's hyper_names (0: none) */
    char (*hyper_names)[64];  /* (n_hyper) "tau.layer0", as run.json names them */
    char (*hyper_vars)[64];   /* (n_hyper) "tau_layer0": NetCDF names ('.' becomes '_') */
    int has_hyper;            /* n_hyper > 0 and every chain has hyper.npy */
    size_t hyper_draws;       /* thinned sampling rows every chain's hyper.npy holds; row of
                               * draw d: first_sampling + d · thin (as for the weights) */
    size_t hyper_sampling;    /* sampling rows (not thinned) every chain's hyper.npy holds */
} bnn_export_run;

/* Reads DIR/run.json and every chain's array headers; checks their shapes against run.json. */
bnn_status bnn_export_run_open(const char *dir, bnn_export_run *r);
void bnn_export_run_close(bnn_export_run *r);

/* One chain's open .npy array. */
typedef struct {
    FILE *f;
    char path[1100];
    bnn_npy_header h;
    size_t row_len;           /* values per leading-dimension row */
} bnn_export_array;

/* Opens DIR/chain_NNN/NAME (chain < 0: DIR/NAME); *missing = 1 (and BNN_OK) if absent, when
 * missing is not NULL. */
bnn_status bnn_export_array_open(const char *dir, long chain, const char *name,
                                 bnn_export_array *a, int *missing);
/* Rows [first, first + n) as doubles into out (n * row_len). */
bnn_status bnn_export_array_rows(bnn_export_array *a, size_t first, size_t n, double *out);
void bnn_export_array_close(bnn_export_array *a);

/* Sampling iterations [draw, draw + n) of a chain's stats.npy (opened in a) into out
 * (n, BNN_N_STATS); refuses rows whose phase column is not 2 (sampling). */
bnn_status bnn_export_sampling_stats(bnn_export_array *a, const bnn_export_run *r, size_t draw,
                                     size_t n, double *out);

/* Rows per block so that one block of rows of row_len doubles takes about opt->block_bytes
 * (64 MiB when 0); at least 1. */
size_t bnn_export_block_rows(const bnn_export_options *opt, size_t row_len);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void bnn_export_timestamp(char *buf, size_t len);

#endif
