/* The CPU backend: training data in fixed blocks of rows, processed by a thread team with one
 * single-threaded BLAS call per block and summed in block order (so any thread count gives the
 * same bits). */
#ifndef BNN_BACKEND_CPU_H
#define BNN_BACKEND_CPU_H

#include "backend/backend.h"
#include "nn/net.h"

/* Inputs converted once to the run's precision, shared read-only by every chain's backend. */
typedef struct bnn_cpu_data bnn_cpu_data;

/* x_train (n_train, d) and y_train (n_train); x_predict (n_predict, d) may be NULL. The arrays
 * are copied (and converted). block_rows is the fixed block size of the reduction. */
bnn_status bnn_cpu_data_alloc(bnn_precision prec, size_t d, const double *x_train,
                              const double *y_train, size_t n_train, const double *x_predict,
                              size_t n_predict, size_t block_rows, bnn_cpu_data **out);
void bnn_cpu_data_free(bnn_cpu_data *data);

/* Replaces the training targets (n_train, in the order given to bnn_cpu_data_alloc), as a
 * simulation that regenerates the data does (the Geweke test); no backend may be computing. */
void bnn_cpu_data_set_targets(bnn_cpu_data *data, const double *y_train);

/* Training blocks are summed in a fixed order of two levels: blocks in order within each of
 * n_shards shards (fixed groups of consecutive blocks), then shards in order. A process may hold
 * only some shards (data parallelism over MPI ranks); summing the shard sums of all processes in
 * shard order then gives the same bits as one process holding every shard. */
typedef struct {
    size_t n_total;        /* training rows of the whole data set */
    size_t n_shards;       /* shards the blocks of the whole data set are grouped into */
    size_t first_shard;    /* the shards held here: [first_shard, first_shard + n_local) */
    size_t n_local;
} bnn_shard_layout;

/* The shards and training rows [*row0, *row1) that process `rank` of `n_ranks` holds: shards
 * are dealt out in contiguous runs, rank r gets shards [r·S/R, (r+1)·S/R). */
void bnn_shard_layout_for(size_t n_total, size_t block_rows, size_t n_shards, size_t rank,
                          size_t n_ranks, bnn_shard_layout *layout, size_t *row0, size_t *row1);

/* Global block range [*k0, *k1) of shard s. */
void bnn_shard_blocks(const bnn_shard_layout *layout, size_t block_rows, size_t s, size_t *k0,
                      size_t *k1);

/* Declares that the data's training rows are the rows of `layout`'s local shards (default: one
 * shard holding everything). */
bnn_status bnn_cpu_data_set_shards(bnn_cpu_data *data, const bnn_shard_layout *layout);
const bnn_shard_layout *bnn_cpu_data_shards(const bnn_cpu_data *data);
size_t bnn_cpu_data_block_rows(const bnn_cpu_data *data);

/* Per local shard s (in order), out[s·(1+P)] = its log-likelihood and out[s·(1+P)+1..] its
 * gradient (zeros for a shard without blocks). For data-parallel backends. */
bnn_status bnn_cpu_loglik_grad_shards(void *cpu_ctx, const double *theta, double *out);

/* A backend for one chain group: n_threads threads over the shared data (data and net must
 * outlive it). */
bnn_status bnn_cpu_backend_alloc(const bnn_net *net, const bnn_cpu_data *data,
                                 size_t n_threads, bnn_backend *out);

/* Sets BLAS to one thread per call (every product here runs inside a worker thread). */
void bnn_cpu_blas_single_thread(void);

#endif
