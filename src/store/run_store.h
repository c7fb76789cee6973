/* The run directory: per-chain append-only .npy arrays and the run.json manifest.
 *
 *   DIR/run.json                  configuration (every default written out), model layout,
 *                                 data description, status, and the manifest of arrays
 *   DIR/test_targets.npy          (n_test) float64 targets of the whole test set
 *   DIR/fs_index.npy              (point) int64 rows of the test set recorded in function space
 *   DIR/chain_NNN/stats.npy       (iteration, stat) float64, every iteration (columns below)
 *   DIR/chain_NNN/weights.npy     (draw, param) run precision, every thin-th sampling iteration
 *   DIR/chain_NNN/fs.npy          (draw, point, output) run precision, every sampling iteration
 *   DIR/chain_NNN/warmup_fs.npy   (iteration, point, output) burn-in and warm-up iterations
 *   DIR/chain_NNN/bma_sum.npy     (n_test, output) float64: Σ over sampling iterations of the
 *                                 predicted probabilities (regression: means)
 *   DIR/chain_NNN/bma_logdens.npy (n_test) float64, regression only: log Σ_draws p(y | θ)
 *   DIR/chain_NNN/bma_sumsq.npy   (n_test) float64, regression only: Σ_draws (μ² + σ²)
 *   DIR/chain_NNN/hyper.npy       (iteration, hyper) float64, every iteration, with a hierarchical
 *                                 prior: the precisions after the iteration's Gibbs update
 *   DIR/chain_NNN/inv_mass.npy    (param) float64: the adapted inverse metric
 *   DIR/chain_NNN/records.log     per iteration: where its rows are and their CRC-32
 *   DIR/chain_NNN/checkpoint.bin  the chain's whole state (and checkpoint.prev.bin) */
#ifndef BNN_STORE_RUN_STORE_H
#define BNN_STORE_RUN_STORE_H

#include <jansson.h>
#include <stdio.h>

#include "data/npy.h"
#include "store/checkpoint.h"
#include "store/npy_writer.h"
#include "store/record_log.h"

enum {
    BNN_STAT_PHASE,        /* 0 burn-in, 1 warm-up, 2 sampling */
    BNN_STAT_ACCEPT_PROB,
    BNN_STAT_ACCEPTED,
    BNN_STAT_DIVERGENT,
    BNN_STAT_ENERGY,
    BNN_STAT_ENERGY_ERROR,
    BNN_STAT_STEP_SIZE,
    BNN_STAT_N_LEAPFROG,
    BNN_STAT_LOG_LIK,
    BNN_STAT_LOG_PRIOR,
    BNN_STAT_TREE_DEPTH,   /* NUTS: doublings of the trajectory; 0 for static HMC */
    BNN_N_STATS
};

/* Runs written before the tree_depth column have this many columns: readers accept them and
 * read tree_depth as 0 (static HMC, the only sampler then). */
#define BNN_N_STATS_V1 10

/* Column names of stats.npy, in order. */
extern const char *const bnn_stat_names[BNN_N_STATS];

/* Checks the header of a stats.npy: 2-D with BNN_N_STATS (or BNN_N_STATS_V1) columns. */
bnn_status bnn_stats_check_header(const bnn_npy_header *h, const char *path);

/* Rows [first, first + n) of a stats.npy (header checked) into out (n, BNN_N_STATS): the columns
 * an older file lacks are 0. */
bnn_status bnn_stats_read_rows(FILE *f, const char *path, const bnn_npy_header *h, size_t first,
                               size_t n, double *out);

typedef struct {
    bnn_npy_writer stats, weights, fs, warmup_fs;
    bnn_npy_writer hyper; /* hyper.npy, one row per iteration (like stats); fd -1 without */
    bnn_record_log log;  /* records.log: one checksummed record per iteration */
} bnn_chain_files;

/* The shape of a chain's arrays: params per weight row, function-space points and outputs,
 * hyperparameters per hyper row (0: no hyper.npy). */
typedef struct {
    size_t n_params, fs_points, fs_outputs, n_hyper;
} bnn_chain_shape;

/* Creates DIR (and parents). Refuses a directory that already holds a run.json unless
 * overwrite is set. */
bnn_status bnn_store_create(const char *dir, int overwrite);

/* Opens chain `chain`'s arrays. descr is the dtype of weights and function-space outputs. */
bnn_status bnn_store_chain_open(const char *dir, size_t chain, const char *descr,
                                const bnn_chain_shape *shape, bnn_chain_files *f);
/* Reopens chain `chain`'s arrays after a restart, cut back to rows[] = (stats, weights, fs,
 * warmup_fs rows, log records) as recorded by its checkpoint; hyper.npy to the stats rows. */
bnn_status bnn_store_chain_reopen(const char *dir, size_t chain, const char *descr,
                                  const bnn_chain_shape *shape, const size_t rows[5],
                                  bnn_chain_files *f);

/* Checks that chain `chain`'s files hold at least the rows[] = (stats, weights, fs, warmup_fs
 * rows, log records) a checkpoint recorded (and hyper.npy, when shape->n_hyper, as many rows as
 * stats.npy); itemsize is the bytes per number of weights and function-space rows. BNN_EFORMAT
 * names the first file that falls short. */
bnn_status bnn_store_chain_holds(const char *dir, size_t chain, size_t itemsize,
                                 const bnn_chain_shape *shape, const uint64_t rows[5]);

/* Writes parts as chain `chain`'s newest checkpoint, DIR/chain_NNN/checkpoint.bin; the one it
 * replaces is kept as checkpoint.prev.bin (store/checkpoint.h). */
bnn_status bnn_store_chain_checkpoint(const char *dir, size_t chain, const bnn_ckpt_part *parts,
                                      size_t n_parts);

/* Reads the checkpoint file at path into a chain's state (ctx): fails, saying why, when the file
 * is damaged or does not fit the run. */
typedef bnn_status (*bnn_ckpt_load_fn)(void *ctx, const char *path);

/* Restores chain `chain` through load from its newest checkpoint or, when that one is damaged,
 * from checkpoint.prev.bin, appending "chain N: why; resuming from PREV" as a line of warning
 * (a buffer of warning_len bytes). Leaves *restored = 0 and returns BNN_OK when the chain has
 * no checkpoint (killed before its first one: it starts anew). */
bnn_status bnn_store_chain_restore(const char *dir, size_t chain, bnn_ckpt_load_fn load,
                                   void *ctx, char *warning, size_t warning_len, int *restored);

/* Appends the record of the iteration whose rows were just appended (weights only if
 * with_weights, function space to fs or warmup_fs). */
bnn_status bnn_store_chain_log(bnn_chain_files *f, uint64_t iteration, int with_weights,
                               int sampling);

/* fsync of every array and the log (before a checkpoint names their lengths). */
bnn_status bnn_store_chain_flush(bnn_chain_files *f);
bnn_status bnn_store_chain_sync(bnn_chain_files *f);
bnn_status bnn_store_chain_close(bnn_chain_files *f);

/* Path of a file of chain `chain` ("DIR/chain_NNN/NAME"). */
void bnn_store_chain_path(char *buf, size_t len, const char *dir, size_t chain, const char *name);

/* Writes DIR/run.json atomically (temporary file, fsync, rename). */
bnn_status bnn_store_write_json(const char *dir, json_t *root);

/* A parameter tensor of the model as run.json lists it in model.params ("layer0.w", offset,
 * shape). */
#define BNN_PARAM_MAX_DIMS 4
typedef struct {
    char name[64];
    size_t offset, size; /* position in the flat parameter vector, number of values */
    size_t ndim, shape[BNN_PARAM_MAX_DIMS];
} bnn_param_block;

/* Reads model.params (`params`, from the run.json at `path`) of a model of n_params numbers into
 * *out (a new array of *n blocks, free()): every entry needs a name (shorter than 64 bytes), an
 * offset >= 0 and a shape of at most BNN_PARAM_MAX_DIMS positive sizes, and must lie inside the
 * n_params numbers; an error names the file and the entry. */
bnn_status bnn_store_read_params(const json_t *params, const char *path, size_t n_params,
                                 bnn_param_block **out, size_t *n);

/* A manifest entry {"name", "chain", "path", "dtype", "shape", "dims"}; chain < 0 for none. */
json_t *bnn_store_manifest_entry(const char *name, long chain, const char *path, const char *dtype,
                                 size_t ndim, const size_t *shape, const char *const *dims);

#endif
