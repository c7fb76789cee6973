/* bnnmc train: baselines on mini-batches (SGLD, SGHMC, cyclical SG-MCMC, VI, MAP, deep
 * ensembles) written as a run directory; options, progress line, report. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baseline/train.h"
#include "commands.h"
#include "opts.h"

static const char usage_text[] =
    "usage: bnnmc train --method METHOD [OPTIONS]\n"
    "\n"
    "Trains or samples a Bayesian neural network on mini-batches, on the same models, data,\n"
    "priors, likelihoods and temperature as `bnnmc sample`, and writes a run directory of the\n"
    "same layout: `bnnmc predict`, `diagnose`, `export` and `sample --init-from` read it.\n"
    "\n"
    "examples:\n"
    "  bnnmc train --method ensemble --data digits --arch mlp:50 --out runs/ens\n"
    "  bnnmc train --method sgld --data digits --arch mlp:50 --out runs/sgld\n"
    "  bnnmc sample --data digits --arch mlp:50 --init-from runs/ens --out runs/hmc-ens\n"
    "\n"
    "methods (each chain is independent, with its own seed stream):\n"
    "  sgld        stochastic gradient Langevin dynamics (Welling & Teh 2011): a step moves θ\n"
    "              by ε/2·∇log π̂ plus N(0, ε) noise; ε_t = ε₀ (1 + t/b)^(−γ)\n"
    "  sghmc       stochastic gradient HMC (Chen et al. 2014, no noise estimate):\n"
    "              v ← (1−α) v + η ∇log π̂ + N(0, 2αη), θ ← θ + v; η_t on the same schedule\n"
    "  csgmcmc     cyclical SG-MCMC (Zhang et al. 2020): cosine step size per cycle, no noise\n"
    "              in the first --explore of a cycle, SGLD after; draws at each cycle's end\n"
    "  vi          mean-field Gaussian VI (reparameterisation, σ = softplus(ρ), Adam on the\n"
    "              ELBO with the prior); the draws are --samples draws from each chain's q\n"
    "  map         MAP with Adam on the negative log posterior (the Gaussian prior is the\n"
    "              weight decay); one draw per chain: the trained weights\n"
    "  ensemble    deep ensemble: --chains MAP members (default 5) from different seeds\n"
    "  π̂: the tempered log posterior with the batch log-likelihood scaled by N/B.\n"
    "\n"
    "method settings (defaults depend on the method and on N, the training rows):\n"
    "  --method M             sgld | sghmc | csgmcmc | vi | map | ensemble (required)\n"
    "  --batch-size B         rows per mini-batch (default 128); batches are a fresh random\n"
    "                         permutation each epoch\n"
    "  --lr E                 sgld, csgmcmc: first step ε₀ (default 0.5·T/N; csgmcmc 1·T/N;\n"
    "                         T the temperature); sghmc: η₀ (default 0.05·T/N); map, ensemble:\n"
    "                         Adam α (default 3e-3), vi: 1e-2, decaying to 0 on a cosine\n"
    "  --lr-decay B           sgld, sghmc: b of the schedule, in steps (default --burn-in)\n"
    "  --lr-gamma G           sgld, sghmc: γ (default 0.55; 0 = constant)\n"
    "  --friction A           sghmc: α (default 0.1)\n"
    "  --burn-in N            sgld, sghmc: steps before the first draw (default 50 epochs)\n"
    "  --thin N               SG-MCMC: steps between draws (default one epoch)\n"
    "  --samples N            draws per chain (sgld, sghmc 100; csgmcmc 12 in all, the same\n"
    "                         number per cycle; vi 100; map, ensemble 1)\n"
    "  --epochs N             map, ensemble, vi: epochs of Adam (default 100; vi 300)\n"
    "  --cycles C             csgmcmc: cycles (default 4)\n"
    "  --cycle-len N          csgmcmc: steps per cycle (default 50 epochs)\n"
    "  --explore F            csgmcmc: noise-free fraction of each cycle (default 0.8)\n"
    "  --vi-init-sd S         vi: σ at the start (default 1e-3)\n"
    "  --chains K             chains, members or VI fits (default 4; map 1; ensemble 5)\n"
    "  --init-scale S         θ₀: weights N(0, S²/fan-in), biases 0 (default 1)\n"
    "\n"
    "data, model, prior and execution: as `bnnmc sample` (--data, --train, --test, --target-col,\n"
    "  --header, --task, --classes, --train-subset, --no-standardize, --pad-to, --fs-points,\n"
    "  --arch, --act, --likelihood, --noise-sd, --prior-var, --prior-fan-in, --temperature,\n"
    "  --precision, --seed, --threads, --block-rows, --out, --overwrite); results do not\n"
    "  depend on --threads\n"
    "  --checkpoint-interval S  seconds between checkpoints of a chain (default 10; 0 = every\n"
    "                         step); a killed run resumes exactly from them\n"
    "  --resume DIR           continue the interrupted run in DIR (only --samples, to extend\n"
    "                         an sgld, sghmc or vi run, --threads and --checkpoint-interval may\n"
    "                         be given with it); `train --out DIR` with the same settings also\n"
    "                         resumes\n"
    "  --quiet                no progress output\n";

/* The options `train` takes from `sample` (cli/sample.c parses them). */
static const char *const shared_names[] = {
    "data", "train", "test", "target-col", "header", "task", "classes", "train-subset",
    "no-standardize", "pad-to", "fs-points", "arch", "act", "likelihood", "noise-sd",
    "prior-var", "prior-fan-in", "temperature", "precision", "chains", "burn-in", "samples",
    "thin", "init-scale", "seed", "threads", "block-rows", "out", "overwrite",
    "standardize-target", "checkpoint-interval"};
#define N_SHARED (sizeof shared_names / sizeof shared_names[0])

enum {
    T_METHOD = 1000, T_BATCH, T_LR, T_LR_DECAY, T_LR_GAMMA, T_FRICTION, T_EPOCHS, T_CYCLES,
    T_CYCLE_LEN, T_EXPLORE, T_VI_SD, T_QUIET, T_HELP, T_RESUME
};

static const struct option own_options[] = {
    {"method", 1, 0, T_METHOD}, {"batch-size", 1, 0, T_BATCH}, {"lr", 1, 0, T_LR},
    {"lr-decay", 1, 0, T_LR_DECAY}, {"lr-gamma", 1, 0, T_LR_GAMMA},
    {"friction", 1, 0, T_FRICTION}, {"epochs", 1, 0, T_EPOCHS}, {"cycles", 1, 0, T_CYCLES},
    {"cycle-len", 1, 0, T_CYCLE_LEN}, {"explore", 1, 0, T_EXPLORE},
    {"vi-init-sd", 1, 0, T_VI_SD}, {"quiet", 0, 0, T_QUIET}, {"help", 0, 0, T_HELP},
    {"resume", 1, 0, T_RESUME}};
#define N_OWN (sizeof own_options / sizeof own_options[0])

#define N_OPTIONS (N_SHARED + N_OWN)

struct train_args {
    bnn_train_config cfg;
    bnn_dataset_options data;
    int quiet, help, have_method;
    unsigned given;              /* CLI_GIVEN_* options on the command line */
    char on_line[N_OPTIONS];     /* 1 for each option of the table on the command line */
    const char *resume;          /* --resume DIR */
    bnn_run_data_strings strings;
};

/* train's table: the shared entries of sample's, then its own; NULL-terminated. */
static int build_options(struct option *table)
{
    const struct option *sample = cli_sample_long_options();
    size_t n = 0;
    for (size_t i = 0; i < N_SHARED; i++) {
        const struct option *o = sample;
        while (o->name && strcmp(o->name, shared_names[i]) != 0) o++;
        if (!o->name) {
            fprintf(stderr, "bnnmc train: internal error: sample has no --%s\n", shared_names[i]);
            return -1;
        }
        table[n++] = *o;
    }
    for (size_t i = 0; i < N_OWN; i++) table[n++] = own_options[i];
    table[n] = (struct option){0, 0, 0, 0};
    return 0;
}

static int parse_own(struct train_args *a, int opt, const char *v)
{
    bnn_train_config *c = &a->cfg;
    switch (opt) {
    case T_METHOD:
        a->have_method = 1;
        if (bnn_train_method_parse(v, &c->method) == BNN_OK) return 0;
        cli_report_error("--method");
        return -1;
    case T_BATCH: return opt_size("--batch-size", v, &c->batch_size);
    case T_LR: return opt_double("--lr", v, &c->lr);
    case T_LR_DECAY: return opt_double("--lr-decay", v, &c->lr_decay);
    case T_LR_GAMMA: return opt_double("--lr-gamma", v, &c->lr_gamma);
    case T_FRICTION: return opt_double("--friction", v, &c->friction);
    case T_EPOCHS: return opt_size("--epochs", v, &c->epochs);
    case T_CYCLES: return opt_size("--cycles", v, &c->cycles);
    case T_CYCLE_LEN: return opt_size("--cycle-len", v, &c->cycle_len);
    case T_EXPLORE: return opt_double("--explore", v, &c->explore);
    case T_VI_SD: return opt_double("--vi-init-sd", v, &c->vi_init_sd);
    case T_QUIET: a->quiet = 1; return 0;
    case T_HELP: a->help = 1; return 0;
    case T_RESUME: a->resume = v; return 0;
    }
    return 1;
}

/* --resume DIR: the configuration comes from DIR/run.json; a few settings may be given anew. */
static int resume_args(struct train_args *a, const struct option *table)
{
    static const char *const allowed[] = {"samples", "threads", "checkpoint-interval", "quiet",
                                          "resume"};
    for (size_t i = 0; i < N_OPTIONS; i++) {
        size_t k = 0;
        while (k < sizeof allowed / sizeof allowed[0] && strcmp(table[i].name, allowed[k]) != 0)
            k++;
        if (a->on_line[i] && k == sizeof allowed / sizeof allowed[0]) {
            fprintf(stderr, "bnnmc train: --%s cannot be changed when resuming a run (only "
                            "--samples, --threads and --checkpoint-interval)\n", table[i].name);
            return -1;
        }
    }
    const bnn_run_config given = a->cfg.run;
    if (bnn_train_config_read(a->resume, &a->cfg, &a->data, &a->strings) != BNN_OK) {
        cli_report_error("--resume");
        return -1;
    }
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (!a->on_line[i]) continue;
        if (!strcmp(table[i].name, "samples")) a->cfg.run.samples = given.samples;
        if (!strcmp(table[i].name, "threads")) a->cfg.run.threads = given.threads;
        if (!strcmp(table[i].name, "checkpoint-interval"))
            a->cfg.run.checkpoint_interval = given.checkpoint_interval;
    }
    a->cfg.run.resume = 1;
    return 0;
}

static int parse_args(int argc, char **argv, struct train_args *a)
{
    struct option table[N_OPTIONS + 1];
    memset(a, 0, sizeof *a);
    bnn_train_config_defaults(&a->cfg);
    a->data.csv.header = -1;
    a->data.csv.target_col = -1;
    a->data.standardize = 1;
    if (build_options(table) != 0) return -1;
    int act_option = 0, task_option = 0, lik_option = 0;
    for (const struct option *o = table; o->name; o++)
        if (!strcmp(o->name, "act")) act_option = o->val;
        else if (!strcmp(o->name, "task")) task_option = o->val;
        else if (!strcmp(o->name, "likelihood")) lik_option = o->val;
    optind = 1;
    int opt, index = -1;
    while ((opt = getopt_long(argc, argv, "h", table, &index)) != -1) {
        if (opt == 'h') opt = T_HELP;
        if (opt == '?') return -1;
        if (index >= 0) a->on_line[index] = 1;
        index = -1;
        const char *v = optarg ? optarg : "";
        if (opt == act_option) a->given |= CLI_GIVEN_ACT;
        if (opt == task_option) a->given |= CLI_GIVEN_TASK;
        if (opt == lik_option) a->given |= CLI_GIVEN_LIK;
        int rc = opt >= T_METHOD ? parse_own(a, opt, v)
                                 : cli_sample_option(opt, v, &a->cfg.run, &a->data);
        if (rc != 0) return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "bnnmc train: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (a->help) return 0;
    if (a->resume) return resume_args(a, table);
    if (!a->have_method) {
        fprintf(stderr, "bnnmc train: --method is required (sgld, sghmc, csgmcmc, vi, map or "
                        "ensemble)\n");
        return -1;
    }
    return cli_data_model_finish(&a->cfg.run, &a->data, a->given, "train");
}

static void print_progress(const bnn_train_progress *p, const bnn_train_config *c, int tty)
{
    const double frac = (double)p->done_total / (double)(p->steps * p->chains);
    const double eta = frac > 0 ? p->elapsed * (1 - frac) / frac : NAN;
    fprintf(stderr, "%s%s: step %zu/%zu (all chains %.0f %%)  draws %zu  %s %.6g  step %.3g  "
                    "elapsed %.0f s  eta %.0f s%s",
            tty ? "\r" : "", bnn_train_method_name(c->method),
            p->chains ? p->done_total / p->chains : 0, p->steps, 100 * frac, p->draws_total,
            c->method == BNN_TRAIN_VI ? "elbo" : "log post", p->objective, p->step_size,
            p->elapsed, isfinite(eta) ? eta : 0.0, tty ? "\033[K" : "\n");
    fflush(stderr);
}

/* Polls the run: a live line on a terminal, otherwise a line every 5 seconds. */
static void follow(bnn_train *t, int quiet)
{
    const int tty = cli_stderr_is_tty();
    const bnn_train_config *c = bnn_train_config_of(t);
    double last_log = 0;
    bnn_train_progress p;
    for (;;) {
        bnn_train_poll(t, &p);
        if (p.finished) break;
        if (!quiet && (tty || p.elapsed - last_log >= 5)) {
            print_progress(&p, c, tty);
            last_log = p.elapsed;
        }
        nanosleep(&(struct timespec){0, 100000000L}, NULL);
    }
    if (!quiet) {
        print_progress(&p, c, tty);
        if (tty) fputc('\n', stderr);
        fprintf(stderr, "%zu mini-batch steps of %zu rows in %.1f s\n", p.done_total,
                c->batch_size, p.elapsed);
    }
}

int cmd_train(int argc, char **argv)
{
    struct train_args a;
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "(bnnmc train --help lists the options)\n");
        return 2;
    }
    if (a.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    bnn_dataset data;
    if (bnn_dataset_load(&a.data, &data) != BNN_OK) {
        cli_report_error("data");
        return 1;
    }
    a.data.task = data.task;
    bnn_train *t = NULL;
    int rc = 0;
    if (bnn_train_start(&a.cfg, &data, &a.data, &t) != BNN_OK) {
        cli_report_error("train");
        rc = 1;
    } else {
        const bnn_train_config *c = bnn_train_config_of(t);
        if (!a.quiet)
            fprintf(stderr, "bnnmc: %s, %zu chain%s, %zu training and %zu test rows, batches "
                            "of %zu, %s %s\n", bnn_train_method_name(c->method),
                    c->run.chains, c->run.chains > 1 ? "s" : "", data.train.n, data.test.n,
                    c->batch_size, bnn_train_resumed(t) ? "resuming the run in" : "writing",
                    c->run.out_dir);
        if (!a.quiet && bnn_train_warning(t)[0])
            fprintf(stderr, "bnnmc: warning: %s\n", bnn_train_warning(t));
        follow(t, a.quiet);
        if (bnn_train_finish(t) != BNN_OK) {
            cli_report_error("train");
            rc = 1;
        }
    }
    bnn_train_free(t);
    bnn_dataset_free(&data);
    if (rc == 0 && !a.quiet) rc = cli_print_run_report(a.cfg.run.out_dir, 0);
    return rc;
}
