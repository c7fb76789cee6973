/* Status codes and the error channel of libbnnmc: functions return a bnn_status and leave a
 * message (with the source location that raised it) in a thread-local buffer. */
#ifndef BNN_CORE_STATUS_H
#define BNN_CORE_STATUS_H

#include <stdarg.h>

typedef enum {
    BNN_OK = 0,
    BNN_EINVAL,  /* bad argument or option value */
    BNN_EIO,     /* a file could not be opened, read or written */
    BNN_EFORMAT, /* a file's contents are malformed */
    BNN_ENOMEM,  /* allocation failed */
    BNN_ERANGE,  /* a value is out of its allowed range (labels, dimensions) */
    BNN_ENUM,    /* a numerical failure (non-finite value where one is not allowed) */
    BNN_EUNSUP   /* valid request that this build or backend does not support */
} bnn_status;

/* Called on every error with the code, the location that raised it and the message.
 * The default handler does nothing (the message is kept for bnn_last_error). */
typedef void (*bnn_error_handler)(bnn_status code, const char *src_file, int src_line,
                                  const char *message);

/* Records an error message (printf-style) for this thread, calls the handler and returns code. */
bnn_status bnn_error_at(bnn_status code, const char *src_file, int src_line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The message of this thread's most recent error ("" if none). */
const char *bnn_last_error(void);

/* Short name of a status code ("invalid argument", ...). */
const char *bnn_status_name(bnn_status code);

/* Installs a handler for all threads and returns the previous one. Not thread-safe: call it
 * before starting work. */
bnn_error_handler bnn_set_error_handler(bnn_error_handler handler);

#define BNN_ERROR(code, ...) bnn_error_at((code), __FILE__, __LINE__, __VA_ARGS__)

/* Propagate a non-OK status from an expression. */
#define BNN_TRY(expr)                                                                          \
    do {                                                                                       \
        bnn_status bnn_try_status_ = (expr);                                                   \
        if (bnn_try_status_ != BNN_OK) return bnn_try_status_;                                 \
    } while (0)

#endif
