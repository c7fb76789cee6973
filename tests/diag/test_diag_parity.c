/* Parity of every diagnostic with posterior 1.4.0: runs scripts/diag_parity.R (Rscript) at test
 * time, then compares each number at the case's relative tolerance (1e-9 for every case, the 1e8
 * offsets included: our sums round as R's and matrixStats' do). NaN must match NaN; > 1e10 and +Inf count as equal (spec 4). Exits 77
 * (skipped) when Rscript or posterior 1.4.0 is missing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diag.h"

#define REF_FILE "diag_parity_ref.txt"
#define SKIP 77

typedef struct {
    char name[64];
    size_t n, m;
    double tol;
    double *x;    /* (m, n) chain-major */
    int *ids;     /* (m) or NULL */
} parity_case;

static double worst_rel; /* largest relative error over all finite comparisons */

/* The Rscript to run: $BNNMC_RSCRIPT if set (a way to test the skip), else Rscript on PATH. */
static const char *rscript(void)
{
    const char *r = getenv("BNNMC_RSCRIPT");
    return r && *r ? r : "Rscript";
}

static int skip_unless_reference(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "command -v '%s' > /dev/null 2>&1", rscript());
    if (system(cmd) != 0) {
        printf("SKIP: %s not found (Debian r-base-core)\n", rscript());
        return 0;
    }
    snprintf(cmd, sizeof cmd,
             "'%s' -e 'quit(status = if (requireNamespace(\"posterior\", quietly = TRUE)"
             " && packageVersion(\"posterior\") == \"1.4.0\") 0 else 3)' > /dev/null 2>&1",
             rscript());
    if (system(cmd) != 0) {
        printf("SKIP: R package posterior 1.4.0 not installed (Debian r-cran-posterior)\n");
        return 0;
    }
    return 1;
}

/* strtod plus R's NA. */
static int read_double(FILE *f, double *v)
{
    char tok[64];
    if (fscanf(f, "%63s", tok) != 1) return 0;
    if (!strcmp(tok, "NA")) { *v = NAN; return 1; }
    char *end;
    *v = strtod(tok, &end);
    return *end == '\0';
}

static int same(double got, double want, double tol)
{
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    if ((want > 1e10) && (got > 1e10)) return 1; /* W ~ 1e-31 in R versus W = 0 here */
    if (got == want) return 1;
    double rel = fabs(got - want) / fmax(fabs(got), fabs(want));
    if (isfinite(rel) && rel > worst_rel) worst_rel = rel;
    return rel <= tol;
}

/* Our value of one of the reference keys; *known = 0 for an unknown key. */
static double compute(bnn_diag_ws *ws, const parity_case *c, const char *key, int *known)
{
    const double *x = c->x;
    size_t n = c->n, m = c->m;
    *known = 1;
    if (!strcmp(key, "rhat")) return bnn_diag_rhat(ws, x, n, m, n);
    if (!strcmp(key, "rhat_bulk")) return bnn_diag_rhat_bulk(ws, x, n, m, n);
    if (!strcmp(key, "rhat_tail")) return bnn_diag_rhat_tail(ws, x, n, m, n);
    if (!strcmp(key, "rhat_basic")) return bnn_diag_rhat_basic(ws, x, n, m, n, 1);
    if (!strcmp(key, "rhat_basic_unsplit")) return bnn_diag_rhat_basic(ws, x, n, m, n, 0);
    if (!strcmp(key, "ess_bulk")) return bnn_diag_ess_bulk(ws, x, n, m, n);
    if (!strcmp(key, "ess_tail")) return bnn_diag_ess_tail(ws, x, n, m, n);
    if (!strcmp(key, "ess_basic")) return bnn_diag_ess_basic(ws, x, n, m, n, 1);
    if (!strcmp(key, "ess_basic_unsplit")) return bnn_diag_ess_basic(ws, x, n, m, n, 0);
    if (!strcmp(key, "ess_mean")) return bnn_diag_ess_mean(ws, x, n, m, n);
    if (!strcmp(key, "ess_sd")) return bnn_diag_ess_sd(ws, x, n, m, n);
    if (!strcmp(key, "ess_q05")) return bnn_diag_ess_quantile(ws, x, n, m, n, 0.05);
    if (!strcmp(key, "ess_q95")) return bnn_diag_ess_quantile(ws, x, n, m, n, 0.95);
    if (!strcmp(key, "ess_median")) return bnn_diag_ess_quantile(ws, x, n, m, n, 0.5);
    if (!strcmp(key, "ess_q1")) return bnn_diag_ess_quantile(ws, x, n, m, n, 1.0);
    if (!strcmp(key, "mcse_mean")) return bnn_diag_mcse_mean(ws, x, n, m, n);
    if (!strcmp(key, "mcse_sd")) return bnn_diag_mcse_sd(ws, x, n, m, n);
    if (!strcmp(key, "mcse_q05")) return bnn_diag_mcse_quantile(ws, x, n, m, n, 0.05);
    if (!strcmp(key, "mcse_q95")) return bnn_diag_mcse_quantile(ws, x, n, m, n, 0.95);
    if (!strcmp(key, "mcse_median")) return bnn_diag_mcse_quantile(ws, x, n, m, n, 0.5);
    if (!strcmp(key, "mean")) return bnn_diag_mean(x, n, m, n);
    if (!strcmp(key, "sd")) return bnn_diag_sd(x, n, m, n);
    if (!strcmp(key, "q05")) return bnn_diag_quantile7(ws, x, n, m, n, 0.05);
    if (!strcmp(key, "q50")) return bnn_diag_quantile7(ws, x, n, m, n, 0.5);
    if (!strcmp(key, "q95")) return bnn_diag_quantile7(ws, x, n, m, n, 0.95);
    if (!strcmp(key, "rhat_nested") && c->ids)
        return bnn_diag_rhat_nested(ws, x, n, m, n, c->ids);
    *known = 0;
    return NAN;
}

/* The same key from the all-at-once summary, when it reports it. */
static const double *summary_field(const bnn_diag_summary *s, const char *key)
{
    static const char *names[] = {"mean", "sd", "q05", "q50", "q95", "rhat", "rhat_bulk",
                                  "rhat_tail", "rhat_basic", "ess_bulk", "ess_tail", "ess_basic",
                                  "mcse_mean", "mcse_sd", "mcse_q05", "mcse_q95"};
    const double *f = &s->mean;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(key, names[i])) return f + i;
    return NULL;
}

/* Reads one case's header and data; returns 0 at end of file, -1 on a malformed file. */
static int read_case(FILE *f, parity_case *c)
{
    char tok[64];
    memset(c, 0, sizeof *c);
    if (fscanf(f, "%63s", tok) != 1) return 0;
    if (strcmp(tok, "case") || fscanf(f, "%63s %zu %zu", c->name, &c->n, &c->m) != 3 ||
        !read_double(f, &c->tol) || fscanf(f, "%63s", tok) != 1 || strcmp(tok, "x"))
        return -1;
    c->x = malloc(c->n * c->m * sizeof(double));
    if (!c->x) return -1;
    for (size_t i = 0; i < c->n * c->m; i++)
        if (!read_double(f, &c->x[i])) return -1;
    return 1;
}

/* Compares every "val" line of a case; returns the number of mismatches. */
static int check_case(FILE *f, parity_case *c, bnn_diag_ws *ws, const bnn_diag_summary *s)
{
    char tok[64], key[64];
    int bad = 0, count = 0;
    while (fscanf(f, "%63s", tok) == 1 && strcmp(tok, "end")) {
        double want;
        if (!strcmp(tok, "ids")) {
            c->ids = malloc(c->m * sizeof(int));
            for (size_t j = 0; j < c->m; j++)
                if (!c->ids || fscanf(f, "%d", &c->ids[j]) != 1) return 1000;
            continue;
        }
        if (strcmp(tok, "val") || fscanf(f, "%63s", key) != 1 || !read_double(f, &want))
            return 1000;
        int known;
        double got = compute(ws, c, key, &known);
        const double *sf = summary_field(s, key);
        count++;
        if (!known || !same(got, want, c->tol) || (sf && !same(*sf, want, c->tol))) {
            printf("  %s %s: got %.17g (summary %.17g) want %.17g\n", c->name, key, got,
                   sf ? *sf : NAN, want);
            bad++;
        }
    }
    return count ? bad : 1000;
}

int main(void)
{
    if (!skip_unless_reference()) return SKIP;
    const char *src = getenv("BNNMC_SOURCE_DIR");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' '%s/scripts/diag_parity.R' " REF_FILE, rscript(),
             src ? src : BNNMC_SOURCE_DIR);
    if (system(cmd) != 0) {
        printf("not ok: %s failed\n", cmd);
        return 1;
    }
    FILE *f = fopen(REF_FILE, "r");
    if (!f) {
        printf("not ok: cannot open " REF_FILE "\n");
        return 1;
    }
    int cases = 0, failed = 0, r;
    parity_case c;
    while ((r = read_case(f, &c)) == 1) {
        bnn_diag_ws *ws;
        bnn_diag_summary s;
        if (bnn_diag_ws_alloc(c.n, c.m, &ws) != BNN_OK ||
            bnn_diag_summarise(ws, c.x, c.n, c.m, c.n, BNN_DIAG_ALL, &s) != BNN_OK) {
            printf("not ok %s: %s\n", c.name, bnn_last_error());
            return 1;
        }
        int bad = check_case(f, &c, ws, &s);
        printf("%s %s (%zu x %zu)\n", bad ? "not ok" : "ok", c.name, c.n, c.m);
        failed += bad != 0;
        cases++;
        bnn_diag_ws_free(ws);
        free(c.x);
        free(c.ids);
    }
    fclose(f);
    if (r < 0) {
        printf("not ok: malformed " REF_FILE " after %d cases\n", cases);
        return 1;
    }
    printf("%d cases, %d failed; largest relative error %.3g\n", cases, failed, worst_rel);
    return failed || cases < 40;
}
