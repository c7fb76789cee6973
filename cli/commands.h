/* The bnnmc subcommands: each takes the arguments after its name and returns the exit code. */
#ifndef BNN_CLI_COMMANDS_H
#define BNN_CLI_COMMANDS_H

int cmd_sample(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Prints the model-average report of a finished run (text or JSON); returns the exit code. */
int cli_print_run_report(const char *run_dir, int as_json);

#endif
