/* Exports of a run directory for other tools: NetCDF-4 in ArviZ's InferenceData layout,
 * CmdStan-style CSV (one file per chain) and plain .npy arrays with a JSON sidecar. Every
 * exporter streams chain by chain in blocks of draws, so memory stays bounded by
 * block_bytes whatever the run's size. Chains of unequal length (an interrupted run) are cut
 * to the shortest. Formats: docs/run-directory.md. */
#ifndef BNN_STORE_EXPORT_H
#define BNN_STORE_EXPORT_H

#include <stddef.h>

#include "core/status.h"

typedef struct {
    size_t block_bytes; /* memory for one block of draws (0: 64 MiB) */
    const char *vars;   /* Stan CSV: the quantities to write (grammar below); NULL: default */
} bnn_export_options;

/* Writes out_path (NetCDF-4, written to a temporary name and renamed) with the groups
 *   posterior      one variable per parameter tensor, dims (chain, draw, NAME_dim_0, ...),
 *                  e.g. layer0_w (chain, draw, layer0_w_dim_0, layer0_w_dim_1); draw
 *                  coordinate = the sampling iteration of each (thinned) weight draw
 *   predictions    p (chain, draw, point, output): the recorded function-space outputs;
 *                  point coordinate = the test-set row, output = class (or 0 for a mean)
 *   sample_stats   acceptance_rate, energy, energy_error, step_size, n_steps, diverging,
 *                  accepted, tree_depth (0 for HMC), lp, log_lik, log_prior over sampling
 *                  iterations (chain, draw);
 *                  lp = (log_lik + log_prior) / temperature, the log density HMC targets
 *   observed_data  y (point): the test targets at the recorded points
 * and attributes created_at, inference_library = "bnnmc", inference_library_version and
 * the run's config, model and data (JSON text) on the file and on every group. */
bnn_status bnn_export_netcdf(const char *run_dir, const char *out_path,
                             const bnn_export_options *opt);

/* Selector grammar of opt->vars (indices 0-based, as `bnnmc diagnose` names quantities):
 *   LIST := ITEM (',' ITEM)*            commas inside [...] belong to the item
 *   ITEM := NAME | NAME '[' IDX (',' IDX)* ']'   one IDX per dimension
 *   IDX  := '*' | N | A:B               all; one index; A <= i < B
 * NAME is a parameter tensor of run.json's model.params ("layer0.w", "layer1.b") or "p", the
 * function-space outputs with dims (point, output), point being the position among the
 * recorded points. The default is "p[0:3,*]": every output at the first three points.
 * Writes out_dir/output_<chain + 1>.csv, one per chain, in CmdStan's layout: '#' comments
 * with the configuration, the header lp__, accept_stat__, stepsize__, treedepth__ (the tree_depth column; 0 for HMC),
 * n_leapfrog__, divergent__, energy__, then the selected quantities named as CmdStan names
 * them (tensor name with '.' -> '_', 1-based indices after dots: layer0_w.4.1 is
 * layer0.w[3,0]; p.1.2 is p[0,1]); "# Adaptation terminated", the step size and the inverse
 * metric; then one row per draw. With a weight selected and thin > 1, rows are the weight
 * draws (every thin-th sampling iteration); otherwise every sampling iteration.
 * *n_files receives the number of files written. */
bnn_status bnn_export_stan_csv(const char *run_dir, const char *out_dir,
                               const bnn_export_options *opt, size_t *n_files);

/* Copies the run's arrays into out_dir (each chain's cut to the common number of draws) and
 * writes out_dir/arrays.json, which names every file's dtype, shape, dims and coordinates. */
bnn_status bnn_export_npy(const char *run_dir, const char *out_dir, const bnn_export_options *opt);

#endif
