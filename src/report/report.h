/* The HTML report of a diagnosed run: tables and inline SVG plots built from RUN/diagnostics.json
 * (bnnmc diagnose), the run's arrays (traces, predictions) and its data (test images); every
 * figure is written as a PNG file too. */
#ifndef BNN_REPORT_REPORT_H
#define BNN_REPORT_REPORT_H

#include <stddef.h>

#include "core/status.h"

/* Writes out_path (NULL: RUN/report.html) and the figures as PNG files into fig_dir (NULL:
 * RUN/figures, created if needed; "": none). Needs RUN/diagnostics.json. */
bnn_status bnn_report_write(const char *run_dir, const char *out_path, const char *fig_dir);

#endif
