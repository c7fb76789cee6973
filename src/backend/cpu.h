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

/* A backend for one chain group: n_threads threads over the shared data (data and net must
 * outlive it). */
bnn_status bnn_cpu_backend_alloc(const bnn_net *net, const bnn_cpu_data *data,
                                 size_t n_threads, bnn_backend *out);

/* Sets BLAS to one thread per call (every product here runs inside a worker thread). */
void bnn_cpu_blas_single_thread(void);

#endif
