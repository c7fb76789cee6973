/* Running the chains data-parallel over MPI ranks (built with -DBNNMC_MPI=ON). */
#ifndef BNN_SAMPLE_RUN_MPI_H
#define BNN_SAMPLE_RUN_MPI_H

#include <mpi.h>

#include "sample/run.h"

/* Like bnn_run_start, on every rank of comm (collective): each rank keeps only its shards of
 * the training data, every gradient is all-gathered, rank 0 writes the run directory. Every
 * rank must pass the same configuration and data; the run equals a single-process run bit for
 * bit. After every iteration the ranks compare a hash of each chain's state and stop with an
 * error if they ever differ. */
bnn_status bnn_run_start_mpi(const bnn_run_config *cfg, const bnn_dataset *data,
                             const bnn_dataset_options *data_opt, MPI_Comm comm, bnn_run **out);

/* Bytes each rank receives per gradient (0 for a single-process run). */
size_t bnn_run_comm_bytes_per_gradient(const bnn_run *r);

/* Fraction of gradient time spent communicating, in chain group 0 of this rank. */
double bnn_run_comm_share(const bnn_run *r);

#endif
