/* Strict parsing of option values: every malformed value is an error naming its flag. */
#ifndef BNN_CLI_OPTS_H
#define BNN_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>

/* Each returns 0 on success; on failure prints "bnnmc: FLAG: ..." to stderr and returns -1. */
int opt_size(const char *flag, const char *text, size_t *out);
int opt_u64(const char *flag, const char *text, uint64_t *out);
int opt_double(const char *flag, const char *text, double *out);

/* Prints "bnnmc: <message>" for the library's last error (with its status name). */
void cli_report_error(const char *what);

/* 1 when stderr is a terminal. */
int cli_stderr_is_tty(void);

#endif
