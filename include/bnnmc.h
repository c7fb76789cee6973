/* bnnmc.h: the public C API of libbnnmc (HMC for Bayesian neural networks, diagnostics and
 * exports). Include this one header; link with `pkg-config --cflags --libs bnnmc`.
 *
 * A worked example (examples/digits.c is the complete program): sample 2 chains of an MLP on
 * the bundled digits data, print the model-average accuracy and the worst function-space R-hat,
 * and export the draws for ArviZ.
 *
 *     #include <bnnmc.h>
 *     #include <stdio.h>
 *
 *     int main(void)
 *     {
 *         bnn_dataset_options dopt = {.name = "digits", .csv = {.header = -1, .target_col = -1},
 *                                     .standardize = 1};
 *         bnn_dataset data;
 *         if (bnn_dataset_load(&dopt, &data) != BNN_OK) {
 *             fprintf(stderr, "%s\n", bnn_last_error());
 *             return 1;
 *         }
 *         bnn_run_config cfg;
 *         bnn_run_config_defaults(&cfg);                 // every field, as `bnnmc sample`
 *         snprintf(cfg.arch, sizeof cfg.arch, "mlp:8");
 *         snprintf(cfg.out_dir, sizeof cfg.out_dir, "runs/example");
 *         cfg.chains = 2, cfg.warmup = 50, cfg.samples = 100, cfg.fs_points = 20;
 *         cfg.overwrite = 1;
 *         bnn_run *run;
 *         if (bnn_run_start(&cfg, &data, &dopt, &run) == BNN_OK) {
 *             bnn_run_progress p;
 *             do bnn_run_poll(run, &p); while (!p.finished);  // or sleep between polls
 *             bnn_status st = bnn_run_finish(run);           // joins chains, writes run.json
 *             bnn_run_free(run);
 *             bnn_predict_result pr;
 *             if (st == BNN_OK && bnn_predict_run(cfg.out_dir, &pr) == BNN_OK) {
 *                 printf("accuracy %.4f\n", pr.overall.accuracy);
 *                 bnn_predict_result_free(&pr);
 *             }
 *             bnn_diag_run_options o = {.threads = 2};
 *             bnn_diag_run *d;
 *             if (bnn_diag_run_compute(cfg.out_dir, &o, &d) == BNN_OK) {
 *                 printf("function-space R-hat max %.3f\n", d->function.rhat_max);
 *                 bnn_diag_run_free(d);
 *             }
 *             bnn_export_netcdf(cfg.out_dir, "runs/example.nc", NULL);
 *         }
 *         bnn_dataset_free(&data);
 *         return 0;
 *     }
 *
 * Conventions that hold for every function below:
 *
 * - Errors are values. A function returning bnn_status returns BNN_OK or an error code and
 *   leaves a message naming the file, line or option in a thread-local buffer, read with
 *   bnn_last_error(). Nothing is printed and nothing calls exit.
 * - Ownership. Structs the caller passes (bnn_dataset, bnn_predict_result, bnn_draws) are
 *   filled by the library and own their arrays: free them with the matching _free, which is
 *   also safe on a zeroed struct. Handles (bnn_run, bnn_diag_run, bnn_diag_ws) are allocated by
 *   the library and freed with their _free (NULL is allowed). Strings passed in are borrowed
 *   for the duration of the call unless a function says otherwise.
 * - Threads. There is no hidden global state besides the error handler: different threads may
 *   call any function on different objects at once. One object (a run, a workspace) is used
 *   by one thread at a time. The library starts its own threads inside bnn_run_start and
 *   bnn_diag_run_compute and joins them before the object is freed.
 * - Precision. Draws are stored in float32 or float64 (the run's precision); every sum,
 *   energy and diagnostic is computed in double.
 *
 * The types come from the library's module headers, installed under include/bnnmc/ (and found
 * through pkg-config's -I flags). Their other declarations are internal: they may change
 * without notice. The functions declared again below are the public API. */
#ifndef BNNMC_H
#define BNNMC_H

#ifdef __cplusplus
extern "C" {
#endif

#include "baseline/train.h"
#include "core/status.h"
#include "data/dataset.h"
#include "diag/diag.h"
#include "diag/diag_run.h"
#include "diag/draws_csv.h"
#include "eval/predict.h"
#include "eval/reference.h"
#include "sample/run.h"
#include "store/export.h"

#define BNNMC_VERSION_MAJOR 0
#define BNNMC_VERSION_MINOR 1
#define BNNMC_VERSION_PATCH 0
#define BNNMC_VERSION "0.1.0"

/* ---- errors ------------------------------------------------------------------------------ */

/* The message of the calling thread's most recent error ("" if none). The pointer stays valid
 * until the thread's next failing call. Thread-safe (per-thread buffer). */
const char *bnn_last_error(void);

/* A short name of a status code ("invalid argument", ...); a static string. Thread-safe. */
const char *bnn_status_name(bnn_status code);

/* Installs a handler called on every error (code, source file and line, message) and returns
 * the previous one; NULL restores the default (keep the message only). Not thread-safe: call
 * it before any other thread uses the library. The handler may run on library threads. */
bnn_error_handler bnn_set_error_handler(bnn_error_handler handler);

/* ---- data ------------------------------------------------------------------------------- */

/* Loads the training and test tables named by opt (a built-in data set, or CSV / IDX / .npy
 * files), checks them (shapes agree, values finite, labels integers in range) and standardises
 * the inputs with training statistics (and regression targets: the built-in boston and
 * concrete, which need opt->task = BNN_TASK_REGRESS, or opt->standardize_target = 1). Fills *out, which owns everything: free it with
 * bnn_dataset_free. Errors: BNN_EIO (file), BNN_EFORMAT (contents, with file:line:column),
 * BNN_ERANGE (labels), BNN_ENOMEM. Thread-safe. */
bnn_status bnn_dataset_load(const bnn_dataset_options *opt, bnn_dataset *out);
void bnn_dataset_free(bnn_dataset *d);

/* Directory of the built-in data sets: $BNNMC_DATA_DIR if set, else the directory chosen at
 * build time (the source tree's data/ for the build-tree library, PREFIX/share/bnnmc/data for
 * the installed shared library). A static or environment string. */
const char *bnn_data_dir(void);

/* ---- sampling runs ---------------------------------------------------------------------- */

/* Fills every field of *c with the defaults `bnnmc sample --help` documents. */
void bnn_run_config_defaults(bnn_run_config *c);

/* Validates cfg against data, creates cfg->out_dir, writes run.json and starts the chains on
 * library threads; returns at once. data must stay alive and unchanged until bnn_run_finish
 * returns. An existing run in out_dir with the same configuration is resumed from its
 * checkpoints (bit-identical to an uninterrupted run); another is refused unless
 * cfg->overwrite. *out is owned by the caller: bnn_run_finish, then bnn_run_free. Errors:
 * BNN_EINVAL (a configuration value, named), BNN_EIO, BNN_ENOMEM. */
bnn_status bnn_run_start(const bnn_run_config *cfg, const bnn_dataset *data,
                         const bnn_dataset_options *data_opt, bnn_run **out);

/* Progress so far (iterations done, acceptance, divergences, elapsed time); p->finished is set
 * when every chain is done or stopped by an error. Cheap; call it as often as you like from
 * the thread that owns the run. */
void bnn_run_poll(bnn_run *r, bnn_run_progress *p);

/* 1 if bnn_run_start resumed an earlier run; a warning about a damaged checkpoint or "" (owned
 * by the run). */
int bnn_run_resumed(const bnn_run *r);
const char *bnn_run_warning(const bnn_run *r);

/* Waits for the chains, closes the arrays, writes the model-average sums and the final
 * run.json. Returns the first error any chain met. Call once, then bnn_run_free. */
bnn_status bnn_run_finish(bnn_run *r);

/* Frees the run (waiting for its threads if bnn_run_finish was not called). NULL is allowed. */
void bnn_run_free(bnn_run *r);

/* Reads the configuration and data options of the run in dir (its run.json), e.g. to resume
 * it; the strings *d points to live in *strings. Errors: BNN_EIO, BNN_EFORMAT. */
bnn_status bnn_run_config_read(const char *dir, bnn_run_config *c, bnn_dataset_options *d,
                               bnn_run_data_strings *strings);

/* ---- baselines on mini-batches (`bnnmc train`) ---------------------------------------------- */

/* Every field of *c at the default `bnnmc train --help` documents: run.* as `sample`'s, with
 * chains, samples, burn_in, thin and the method's settings left to the method (BNN_TRAIN_AUTO,
 * NAN). Set c->method and c->run.out_dir at least. */
void bnn_train_config_defaults(bnn_train_config *c);

/* Like bnn_run_start for SGLD, SGHMC, cyclical SG-MCMC, VI, MAP or a deep ensemble
 * (baseline/train.h): resolves the defaults for the data, creates cfg->run.out_dir, writes
 * run.json and starts the chains on library threads; returns at once. An existing run in
 * out_dir with the same configuration is resumed from its checkpoints (bit-identical to an
 * uninterrupted run); another is refused unless cfg->run.overwrite. *out is owned by the
 * caller: bnn_train_finish, then bnn_train_free. Errors: BNN_EINVAL (a setting, named),
 * BNN_EIO, BNN_ENOMEM. */
bnn_status bnn_train_start(const bnn_train_config *cfg, const bnn_dataset *data,
                           const bnn_dataset_options *data_opt, bnn_train **out);

/* 1 if bnn_train_start resumed an earlier run; a warning about a damaged checkpoint or ""
 * (owned by the run). */
int bnn_train_resumed(const bnn_train *t);
const char *bnn_train_warning(const bnn_train *t);

/* Progress so far (steps and draws, the running objective, step size); p->finished when every
 * chain is done or stopped by an error. */
void bnn_train_poll(bnn_train *t, bnn_train_progress *p);

/* Waits for the chains, writes the model-average sums, final weights and the final run.json.
 * Returns the first error a chain met (BNN_ENUM: a step diverged). Then bnn_train_free. */
bnn_status bnn_train_finish(bnn_train *t);
void bnn_train_free(bnn_train *t);

/* Reads the configuration and data options of the `bnnmc train` run in dir (its run.json), e.g.
 * to resume it (set c->run.resume); the strings *d points to live in *strings. Errors:
 * BNN_EFORMAT (also for a run of `bnnmc sample`). */
bnn_status bnn_train_config_read(const char *dir, bnn_train_config *c, bnn_dataset_options *d,
                                 bnn_run_data_strings *strings);

/* ---- prediction ------------------------------------------------------------------------- */

/* The Bayesian model average of a finished run on its whole test set: accuracy, NLL, ECE and
 * Brier score (or RMSE and NLL), overall and per chain, with each chain's sampling statistics.
 * Fills *out; free with bnn_predict_result_free. Errors: BNN_EIO, BNN_EFORMAT. Thread-safe. */
bnn_status bnn_predict_run(const char *run_dir, bnn_predict_result *out);
void bnn_predict_result_free(bnn_predict_result *r);

/* ---- reference evaluation (NeurIPS 2021 BDL competition metrics; eval/reference.h) ------- */

/* A predictive distribution from a finished run (its model average; regression: predictive
 * samples at the recorded test inputs) or from a CSV in the competition's layout. Fills *out;
 * free with bnn_predset_free. Errors: BNN_EIO, BNN_EFORMAT and BNN_ERANGE (with the CSV's
 * file:line:column), BNN_ENOMEM. Thread-safe. */
bnn_status bnn_predset_read_run(const char *dir, const bnn_predset_options *o, bnn_predset *out);
bnn_status bnn_predset_read_csv(const char *path, const bnn_predset_options *o, bnn_predset *out);
void bnn_predset_free(bnn_predset *p);

/* Agreement and total variation (classes) or mean 1-Wasserstein distance (samples) of pred
 * against ref, and each side's accuracy, NLL, ECE, Brier or RMSE when targets are known (labels,
 * or a run's). May select rows of one side to pair the inputs. Errors: BNN_EINVAL (the two
 * sides do not match), BNN_ERANGE (a label). Thread-safe on distinct sets. */
bnn_status bnn_reference_compare(bnn_predset *pred, bnn_predset *ref, const double *labels,
                                 size_t n_labels, const char *labels_source,
                                 bnn_reference_eval *out);

/* The exact 1-Wasserstein distance between two sorted samples of any sizes. Thread-safe. */
double bnn_wasserstein1_sorted(const double *a, size_t na, const double *b, size_t nb);

/* ---- diagnostics of draws (posterior 1.4.0 exactly; layout in diag/diag.h) -------------- */

/* A workspace for problems of up to max_iter x max_chain draws; one per thread. *out is owned
 * by the caller (bnn_diag_ws_free). Errors: BNN_EINVAL, BNN_ENOMEM. */
bnn_status bnn_diag_ws_alloc(size_t max_iter, size_t max_chain, bnn_diag_ws **out);
void bnn_diag_ws_free(bnn_diag_ws *ws);

/* Everything summarise_draws reports for one quantity (x[c * stride + i]: iteration i of
 * chain c). Thread-safe with one workspace per thread. Misuse returns BNN_EINVAL. */
bnn_status bnn_diag_summarise(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                              size_t stride, unsigned what, bnn_diag_summary *out);

/* Single diagnostics; NaN where posterior gives NA, and NaN with an error message on misuse. */
double bnn_diag_rhat(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                     size_t stride);
double bnn_diag_ess_bulk(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                         size_t stride);
double bnn_diag_ess_tail(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                         size_t stride);
double bnn_diag_rhat_nested(bnn_diag_ws *ws, const double *x, size_t n_iter, size_t n_chain,
                            size_t stride, const int *superchain_ids);

/* Draws from CSV files of any sampler (plain chains-in-columns, or CmdStan output). Fills
 * *out; free with bnn_draws_free. Errors name file, line and column. Thread-safe. */
bnn_status bnn_draws_read_csv(const char *const *paths, size_t n_paths, bnn_draws *out);
void bnn_draws_free(bnn_draws *d);

/* ---- diagnostics of a run directory -------------------------------------------------------- */

/* R-hat and ESS of every weight and every recorded function-space output of the run, and
 * per-chain sample statistics, streamed in blocks (memory bounded by opt->block_bytes) over
 * opt->threads library threads. *out is owned by the caller (bnn_diag_run_free). Errors:
 * BNN_EIO, BNN_EFORMAT (naming the file), BNN_ENOMEM. */
bnn_status bnn_diag_run_compute(const char *run_dir, const bnn_diag_run_options *opt,
                                bnn_diag_run **out);
void bnn_diag_run_free(bnn_diag_run *r);

/* Writes RUN/diagnostics.json (docs/diagnostics-json.md) and the per-quantity .npy arrays. */
bnn_status bnn_diag_run_write(const bnn_diag_run *r, const char *run_dir);

/* "layer0.w[3,17]" or "p[point,output]" (0-based) into buf (truncated to len). */
void bnn_diag_weight_name(const bnn_diag_run *r, size_t i, char *buf, size_t len);
void bnn_diag_function_name(const bnn_diag_run *r, size_t i, char *buf, size_t len);

/* ---- exports (store/export.h gives the layouts) ---------------------------------------------- */

/* NetCDF-4 in ArviZ's InferenceData layout; out_path is written under a temporary name and
 * renamed, so a reader never sees half a file. opt may be NULL (defaults). Reentrant; two
 * calls must not write the same path. Errors: BNN_EIO, BNN_EFORMAT, BNN_EINVAL (a run with
 * no sampling iteration yet), BNN_ENOMEM. */
bnn_status bnn_export_netcdf(const char *run_dir, const char *out_path,
                             const bnn_export_options *opt);

/* CmdStan-style CSVs out_dir/output_<chain>.csv of the quantities opt->vars selects; *n_files
 * receives the number written. A bad selector is BNN_EINVAL with a message naming the item. */
bnn_status bnn_export_stan_csv(const char *run_dir, const char *out_dir,
                               const bnn_export_options *opt, size_t *n_files);

/* The run's arrays copied to out_dir with out_dir/arrays.json describing them. */
bnn_status bnn_export_npy(const char *run_dir, const char *out_dir, const bnn_export_options *opt);

#ifdef __cplusplus
}
#endif

#endif
