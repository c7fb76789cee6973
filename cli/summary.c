/* bnnmc summary: R-hat, ESS, MCSE and quantiles of draws in CSV files from any sampler. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "diag/diag.h"
#include "diag/draws_csv.h"

/* The JSON keys, in output order, and where each lives in bnn_diag_summary. */
static const struct {
    const char *key;
    size_t offset;
} summary_keys[] = {
    {"rhat", offsetof(bnn_diag_summary, rhat)},
    {"rhat_bulk", offsetof(bnn_diag_summary, rhat_bulk)},
    {"rhat_tail", offsetof(bnn_diag_summary, rhat_tail)},
    {"rhat_basic", offsetof(bnn_diag_summary, rhat_basic)},
    {"ess_bulk", offsetof(bnn_diag_summary, ess_bulk)},
    {"ess_tail", offsetof(bnn_diag_summary, ess_tail)},
    {"ess_basic", offsetof(bnn_diag_summary, ess_basic)},
    {"mcse_mean", offsetof(bnn_diag_summary, mcse_mean)},
    {"mcse_sd", offsetof(bnn_diag_summary, mcse_sd)},
    {"mcse_q05", offsetof(bnn_diag_summary, mcse_q05)},
    {"mcse_q95", offsetof(bnn_diag_summary, mcse_q95)},
    {"mean", offsetof(bnn_diag_summary, mean)},
    {"sd", offsetof(bnn_diag_summary, sd)},
    {"q05", offsetof(bnn_diag_summary, q05)},
    {"q50", offsetof(bnn_diag_summary, q50)},
    {"q95", offsetof(bnn_diag_summary, q95)},
};
#define N_KEYS (sizeof summary_keys / sizeof summary_keys[0])

static double field(const bnn_diag_summary *s, size_t k)
{
    return *(const double *)((const char *)s + summary_keys[k].offset);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bnnmc summary FILE.csv [FILE.csv ...] [--json] [--superchains IDS]\n\n"
            "R-hat, ESS, MCSE and quantiles exactly as R's posterior 1.4.0 computes them.\n\n"
            "input:\n"
            "  one plain CSV: one column per chain, one row per iteration, header optional;\n"
            "  or CmdStan output CSVs, one file per chain ('#' comments, saved warm-up dropped):\n"
            "  every variable is reported (sampler columns ending in __ except lp__ left out).\n\n"
            "options:\n"
            "  --json            print JSON: one object of diagnostics (plain CSV), or\n"
            "                    {\"variables\": [{\"variable\": NAME, ...}, ...]} (CmdStan);\n"
            "                    NaN and infinities are null\n"
            "  --superchains IDS comma-separated superchain label of every chain, adds\n"
            "                    rhat_nested (chains with equal labels share a start)\n"
            "  --help            this text\n\n"
            "examples:\n"
            "  bnnmc summary draws.csv\n"
            "  bnnmc summary draws.csv --json --superchains 1,1,2,2\n"
            "  bnnmc summary output_1.csv output_2.csv output_3.csv output_4.csv\n");
}

/* "1,1,2,2" into ids; returns the count, or 0 on a malformed list. */
static size_t parse_ids(const char *text, int **ids)
{
    size_t n = 1;
    for (const char *p = text; *p; p++) n += *p == ',';
    *ids = malloc(n * sizeof **ids);
    if (!*ids) return 0;
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end != ',' && *end != 0) || v < -2147483647 || v > 2147483647) return 0;
        (*ids)[i] = (int)v;
        p = end + 1;
    }
    return n;
}

static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *summary_json(const bnn_diag_summary *s, const double *nested)
{
    json_t *o = json_object();
    for (size_t k = 0; k < N_KEYS; k++)
        json_object_set_new(o, summary_keys[k].key, number_or_null(field(s, k)));
    if (nested) json_object_set_new(o, "rhat_nested", number_or_null(*nested));
    return o;
}

static void print_value(double v) { isnan(v) ? printf(" %11s", "NA") : printf(" %11.5g", v); }

static void print_table(const bnn_draws *d, const bnn_diag_summary *s, const double *nested)
{
    printf("%zu chains x %zu iterations\n\n%-20s", d->n_chain, d->n_iter, "variable");
    for (size_t k = 0; k < N_KEYS; k++) printf(" %11s", summary_keys[k].key);
    if (nested) printf(" %11s", "rhat_nested");
    printf("\n");
    for (size_t v = 0; v < d->n_var; v++) {
        printf("%-20s", d->names[v]);
        for (size_t k = 0; k < N_KEYS; k++) print_value(field(&s[v], k));
        if (nested) print_value(nested[v]);
        printf("\n");
    }
}

static int print_json(const bnn_draws *d, const bnn_diag_summary *s, const double *nested)
{
    json_t *root;
    if (!d->cmdstan) {
        root = summary_json(&s[0], nested);
    } else {
        json_t *vars = json_array();
        for (size_t v = 0; v < d->n_var; v++) {
            json_t *o = summary_json(&s[v], nested ? &nested[v] : NULL);
            json_object_set_new(o, "variable", json_string(d->names[v]));
            json_array_append_new(vars, o);
        }
        root = json_pack("{s:o}", "variables", vars);
    }
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    printf("\n");
    json_decref(root);
    return rc ? 1 : 0;
}

/* Diagnostics of every variable (and nested R-hat when ids is given). */
static int summarise_all(const bnn_draws *d, const int *ids, bnn_diag_summary *s, double *nested)
{
    bnn_diag_ws *ws;
    if (bnn_diag_ws_alloc(d->n_iter, d->n_chain, &ws) != BNN_OK) return 1;
    for (size_t v = 0; v < d->n_var; v++) {
        const double *x = d->draws + v * d->n_chain * d->n_iter;
        if (bnn_diag_summarise(ws, x, d->n_iter, d->n_chain, d->n_iter, BNN_DIAG_ALL, &s[v])) {
            bnn_diag_ws_free(ws);
            return 1;
        }
        if (ids) nested[v] = bnn_diag_rhat_nested(ws, x, d->n_iter, d->n_chain, d->n_iter, ids);
    }
    bnn_diag_ws_free(ws);
    return 0;
}

int cmd_summary(int argc, char **argv)
{
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0, n_ids = 0;
    int json = 0, *ids = NULL, rc = 1;
    if (!files) return 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(files);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--superchains") && i + 1 < argc) {
            free(ids);
            if (!(n_ids = parse_ids(argv[++i], &ids))) {
                fprintf(stderr, "bnnmc summary: --superchains: '%s' is not a comma-separated "
                                "list of integers\n", argv[i]);
                goto usage_error;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "bnnmc summary: unknown or incomplete option '%s'\n", argv[i]);
            goto usage_error;
        } else {
            files[n_files++] = argv[i];
        }
    }
    if (n_files == 0) {
        fprintf(stderr, "bnnmc summary: no input file\n");
        goto usage_error;
    }
    bnn_draws d;
    if (bnn_draws_read_csv(files, n_files, &d) != BNN_OK) {
        fprintf(stderr, "bnnmc summary: %s\n", bnn_last_error());
        goto done;
    }
    if (ids && n_ids != d.n_chain) {
        fprintf(stderr, "bnnmc summary: --superchains has %zu labels for %zu chains\n", n_ids,
                d.n_chain);
        bnn_draws_free(&d);
        rc = 2;
        goto done;
    }
    bnn_diag_summary *s = calloc(d.n_var, sizeof *s);
    double *nested = ids ? calloc(d.n_var, sizeof *nested) : NULL;
    if (!s || (ids && !nested) || summarise_all(&d, ids, s, nested))
        fprintf(stderr, "bnnmc summary: %s\n", *bnn_last_error() ? bnn_last_error() : "out of memory");
    else
        rc = json ? print_json(&d, s, nested) : (print_table(&d, s, nested), 0);
    free(s);
    free(nested);
    bnn_draws_free(&d);
    goto done;
usage_error:
    usage(stderr);
    rc = 2;
done:
    free(files);
    free(ids);
    return rc;
}
