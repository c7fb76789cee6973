/* Shared between the run diagnosis (diag_run.c) and its report (diag_run_report.c). */
#ifndef BNN_DIAG_RUN_INTERNAL_H
#define BNN_DIAG_RUN_INTERNAL_H

#include "diag/diag_run.h"

/* Fills the quantiles, fractions, ESS minima/medians and worst list of a space whose
 * per-quantity arrays are computed. */
bnn_status diag_space_summarise(bnn_diag_space *sp);

#endif
