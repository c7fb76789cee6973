/* Data parallelism over MPI ranks (built with -DBNNMC_MPI=ON): every rank holds some shards of
 * the training data and computes their sums with the CPU backend; per gradient, a
 * reduce-scatter (each rank adds its slice of the numbers over all shards, in shard order — the
 * order one process would use) and an all-gather of the slices, so all ranks, and a single
 * process, get the same bits. */
#ifndef BNN_BACKEND_MPI_H
#define BNN_BACKEND_MPI_H

#include <mpi.h>

#include "backend/cpu.h"

/* Wraps `cpu` (a CPU backend over `data`, whose shard layout says which shards this rank
 * holds; takes ownership of it). comm is duplicated; every rank of it must make the same
 * sequence of calls. */
bnn_status bnn_mpi_backend_alloc(bnn_backend cpu, const bnn_cpu_data *data, size_t n_params,
                                 MPI_Comm comm, bnn_backend *out);

/* The backend's own communicator (for other collectives made by the same thread). */
MPI_Comm bnn_mpi_backend_comm(const bnn_backend *b);

/* Bytes each rank receives per gradient (for the communication report). */
size_t bnn_mpi_backend_bytes_per_gradient(const bnn_backend *b);

/* Fraction of the gradient time spent in the two collectives (waiting for slower ranks
 * included). */
double bnn_mpi_backend_comm_share(const bnn_backend *b);

#endif
