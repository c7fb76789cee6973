/* Option value parsing and error printing shared by the subcommands. */
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/status.h"

int opt_u64(const char *flag, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno || text[0] == '-') {
        fprintf(stderr, "bnnmc: %s: expected a non-negative integer, got '%s'\n", flag, text);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int opt_size(const char *flag, const char *text, size_t *out)
{
    uint64_t v;
    if (opt_u64(flag, text, &v) != 0) return -1;
    if (v > (uint64_t)SIZE_MAX / 2) {
        fprintf(stderr, "bnnmc: %s: value '%s' is too large\n", flag, text);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int opt_double(const char *flag, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v)) {
        fprintf(stderr, "bnnmc: %s: expected a finite number, got '%s'\n", flag, text);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_report_error(const char *what)
{
    const char *msg = bnn_last_error();
    fprintf(stderr, "bnnmc: %s: %s\n", what, *msg ? msg : "unknown error");
}

int cli_stderr_is_tty(void) { return isatty(STDERR_FILENO); }
