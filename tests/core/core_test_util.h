/* Helpers for the core tests: a scratch directory removed with everything under it, .npy arrays
 * of a run read back as doubles, and the one-line verdict every check prints. */
#ifndef BNN_TESTS_CORE_TEST_UTIL_H
#define BNN_TESTS_CORE_TEST_UTIL_H

/* nftw needs _XOPEN_SOURCE 700, defined by the including file before any system header. */
#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 500
#error "define _XOPEN_SOURCE 700 before including core_test_util.h"
#endif
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/npy.h"

/* Creates a fresh directory under $TMPDIR (or /tmp) into dir; returns 0 on success. */
static inline int core_mkdtemp(char *dir, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/bnnmc-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    return mkdtemp(dir) ? 0 : -1;
}

static inline int core_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

/* Removes dir and everything under it (files and directories, depth first). */
static inline void core_rmtree(const char *dir)
{
    nftw(dir, core_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads a whole .npy file as doubles: *out (count) is malloc'd, shape into shape (ndim dims).
 * Returns 0 on success. */
static inline int core_read_npy(const char *path, double **out, bnn_npy_header *h)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int rc = -1;
    if (bnn_npy_read_header(f, path, h) == BNN_OK) {
        *out = malloc((h->count ? h->count : 1) * sizeof(double));
        if (*out && bnn_npy_read_doubles(f, path, h, 0, h->count, *out) == BNN_OK) rc = 0;
    }
    fclose(f);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* |estimate - exact| in MCSE units, and the verdict line "ok|not ok WHAT: ...". */
static inline int core_check_mcse(const char *what, double estimate, double exact, double mcse,
                                  double ess, double max_units)
{
    double z = (estimate - exact) / mcse;
    int ok = mcse > 0 && z <= max_units && z >= -max_units; /* false for NaN */
    printf("%s %s: estimate %.6g, exact %.6g, diff %+.2f MCSE (MCSE %.3g, ESS %.0f; tol %.0f)\n",
           ok ? "ok" : "not ok", what, estimate, exact, z, mcse, ess, max_units);
    return ok;
}

#endif
