/* Reading MCMC draws from CSV files of any sampler, for `bnnmc summary`: either one plain CSV
 * with one column per chain, or CmdStan output CSVs (one file per chain). */
#ifndef BNN_DIAG_DRAWS_CSV_H
#define BNN_DIAG_DRAWS_CSV_H

#include <stddef.h>

#include "core/status.h"

/* Draws of n_var variables; variable v's chain c is the contiguous run
 * draws + (v * n_chain + c) * n_iter of n_iter values (the layout of diag.h with
 * stride = n_iter). */
typedef struct {
    size_t n_var, n_iter, n_chain;
    char **names;  /* (n_var) variable names */
    double *draws; /* (n_var, n_chain, n_iter) */
    int cmdstan;   /* 1: read as CmdStan output, 0: plain chains-in-columns */
} bnn_draws;

/* Reads draws and decides the format:
 *
 * - CmdStan output when there are several files, or a line starts with '#', or the header
 *   names lp__: each file is one chain; '#' lines are comments; the first other line is the
 *   header of variable names (the same in every file); rows before a "# Adaptation terminated"
 *   comment are saved warm-up draws and are dropped. Sampler columns ending in "__" are left
 *   out, except lp__ (as cmdstanr's summary does). Chains must have the same length.
 * - Otherwise one plain CSV: one column per chain, one row per iteration; the first line is a
 *   header when one of its fields is not a number. One variable, named "x".
 *
 * Numbers are anything strtod reads (nan and inf included) and R's NA. Errors name the file,
 * line and column (1-based, in characters) of the offending field. */
bnn_status bnn_draws_read_csv(const char *const *paths, size_t n_paths, bnn_draws *out);

void bnn_draws_free(bnn_draws *d);

#endif
