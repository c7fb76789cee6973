/* The bnnmc subcommands: each takes the arguments after its name and returns the exit code. */
#ifndef BNN_CLI_COMMANDS_H
#define BNN_CLI_COMMANDS_H

#include <getopt.h>

#include "sample/run.h"

int cmd_sample(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* `bnnmc train` shares options with `bnnmc sample` (cli/sample.c): sample's table of long
 * options, and a parser of one of them into a configuration (0 ok, -1 bad value, reported;
 * 1 not a setting of the configuration). */
const struct option *cli_sample_long_options(void);
int cli_sample_option(int opt, const char *value, bnn_run_config *c, bnn_dataset_options *d);

/* After the options: default activation of the architecture (unless --act was given), default
 * data set digits, regression with a Gaussian likelihood for a built-in regression data set
 * (unless --task / --likelihood were given), and --data / --train / --test checked; prints an
 * error, returns -1. `given`: the CLI_GIVEN_* options that were on the command line. */
enum { CLI_GIVEN_ACT = 1, CLI_GIVEN_TASK = 2, CLI_GIVEN_LIK = 4 };
int cli_data_model_finish(bnn_run_config *c, bnn_dataset_options *d, unsigned given,
                          const char *command);

/* Prints the model-average report of a finished run (text or JSON); returns the exit code. */
int cli_print_run_report(const char *run_dir, int as_json);

#endif
