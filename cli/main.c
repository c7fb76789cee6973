/* bnnmc: the command-line front end. Dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"sample", cmd_sample, "run HMC or NUTS chains on a data set and write a run directory"},
    {"train", cmd_train, "SGLD, SGHMC, cyclical SG-MCMC, VI, MAP or a deep ensemble on mini-batches"},
    {"predict", cmd_predict, "Bayesian model average of a run: accuracy, NLL, ECE, Brier"},
    {"eval", cmd_eval, "a predictive against a reference: agreement, total variation, W1"},
    {"summary", cmd_summary, "R-hat, ESS and MCSE of draws in a CSV file (any sampler)"},
    {"diagnose", cmd_diagnose, "convergence diagnostics of a run in weight and function space"},
    {"verify", cmd_verify, "check every stored draw of a run against its checksums"},
    {"report", cmd_report, "HTML report of a diagnosed run: R-hat histograms, traces, islands"},
    {"export", cmd_export, "a run as NetCDF (ArviZ), CmdStan CSV or .npy with a JSON sidecar"},
    {"bench", cmd_bench, "time the posterior gradient and a leapfrog step (synthetic data)"},
    {"gradcheck", cmd_gradcheck, "analytic gradient of a network against finite differences"},
};

static void usage(FILE *f)
{
    fprintf(f, "bnnmc: Hamiltonian Monte Carlo for Bayesian neural networks\n\n"
               "usage: bnnmc COMMAND [OPTIONS]   (bnnmc COMMAND --help for its options)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("bnnmc 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "bnnmc: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
