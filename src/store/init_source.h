/* Another run's final weights as the starting points of new chains (`bnnmc sample --init-from
 * RUN`, e.g. deep-ensemble-initialised HMC): chain k starts at the final weights of chain k mod
 * K of RUN, which must be a complete run of the same architecture. */
#ifndef BNN_STORE_INIT_SOURCE_H
#define BNN_STORE_INIT_SOURCE_H

#include <jansson.h>
#include <stddef.h>

#include "core/status.h"

typedef struct {
    char dir[1024];
    size_t n_chains;    /* K */
    size_t n_params;
    char method[32];    /* the source's method ("hmc" when run.json names none) */
} bnn_init_source;

/* Opens the run in dir: its run.json must say "complete", and its model the same parameter
 * tensors (names, offsets, shapes) as `model` (a run.json "model" object); an error names the
 * first tensor that differs. */
bnn_status bnn_init_source_open(const char *dir, const json_t *model, bnn_init_source *src);

/* θ (n_params) for chain k: chain_NNN/final.npy of chain k mod K when the source has one (runs
 * of `bnnmc train`: last iterate, trained weights, VI mean), else the last row of its
 * weights.npy (runs of `bnnmc sample`: the last recorded draw). */
bnn_status bnn_init_source_theta(const bnn_init_source *src, size_t k, double *theta);

#endif
