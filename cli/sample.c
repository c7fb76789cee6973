/* bnnmc sample: parse options, load the data, run the chains with a progress line, report. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "opts.h"
#include "nn/cnn.h"
#include "sample/run.h"
#ifdef BNNMC_HAVE_MPI
#include "sample/run_mpi.h"
#endif

static const char usage_text[] =
    "usage: bnnmc sample [OPTIONS]\n"
    "\n"
    "Runs Hamiltonian Monte Carlo chains (static HMC or NUTS) on the posterior of a Bayesian\n"
    "neural network and writes a run directory (run.json + .npy arrays per chain).\n"
    "\n"
    "example:\n"
    "  bnnmc sample --data digits --arch mlp:100 --chains 4 --out runs/digits\n"
    "\n"
    "data:\n"
    "  --data NAME            built-in data set: digits (bundled), mnist, fashion-mnist;\n"
    "                         regression (bundled, UCI): boston, concrete\n"
    "  --train SPEC           training data: FILE.csv, or XFILE,YFILE (IDX or .npy)\n"
    "  --test SPEC            test data, same forms (required with --train)\n"
    "  --target-col N         CSV column of the target, 0-based (default: last)\n"
    "  --header auto|yes|no   CSV header row (default auto)\n"
    "  --task classification|regression   (default classification; regression for boston\n"
    "                         and concrete)\n"
    "  --classes N            number of classes (default 1 + largest training label)\n"
    "  --train-subset N       use the first N training rows\n"
    "  --no-standardize       keep inputs as read (default: standardise with training stats)\n"
    "  --standardize-target   regression: standardise targets with training stats too\n"
    "                         (default for boston and concrete; --no-standardize turns it off)\n"
    "  --pad-to S             zero-pad images to SxS, centred (e.g. 32: MNIST for resnet20-frn)\n"
    "  --fs-points M          test inputs recorded in function space (default min(1000, test))\n"
    "model:\n"
    "  --arch SPEC            linear | mlp:H1,H2,... | lenet5 | resnet20-frn | cnn:LAYERS\n"
    "                         (default mlp:100); cnn layers, comma-separated: c<O>[k<K>][s<S>]\n"
    "                         [v][f] conv (v valid, f FRN), r<O>[s<S>] residual block, m<K>|a<K>\n"
    "                         max|avg pool, g global avg pool, d<H> dense; e.g. cnn:c16f,m2,d64\n"
    "  --act NAME             tanh | relu | swish | erf (default tanh; swish for resnet20-frn)\n"
    "  --likelihood NAME      categorical | gaussian | bernoulli | hetero-gaussian (default\n"
    "                         categorical; gaussian with --task regression); hetero-gaussian:\n"
    "                         2 outputs (μ, s) per target, y ~ N(μ, σ²), σ = softplus(s) +\n"
    "                         1e-6; predictions report the mixture's mean and sd\n"
    "  --noise-sd S           Gaussian likelihood σ (default 1)\n"
    "  --prior FAMILY         gaussian | laplace | student-t:NU | logistic | mixture:PI,S1,S2\n"
    "                         (default gaussian); with v from --prior-var: N(0, v); Laplace\n"
    "                         scale √(v/2); Student-t scale √(v(NU-2)/NU) (NU > 2) or √v\n"
    "                         (NU <= 2); logistic scale √(3v)/π; PI N(0, S1²v) + (1-PI)\n"
    "                         N(0, S2²v). Variance v except the mixture's (PI S1² + (1-PI)\n"
    "                         S2²) v and Student-t's with NU <= 2 (infinite)\n"
    "  --prior-var V[,V2..]   prior variance v, one or one per layer (default 1)\n"
    "  --prior-fan-in         divide each layer's weight variance by its fan-in\n"
    "  --prior-hyper gamma:A,B  hierarchical prior (Gaussian only): each layer's precision\n"
    "                         τ = 1/v is unknown, τ ~ Gamma(shape A, rate B), starting at\n"
    "                         1/--prior-var; redrawn from its conditional after every HMC\n"
    "                         iteration (Gibbs, one extra gradient); recorded in hyper.npy\n"
    "  --ard                  with --prior-hyper (MLP): one precision per input unit for the\n"
    "                         first layer's weights (automatic relevance determination)\n"
    "  --noise-hyper gamma:A,B  --likelihood gaussian: the noise precision 1/σ² is unknown,\n"
    "                         ~ Gamma(A, B), starting at 1/--noise-sd², Gibbs-updated too\n"
    "  --temperature T        divides log-likelihood and log prior (default 1): a Gaussian\n"
    "                         likelihood's σ acts as σ√T on the mean\n"
    "  --precision P          float32 | float64 (default float32; sums always in double)\n"
    "sampler:\n"
    "  --sampler hmc|nuts     static HMC with a fixed trajectory length (default), or the\n"
    "                         No-U-Turn sampler (Stan's: multinomial, generalised U-turn)\n"
    "  --max-depth N          NUTS: largest tree depth, at most 2^N - 1 leapfrog steps per\n"
    "                         iteration (default 10)\n"
    "  --chains K             chains (default 4)\n"
    "  --burn-in N            first iterations without Metropolis correction (NUTS: without\n"
    "                         adaptation) (default 0)\n"
    "  --warmup N             adaptation iterations after burn-in (default 200)\n"
    "  --samples N            recorded iterations per chain (default 500)\n"
    "  --thin N               record weights every N sampling iterations (default 1)\n"
    "  --step-size E          leapfrog ε (start value when adapting; default 1e-3)\n"
    "  --traj-len T           HMC: trajectory length τ, L = ceil(τ/ε) (default\n"
    "                         (π/2)·σ_prior·√T); ignored by NUTS\n"
    "  --max-leapfrog N       HMC: cap on L (default 1000); ignored by NUTS, whose cap is\n"
    "                         2^max-depth - 1\n"
    "  --jitter J             multiply ε by U(1-J, 1+J) each iteration (default 0)\n"
    "  --no-mh                HMC: no Metropolis correction at all\n"
    "  --target-accept A      dual-averaging target (default 0.8; NUTS: of Stan's mean\n"
    "                         acceptance statistic over the tree)\n"
    "  --no-adapt-step        keep ε fixed during warm-up\n"
    "  --adapt-mass diag|none diagonal mass-matrix adaptation (default diag)\n"
    "  --init-scale S         θ₀ = S × a prior draw (default 1)\n"
    "  --init-from RUN        chain k starts at the final weights of chain k mod K of RUN (a\n"
    "                         complete run of the same architecture: a deep ensemble or MAP\n"
    "                         from `bnnmc train`, or another sample run) instead of a prior draw\n"
    "  --seed N               seed of the chains' Philox streams (default 1)\n"
    "  --superchains S        start the chains in S groups sharing an initial point (S divides\n"
    "                         --chains), for nested R-hat\n"
    "  --symmetry-moves       after each iteration, permute hidden units at random (and flip\n"
    "                         signs for tanh and erf): a valid move that fools raw R-hat\n"
    "execution and output:\n"
    "  --threads N            threads (default 2); results do not depend on it\n"
    "  --device cpu|cuda      where the gradients run (default cpu); cuda: MLPs and CNNs in\n"
    "                         float32 on the GPU, data resident there (docs/gpu.md)\n"
    "  --tf32                 with --device cuda: let cuBLAS use TF32 tensor cores (faster,\n"
    "                         ~1e-3 relative error; recorded in run.json as config.math)\n"
    "  --block-rows N         rows per gradient block; fixes the summation order (default 256,\n"
    "                         1024 from 100 000 parameters, 2048 from 1 000 000, halved down\n"
    "                         to 256 while the data would give fewer than 8 blocks)\n"
    "  --shards N             blocks are summed in N fixed shards, then in shard order; runs on\n"
    "                         up to N MPI ranks give the same bits (default 8)\n"
    "  --rank-groups G        under MPI: split the ranks into G groups, group g running chains\n"
    "                         g, g+G, ... data-parallel (default 1: every rank runs every chain)\n"
    "  --out DIR              run directory (default runs/latest)\n"
    "  --overwrite            replace a run already in DIR\n"
    "  --checkpoint-interval S  seconds between checkpoints of a chain (default 10; 0 = every\n"
    "                         iteration); a killed run resumes exactly from them\n"
    "  --resume DIR           continue the interrupted run in DIR (only --samples, to extend\n"
    "                         it, --threads and --checkpoint-interval may be given with it);\n"
    "                         `sample --out DIR` with the same settings also resumes\n"
    "  --quiet                no progress output\n"
    "  --config FILE.json     settings as a JSON object whose keys are these options' names\n"
    "                         ({\"arch\": \"mlp:100\", \"chains\": 4, \"no-mh\": true});\n"
    "                         flags on the command line override it\n";

enum {
    O_DATA = 256, O_TRAIN, O_TEST, O_TARGET_COL, O_HEADER, O_TASK, O_CLASSES, O_SUBSET,
    O_NO_STD, O_FS, O_ARCH, O_ACT, O_LIK, O_NOISE, O_PRIOR_VAR, O_FAN_IN, O_TEMP, O_PREC,
    O_CHAINS, O_BURN, O_WARMUP, O_SAMPLES, O_THIN, O_STEP, O_TRAJ, O_MAXLF, O_JITTER, O_NO_MH,
    O_TARGET_ACC, O_NO_ADAPT_STEP, O_ADAPT_MASS, O_INIT_SCALE, O_SEED, O_THREADS, O_BLOCK,
    O_OUT, O_OVERWRITE, O_QUIET, O_HELP, O_CKPT, O_RESUME, O_SUPERCHAINS, O_SYMMETRY, O_SHARDS,
    O_PAD_TO, O_CONFIG, O_RANK_GROUPS, O_STD_TARGET, O_INIT_FROM, O_PRIOR, O_PRIOR_HYPER, O_ARD,
    O_NOISE_HYPER, O_SAMPLER, O_MAX_DEPTH, O_DEVICE, O_TF32, O_END
};
/* sample_args.given has one bit per option */
_Static_assert(O_END - O_DATA <= 64, "more options than bits in sample_args.given");
_Static_assert(O_MAX_DEPTH - O_DATA < 64, "sample_args.given has one bit per option");

static const struct option long_options[] = {
    {"data", 1, 0, O_DATA}, {"train", 1, 0, O_TRAIN}, {"test", 1, 0, O_TEST},
    {"target-col", 1, 0, O_TARGET_COL}, {"header", 1, 0, O_HEADER}, {"task", 1, 0, O_TASK},
    {"classes", 1, 0, O_CLASSES}, {"train-subset", 1, 0, O_SUBSET},
    {"no-standardize", 0, 0, O_NO_STD}, {"fs-points", 1, 0, O_FS}, {"arch", 1, 0, O_ARCH},
    {"act", 1, 0, O_ACT}, {"likelihood", 1, 0, O_LIK}, {"noise-sd", 1, 0, O_NOISE},
    {"prior-var", 1, 0, O_PRIOR_VAR}, {"prior-fan-in", 0, 0, O_FAN_IN},
    {"temperature", 1, 0, O_TEMP}, {"precision", 1, 0, O_PREC}, {"chains", 1, 0, O_CHAINS},
    {"burn-in", 1, 0, O_BURN}, {"warmup", 1, 0, O_WARMUP}, {"samples", 1, 0, O_SAMPLES},
    {"thin", 1, 0, O_THIN}, {"step-size", 1, 0, O_STEP}, {"traj-len", 1, 0, O_TRAJ},
    {"max-leapfrog", 1, 0, O_MAXLF}, {"jitter", 1, 0, O_JITTER}, {"no-mh", 0, 0, O_NO_MH},
    {"target-accept", 1, 0, O_TARGET_ACC}, {"no-adapt-step", 0, 0, O_NO_ADAPT_STEP},
    {"adapt-mass", 1, 0, O_ADAPT_MASS}, {"init-scale", 1, 0, O_INIT_SCALE},
    {"seed", 1, 0, O_SEED}, {"threads", 1, 0, O_THREADS}, {"block-rows", 1, 0, O_BLOCK},
    {"out", 1, 0, O_OUT}, {"overwrite", 0, 0, O_OVERWRITE}, {"quiet", 0, 0, O_QUIET},
    {"help", 0, 0, O_HELP}, {"checkpoint-interval", 1, 0, O_CKPT}, {"resume", 1, 0, O_RESUME},
    {"superchains", 1, 0, O_SUPERCHAINS}, {"symmetry-moves", 0, 0, O_SYMMETRY},
    {"shards", 1, 0, O_SHARDS}, {"pad-to", 1, 0, O_PAD_TO},
    {"config", 1, 0, O_CONFIG}, {"rank-groups", 1, 0, O_RANK_GROUPS},
    {"standardize-target", 0, 0, O_STD_TARGET}, {"init-from", 1, 0, O_INIT_FROM},
    {"prior", 1, 0, O_PRIOR}, {"prior-hyper", 1, 0, O_PRIOR_HYPER}, {"ard", 0, 0, O_ARD},
    {"noise-hyper", 1, 0, O_NOISE_HYPER}, {"sampler", 1, 0, O_SAMPLER},
    {"max-depth", 1, 0, O_MAX_DEPTH}, {"device", 1, 0, O_DEVICE}, {"tf32", 0, 0, O_TF32},
    {0, 0, 0, 0}};

struct sample_args {
    bnn_run_config cfg;
    bnn_dataset_options data;
    int quiet, help;
    const char *resume;          /* --resume DIR */
    uint64_t given;              /* bit (option - O_DATA) set for each option on the line */
    bnn_run_data_strings strings;
};

static int set_choice(const char *flag, const char *text, const char *a, const char *b, int *out)
{
    if (!strcmp(text, a)) *out = 0;
    else if (!strcmp(text, b)) *out = 1;
    else {
        fprintf(stderr, "bnnmc: %s: expected %s or %s, got '%s'\n", flag, a, b, text);
        return -1;
    }
    return 0;
}

/* Options of the data set and the model; returns 1 if `opt` is not one of them. */
static int parse_data_model(struct sample_args *a, int opt, const char *v)
{
    bnn_run_config *c = &a->cfg;
    bnn_dataset_options *d = &a->data;
    int choice = 0, rc = 0;
    size_t n;
    switch (opt) {
    case O_DATA: d->name = v; return 0;
    case O_TRAIN: d->train_spec = v; return 0;
    case O_TEST: d->test_spec = v; return 0;
    case O_TARGET_COL: rc = opt_size("--target-col", v, &n); d->csv.target_col = (long)n; return rc;
    case O_HEADER:
        if (!strcmp(v, "auto")) d->csv.header = -1;
        else if ((rc = set_choice("--header", v, "no", "yes", &choice)) == 0) d->csv.header = choice;
        return rc;
    case O_TASK:
        rc = set_choice("--task", v, "classification", "regression", &choice);
        d->task = choice ? BNN_TASK_REGRESS : BNN_TASK_CLASSIFY;
        if (choice && !bnn_likelihood_is_regression(c->lik)) c->lik = BNN_LIK_GAUSSIAN;
        return rc;
    case O_CLASSES: return opt_size("--classes", v, &d->n_classes);
    case O_SUBSET: return opt_size("--train-subset", v, &d->train_subset);
    case O_NO_STD: d->standardize = 0; d->standardize_target = -1; return 0;
    case O_STD_TARGET: d->standardize_target = 1; return 0;
    case O_PAD_TO: return opt_size("--pad-to", v, &d->pad_to);
    case O_FS: return opt_size("--fs-points", v, &c->fs_points);
    case O_ARCH:
        if (snprintf(c->arch, sizeof c->arch, "%s", v) >= (int)sizeof c->arch) {
            fprintf(stderr, "bnnmc: --arch: too long\n");
            return -1;
        }
        return 0;
    case O_ACT: return bnn_activation_parse(v, &c->act) == BNN_OK ? 0 : (cli_report_error("--act"), -1);
    case O_LIK: return bnn_likelihood_parse(v, &c->lik) == BNN_OK ? 0 : (cli_report_error("--likelihood"), -1);
    case O_NOISE: return opt_double("--noise-sd", v, &c->noise_sd);
    case O_PRIOR_VAR: return bnn_prior_var_parse(v, &c->prior) == BNN_OK ? 0 : (cli_report_error("--prior-var"), -1);
    case O_PRIOR: return bnn_prior_family_parse(v, &c->prior.family) == BNN_OK ? 0 : (cli_report_error("--prior"), -1);
    case O_FAN_IN: c->prior.divide_by_fan_in = 1; return 0;
    case O_PRIOR_HYPER:
        rc = bnn_gamma_prior_parse("--prior-hyper", v, &c->prior.hyper.layers);
        return rc == BNN_OK ? 0 : (cli_report_error("--prior-hyper"), -1);
    case O_ARD: c->prior.hyper.ard = 1; return 0;
    case O_NOISE_HYPER:
        rc = bnn_gamma_prior_parse("--noise-hyper", v, &c->prior.hyper.noise);
        return rc == BNN_OK ? 0 : (cli_report_error("--noise-hyper"), -1);
    case O_TEMP: return opt_double("--temperature", v, &c->prior.temperature);
    case O_PREC:
        rc = set_choice("--precision", v, "float32", "float64", &choice);
        c->precision = choice ? BNN_F64 : BNN_F32;
        return rc;
    }
    return 1;
}

/* Options of the sampler and of execution; returns 1 if `opt` is not one of them. */
static int parse_sampler(struct sample_args *a, int opt, const char *v)
{
    bnn_run_config *c = &a->cfg;
    int choice = 0, rc;
    switch (opt) {
    case O_SAMPLER:
        rc = set_choice("--sampler", v, "hmc", "nuts", &choice);
        c->sampler = choice ? BNN_SAMPLER_NUTS : BNN_SAMPLER_HMC;
        return rc;
    case O_MAX_DEPTH: return opt_size("--max-depth", v, &c->max_depth);
    case O_CHAINS: return opt_size("--chains", v, &c->chains);
    case O_BURN: return opt_size("--burn-in", v, &c->burn_in);
    case O_WARMUP: return opt_size("--warmup", v, &c->warmup);
    case O_SAMPLES: return opt_size("--samples", v, &c->samples);
    case O_THIN: return opt_size("--thin", v, &c->thin);
    case O_STEP: return opt_double("--step-size", v, &c->hmc.step_size);
    case O_TRAJ:
        rc = opt_double("--traj-len", v, &c->hmc.traj_len);
        if (rc == 0 && !(c->hmc.traj_len > 0)) {
            fprintf(stderr, "bnnmc: --traj-len must be positive (got %s)\n", v);
            return -1;
        }
        return rc;
    case O_MAXLF: return opt_size("--max-leapfrog", v, &c->hmc.max_leapfrog);
    case O_JITTER: return opt_double("--jitter", v, &c->hmc.jitter);
    case O_NO_MH: c->metropolis = 0; return 0;
    case O_TARGET_ACC: return opt_double("--target-accept", v, &c->target_accept);
    case O_NO_ADAPT_STEP: c->adapt_step_size = 0; return 0;
    case O_ADAPT_MASS:
        rc = set_choice("--adapt-mass", v, "none", "diag", &choice);
        c->adapt_mass = choice;
        return rc;
    case O_INIT_SCALE: return opt_double("--init-scale", v, &c->init_scale);
    case O_INIT_FROM:
        if (snprintf(c->init_from, sizeof c->init_from, "%s", v) >= (int)sizeof c->init_from) {
            fprintf(stderr, "bnnmc: --init-from: path too long\n");
            return -1;
        }
        return 0;
    case O_SEED: return opt_u64("--seed", v, &c->seed);
    case O_SUPERCHAINS: return opt_size("--superchains", v, &c->superchains);
    case O_SYMMETRY: c->symmetry_moves = 1; return 0;
    case O_THREADS: return opt_size("--threads", v, &c->threads);
    case O_BLOCK:
        if (opt_size("--block-rows", v, &c->block_rows) != 0) return -1;
        if (c->block_rows == 0) {
            fprintf(stderr, "bnnmc: --block-rows must be at least 1\n");
            return -1;
        }
        return 0;
    case O_SHARDS: return opt_size("--shards", v, &c->data_shards);
    case O_DEVICE:
        rc = set_choice("--device", v, "cpu", "cuda", &choice);
        c->device = choice ? BNN_DEVICE_CUDA : BNN_DEVICE_CPU;
        return rc;
    case O_TF32: c->tf32 = 1; return 0;
    case O_RANK_GROUPS: return opt_size("--rank-groups", v, &c->rank_groups);
    case O_OUT:
        if (snprintf(c->out_dir, sizeof c->out_dir, "%s", v) >= (int)sizeof c->out_dir) {
            fprintf(stderr, "bnnmc: --out: path too long\n");
            return -1;
        }
        return 0;
    case O_OVERWRITE: c->overwrite = 1; return 0;
    case O_CKPT: return opt_double("--checkpoint-interval", v, &c->checkpoint_interval);
    case O_RESUME: a->resume = v; return 0;
    case O_QUIET: a->quiet = 1; return 0;
    case O_HELP: a->help = 1; return 0;
    }
    return 1;
}

/* --resume DIR: the configuration comes from DIR/run.json; a few settings may be given anew. */
static int resume_args(struct sample_args *a)
{
    const uint64_t allowed = 1ull << (O_SAMPLES - O_DATA) | 1ull << (O_THREADS - O_DATA) |
                             1ull << (O_RANK_GROUPS - O_DATA) |
                             1ull << (O_CKPT - O_DATA) | 1ull << (O_QUIET - O_DATA) |
                             1ull << (O_RESUME - O_DATA);
    for (const struct option *o = long_options; o->name; o++)
        if (o->val >= O_DATA && (a->given & ~allowed & 1ull << (o->val - O_DATA))) {
            fprintf(stderr, "bnnmc sample: --%s cannot be changed when resuming a run (only "
                            "--samples, --threads and --checkpoint-interval)\n", o->name);
            return -1;
        }
    bnn_run_config given = a->cfg;
    if (bnn_run_config_read(a->resume, &a->cfg, &a->data, &a->strings) != BNN_OK) {
        cli_report_error("--resume");
        return -1;
    }
    if (a->given & 1ull << (O_SAMPLES - O_DATA)) a->cfg.samples = given.samples;
    if (a->given & 1ull << (O_THREADS - O_DATA)) a->cfg.threads = given.threads;
    if (a->given & 1ull << (O_RANK_GROUPS - O_DATA)) a->cfg.rank_groups = given.rank_groups;
    if (a->given & 1ull << (O_CKPT - O_DATA)) a->cfg.checkpoint_interval = given.checkpoint_interval;
    a->cfg.resume = 1;
    return 0;
}

/* One option from a config file: key = the long option's name ('-' or '_'), value a string,
 * number or boolean (true for a flag; false leaves it unset). */
static int config_entry(struct sample_args *a, const char *path, const char *key, json_t *value)
{
    char name[64];
    snprintf(name, sizeof name, "%s", key);
    for (char *p = name; *p; p++)
        if (*p == '_') *p = '-';
    const struct option *o = long_options;
    while (o->name && strcmp(o->name, name) != 0) o++;
    if (!o->name || o->val == O_CONFIG || o->val == O_RESUME || o->val == O_HELP) {
        fprintf(stderr, "bnnmc: %s: unknown key '%s' (keys are the long options of bnnmc "
                        "sample, e.g. \"arch\", \"chains\", \"prior-var\")\n", path, key);
        return -1;
    }
    char text[256];
    if (json_is_string(value)) snprintf(text, sizeof text, "%s", json_string_value(value));
    else if (json_is_integer(value)) snprintf(text, sizeof text, "%lld", (long long)json_integer_value(value));
    else if (json_is_real(value)) snprintf(text, sizeof text, "%.17g", json_real_value(value));
    else if (json_is_boolean(value) && !o->has_arg) {
        if (json_is_false(value)) return 0;
        text[0] = '\0';
    } else {
        fprintf(stderr, "bnnmc: %s: key '%s': expected %s\n", path, key,
                o->has_arg ? "a string or a number" : "true or false");
        return -1;
    }
    a->given |= 1ull << (o->val - O_DATA);
    int rc = parse_data_model(a, o->val, text);
    if (rc == 1) rc = parse_sampler(a, o->val, text);
    if (rc != 0) fprintf(stderr, "bnnmc: (in %s, key '%s')\n", path, key);
    return rc;
}

/* --config FILE.json: the file's settings first; flags on the command line override them. */
static int read_config(struct sample_args *a, const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        fprintf(stderr, "bnnmc: %s:%d:%d: %s\n", path, err.line, err.column, err.text);
        return -1;
    }
    int rc = 0;
    if (!json_is_object(root)) {
        fprintf(stderr, "bnnmc: %s: expected a JSON object of option names and values\n", path);
        rc = -1;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (rc == 0) rc = config_entry(a, path, key, value);
    }
    json_decref(root);
    return rc;
}

static int parse_args(int argc, char **argv, struct sample_args *a)
{
    memset(a, 0, sizeof *a);
    bnn_run_config_defaults(&a->cfg);
    a->data.csv.header = -1;
    a->data.csv.target_col = -1;
    a->data.standardize = 1;
    for (int i = 1; i + 1 < argc; i++) /* the config file first, whatever its place */
        if (!strcmp(argv[i], "--config") && read_config(a, argv[i + 1]) != 0) return -1;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (opt == 'h') opt = O_HELP;
        if (opt == '?') return -1;
        const char *v = optarg ? optarg : "";
        if (opt >= O_DATA) a->given |= 1ull << (opt - O_DATA);
        if (opt == O_CONFIG) continue; /* read above */
        int rc = parse_data_model(a, opt, v);
        if (rc == 1) rc = parse_sampler(a, opt, v);
        if (rc != 0) return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "bnnmc sample: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (a->resume) return resume_args(a);
    unsigned given = 0;
    if (a->given & 1ull << (O_ACT - O_DATA)) given |= CLI_GIVEN_ACT;
    if (a->given & 1ull << (O_TASK - O_DATA)) given |= CLI_GIVEN_TASK;
    if (a->given & 1ull << (O_LIK - O_DATA)) given |= CLI_GIVEN_LIK;
    return cli_data_model_finish(&a->cfg, &a->data, given, "sample");
}

int cli_data_model_finish(bnn_run_config *c, bnn_dataset_options *d, unsigned given,
                          const char *command)
{
    if (!(given & CLI_GIVEN_ACT)) c->act = bnn_cnn_default_activation(c->arch, c->act);
    if (!d->name && !d->train_spec) d->name = "digits";
    if (bnn_dataset_builtin_task(d->name) == BNN_TASK_REGRESS && !(given & CLI_GIVEN_TASK)) {
        d->task = BNN_TASK_REGRESS;
        if (!(given & CLI_GIVEN_LIK)) c->lik = BNN_LIK_GAUSSIAN;
    }
    if (d->name && (d->train_spec || d->test_spec)) {
        fprintf(stderr, "bnnmc %s: give either --data or --train/--test, not both\n", command);
        return -1;
    }
    if (d->train_spec && !d->test_spec) {
        fprintf(stderr, "bnnmc %s: --train needs --test (the test set is recorded in "
                        "function space)\n", command);
        return -1;
    }
    return 0;
}

const struct option *cli_sample_long_options(void) { return long_options; }

int cli_sample_option(int opt, const char *value, bnn_run_config *c, bnn_dataset_options *d)
{
    struct sample_args a;
    memset(&a, 0, sizeof a);
    a.cfg = *c;
    a.data = *d;
    int rc = parse_data_model(&a, opt, value);
    if (rc == 1) rc = parse_sampler(&a, opt, value);
    *c = a.cfg;
    *d = a.data;
    return rc;
}

static void format_seconds(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0) snprintf(buf, len, "--:--");
    else if (s < 3600) snprintf(buf, len, "%02d:%02d", (int)s / 60, (int)s % 60);
    else snprintf(buf, len, "%dh%02d", (int)s / 3600, ((int)s % 3600) / 60);
}

static void print_progress(const bnn_run_progress *p, int tty)
{
    char el[32], eta[32];
    double frac = (double)p->done_total / (double)(p->iterations * p->chains);
    format_seconds(el, sizeof el, p->elapsed);
    format_seconds(eta, sizeof eta, frac > 0 ? p->elapsed * (1 - frac) / frac : NAN);
    fprintf(stderr, "%siter %zu/%zu  chains %zu  accept %.3f  step %.3g  divergent %zu  "
                    "elapsed %s  eta %s%s",
            tty ? "\r" : "", p->done_min, p->iterations, p->chains, p->accept_rate, p->step_size,
            p->divergences, el, eta, tty ? "\033[K" : "\n");
    fflush(stderr);
}

/* Polls the run: a live line on a terminal, otherwise a line every 5 seconds. */
static void follow(bnn_run *run, int quiet)
{
    const int tty = cli_stderr_is_tty();
    double last_log = 0;
    bnn_run_progress p;
    for (;;) {
        bnn_run_poll(run, &p);
        if (p.finished) break;
        if (!quiet && (tty || p.elapsed - last_log >= 5)) {
            print_progress(&p, tty);
            last_log = p.elapsed;
        }
        nanosleep(&(struct timespec){0, 200000000L}, NULL);
    }
    if (!quiet) {
        print_progress(&p, tty);
        if (tty) fputc('\n', stderr);
        fprintf(stderr, "%zu leapfrog steps (= gradients) in %.1f s: %.3f ms per gradient\n",
                p.gradients, p.elapsed, p.gradients ? 1e3 * p.elapsed / (double)p.gradients : 0.0);
    }
}

/* MPI: this process's rank and the number of ranks (1, 0 without MPI), and a way out that
 * takes the other ranks down with it, so that no job hangs on a rank that stopped. */
struct ranks {
    int rank, size;
};

static struct ranks ranks_init(void)
{
    struct ranks k = {0, 1};
#ifdef BNNMC_HAVE_MPI
    /* launched by mpirun/mpiexec (MPICH's Hydra, Open MPI, PMIx)? */
    if (getenv("PMI_RANK") || getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK")) {
        int provided;
        MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &k.rank);
        MPI_Comm_size(MPI_COMM_WORLD, &k.size);
        if (provided < MPI_THREAD_MULTIPLE && k.rank == 0)
            fprintf(stderr, "bnnmc: warning: the MPI library does not provide "
                            "MPI_THREAD_MULTIPLE; use --threads 1 per rank\n");
    }
#endif
    return k;
}

/* Reports the library's error; under MPI with several ranks, names the rank and aborts all. */
static int fail(struct ranks k, const char *what)
{
    if (k.size > 1) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "rank %d: %s", k.rank, what);
        cli_report_error(prefix);
        fflush(stderr);
        /* let the launcher forward the message before the abort tears every rank down */
        nanosleep(&(struct timespec){0, 300000000L}, NULL);
#ifdef BNNMC_HAVE_MPI
        MPI_Abort(MPI_COMM_WORLD, 1);
#endif
    }
    cli_report_error(what);
    return 1;
}

static bnn_status start(struct ranks k, const struct sample_args *a, const bnn_dataset *data,
                        bnn_run **run)
{
#ifdef BNNMC_HAVE_MPI
    if (k.size > 1) return bnn_run_start_mpi(&a->cfg, data, &a->data, MPI_COMM_WORLD, run);
#endif
    (void)k;
    return bnn_run_start(&a->cfg, data, &a->data, run);
}

static void ranks_done(struct ranks k)
{
#ifdef BNNMC_HAVE_MPI
    int up = 0;
    MPI_Initialized(&up);
    if (up) MPI_Finalize();
#endif
    (void)k;
}

int cmd_sample(int argc, char **argv)
{
    struct sample_args a;
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "(bnnmc sample --help lists the options)\n");
        return 2;
    }
    if (a.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    struct ranks k = ranks_init();
    const int quiet = a.quiet || k.rank != 0;
    if (k.size > 1 && ((size_t)k.size % (a.cfg.rank_groups ? a.cfg.rank_groups : 1) != 0 ||
                       a.cfg.rank_groups > a.cfg.chains)) { /* the same on every rank: no abort */
        if (k.rank == 0)
            fprintf(stderr, "bnnmc: --rank-groups %zu must divide the %d MPI ranks and be at "
                            "most --chains %zu\n", a.cfg.rank_groups, k.size, a.cfg.chains);
        ranks_done(k);
        return 1;
    }
    bnn_dataset data;
    if (bnn_dataset_load(&a.data, &data) != BNN_OK) return fail(k, "data");
    a.data.task = data.task;
    bnn_run *run = NULL;
    int rc = 0;
    if (start(k, &a, &data, &run) != BNN_OK) {
        rc = fail(k, "sample");
    } else {
        if (!quiet)
            fprintf(stderr, "bnnmc: %zu chains, %zu training and %zu test rows, %d process%s, "
                            "%s %s\n", a.cfg.chains, data.train.n, data.test.n, k.size,
                    k.size > 1 ? "es" : "",
                    bnn_run_resumed(run) ? "resuming the run in" : "writing", a.cfg.out_dir);
        if (!quiet && bnn_run_warning(run)[0])
            fprintf(stderr, "bnnmc: warning: %s\n", bnn_run_warning(run));
        follow(run, quiet);
#ifdef BNNMC_HAVE_MPI
        if (!quiet && k.size > 1)
            fprintf(stderr, "MPI: %d ranks, %zu bytes received per rank and gradient, %.1f %% of "
                            "gradient time in the exchange (rank 0)\n", k.size,
                    bnn_run_comm_bytes_per_gradient(run), 100 * bnn_run_comm_share(run));
#endif
        if (bnn_run_finish(run) != BNN_OK) rc = fail(k, "sample");
    }
    bnn_run_free(run);
    bnn_dataset_free(&data);
    if (rc == 0 && !quiet) rc = cli_print_run_report(a.cfg.out_dir, 0);
    ranks_done(k);
    return rc;
}
