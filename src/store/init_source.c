/* Reading the final weights of a run's chains, checked against the architecture of the run
 * that starts from them. */
#include "store/init_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/npy.h"
#include "store/run_store.h"

/* A message naming the first tensor where the two parameter lists differ. */
static bnn_status mismatch(const char *path, json_t *have, json_t *want)
{
    const size_t n_have = json_array_size(have), n_want = json_array_size(want);
    for (size_t i = 0; i < n_have || i < n_want; i++) {
        json_t *a = json_array_get(have, i), *b = json_array_get(want, i);
        const char *na = json_string_value(json_object_get(a, "name"));
        const char *nb = json_string_value(json_object_get(b, "name"));
        if (!a || !b || !json_equal(json_object_get(a, "shape"), json_object_get(b, "shape")) ||
            !na || !nb || strcmp(na, nb) != 0 ||
            !json_equal(json_object_get(a, "offset"), json_object_get(b, "offset"))) {
            char sa[128] = "nothing", sb[128] = "nothing";
            if (a) {
                char *s = json_dumps(json_object_get(a, "shape"), JSON_COMPACT);
                snprintf(sa, sizeof sa, "%s %s", na ? na : "?", s ? s : "?");
                free(s);
            }
            if (b) {
                char *s = json_dumps(json_object_get(b, "shape"), JSON_COMPACT);
                snprintf(sb, sizeof sb, "%s %s", nb ? nb : "?", s ? s : "?");
                free(s);
            }
            return BNN_ERROR(BNN_EINVAL, "--init-from: %s holds another architecture: its "
                                         "parameter tensor %zu is %s, this run's is %s", path,
                             i, sa, sb);
        }
    }
    return BNN_ERROR(BNN_EINVAL, "--init-from: %s holds another architecture", path);
}

bnn_status bnn_init_source_open(const char *dir, const json_t *model, bnn_init_source *src)
{
    memset(src, 0, sizeof *src);
    if (snprintf(src->dir, sizeof src->dir, "%s", dir) >= (int)sizeof src->dir)
        return BNN_ERROR(BNN_EINVAL, "--init-from: directory name too long: %s", dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", dir);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        return BNN_ERROR(access(path, F_OK) ? BNN_EIO : BNN_EFORMAT, "--init-from: %s: %s",
                         path, access(path, F_OK) ? "no run there" : err.text);
    json_t *m = json_object_get(root, "model"), *cfg = json_object_get(root, "config");
    const char *status = json_string_value(json_object_get(root, "status"));
    const char *method = json_string_value(json_object_get(root, "method"));
    json_int_t chains = json_integer_value(json_object_get(cfg, "chains"));
    json_int_t n_params = json_integer_value(json_object_get(m, "n_params"));
    bnn_status s = BNN_OK;
    if (!json_is_object(m) || chains <= 0 || n_params < 0)
        s = BNN_ERROR(BNN_EFORMAT, "--init-from: %s: not a bnnmc run (model or config.chains "
                                   "missing)", path);
    else if (!status || strcmp(status, "complete") != 0)
        s = BNN_ERROR(BNN_EINVAL, "--init-from: %s: the run's status is '%s', not 'complete'",
                      path, status ? status : "missing");
    else if (!json_equal(json_object_get(m, "n_params"), json_object_get(model, "n_params")) ||
             !json_equal(json_object_get(m, "params"), json_object_get(model, "params")))
        s = mismatch(path, json_object_get(m, "params"), json_object_get(model, "params"));
    if (s == BNN_OK) {
        src->n_chains = (size_t)chains;
        src->n_params = (size_t)n_params;
        snprintf(src->method, sizeof src->method, "%s", method ? method : "hmc");
    }
    json_decref(root);
    return s;
}

bnn_status bnn_init_source_theta(const bnn_init_source *src, size_t k, double *theta)
{
    const size_t c = k % src->n_chains;
    char path[1200];
    bnn_store_chain_path(path, sizeof path, src->dir, c, "final.npy");
    int final = access(path, F_OK) == 0;
    if (!final) bnn_store_chain_path(path, sizeof path, src->dir, c, "weights.npy");
    FILE *f = fopen(path, "rb");
    if (!f) return BNN_ERROR(BNN_EIO, "--init-from: cannot open %s", path);
    bnn_npy_header h;
    bnn_status s = bnn_npy_read_header(f, path, &h);
    const size_t rows = s == BNN_OK && h.ndim == 2 ? h.shape[0] : 1;
    const size_t cols = s == BNN_OK && h.ndim > 0 ? h.shape[h.ndim - 1] : 0;
    if (s == BNN_OK && (h.ndim != (final ? 1u : 2u) || cols != src->n_params || rows == 0))
        s = BNN_ERROR(BNN_EFORMAT, "--init-from: %s: expected %s of %zu parameters", path,
                      final ? "a vector" : "at least one row", src->n_params);
    if (s == BNN_OK) s = bnn_npy_read_doubles(f, path, &h, (rows - 1) * cols, cols, theta);
    fclose(f);
    return s;
}
