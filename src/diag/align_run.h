/* Symmetry alignment of every weight draw of a run directory, streamed one draw at a time.
 *
 * Reference ("template"): the mean of chain 0's draws after each is aligned to chain 0's last
 * draw, written to RUN/align_reference.npy (float64, (n_params)). Then every draw of every chain
 * (chain 0 included) is aligned to the template and written, in the run's float width, to
 * RUN/chain_NNN/aligned_weights.npy (draw, param): permuting and negating numbers is exact in
 * any float width. Chains are cut to the shortest, as in diagnose. */
#ifndef BNN_DIAG_ALIGN_RUN_H
#define BNN_DIAG_ALIGN_RUN_H

#include <stddef.h>

#include "core/status.h"
#include "nn/mlp.h"

typedef enum {
    BNN_ALIGN_PER_DRAW,  /* each draw gets its own transform (needed with symmetry moves) */
    BNN_ALIGN_PER_CHAIN  /* one transform per chain, that of its last draw: cheaper, valid only
                            while a chain does not switch labels */
} bnn_align_mode;

typedef struct {
    bnn_align_mode mode;
    size_t threads;    /* chains aligned in parallel, >= 1 */
    size_t max_sweeps; /* layer sweeps per draw (0: 8) */
} bnn_align_run_options;

typedef struct {
    size_t n_chain, draws;   /* draws per chain aligned */
    size_t n_changed;        /* draws whose transform was not the identity */
    double mean_sweeps;      /* mean sweeps per aligned draw */
} bnn_align_run_info;

/* The MLP of a run (model.widths, config.activation of RUN/run.json). */
bnn_status bnn_align_run_model(const char *run_dir, bnn_mlp *m);

bnn_status bnn_align_run(const char *run_dir, const bnn_align_run_options *opt,
                         bnn_align_run_info *info);

#endif
