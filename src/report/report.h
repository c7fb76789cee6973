/* The HTML report of a diagnosed run: tables and inline SVG plots built from RUN/diagnostics.json
 * (bnnmc diagnose) and the run's arrays (traces). */
#ifndef BNN_REPORT_REPORT_H
#define BNN_REPORT_REPORT_H

#include <stddef.h>

#include "core/status.h"

/* Writes out_path (NULL: RUN/report.html). Needs RUN/diagnostics.json. */
bnn_status bnn_report_write(const char *run_dir, const char *out_path);

#endif
