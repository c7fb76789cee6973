/* The error channel: a thread-local message buffer and one optional process-wide handler. */
#include "core/status.h"

#include <stdio.h>

static _Thread_local char last_message[2048];
static bnn_error_handler error_handler; /* set once before work starts; see status.h */

bnn_status bnn_error_at(bnn_status code, const char *src_file, int src_line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    if (error_handler) error_handler(code, src_file, src_line, last_message);
    return code;
}

const char *bnn_last_error(void) { return last_message; }

const char *bnn_status_name(bnn_status code)
{
    switch (code) {
    case BNN_OK: return "ok";
    case BNN_EINVAL: return "invalid argument";
    case BNN_EIO: return "input/output error";
    case BNN_EFORMAT: return "malformed file";
    case BNN_ENOMEM: return "out of memory";
    case BNN_ERANGE: return "value out of range";
    case BNN_ENUM: return "numerical failure";
    case BNN_EUNSUP: return "not supported";
    }
    return "unknown status";
}

bnn_error_handler bnn_set_error_handler(bnn_error_handler handler)
{
    bnn_error_handler previous = error_handler;
    error_handler = handler;
    return previous;
}
