/* libFuzzer target: the draws CSV reader of `bnnmc summary` (bnn_draws_read_csv), plain and
 * CmdStan, then the summary diagnostics over what it read. The input is one file, or two
 * CmdStan chain files separated by "\n--CHAIN--\n". */
#include <stddef.h>
#include <stdint.h>

#include "diag/diag.h"
#include "diag/draws_csv.h"
#include "fuzz_common.h"

/* Diagnostics are run only on inputs of modest size: they are exercised by the known-answer
 * tests, here they only need to survive whatever the reader lets through. */
#define FUZZ_MAX_DRAWS 4096

static void summarise(const bnn_draws *d)
{
    if (d->n_iter * d->n_chain > FUZZ_MAX_DRAWS || d->n_var > 64) return;
    bnn_diag_ws *ws;
    if (bnn_diag_ws_alloc(d->n_iter, d->n_chain, &ws) != BNN_OK) return;
    for (size_t v = 0; v < d->n_var; v++) {
        bnn_diag_summary s;
        (void)bnn_diag_summarise(ws, d->draws + v * d->n_chain * d->n_iter, d->n_iter,
                                 d->n_chain, d->n_iter, BNN_DIAG_ALL, &s);
    }
    bnn_diag_ws_free(ws);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *a, *b;
    size_t a_size, b_size;
    const int two = fuzz_split(data, size, "\n--CHAIN--\n", &a, &a_size, &b, &b_size);
    const char *paths[2] = {fuzz_file(0, a, a_size), NULL};
    size_t n_paths = 1;
    if (two) {
        paths[1] = fuzz_file(1, b, b_size);
        n_paths = 2;
    }
    bnn_draws d;
    if (bnn_draws_read_csv(paths, n_paths, &d) == BNN_OK) {
        summarise(&d);
        bnn_draws_free(&d);
    }
    return 0;
}
