/* Helper of test_cnn_torch.py: prints a network's tensor table, or evaluates the log-likelihood,
 * its gradient and the class probabilities of given weights and rows (raw float64 files).
 *   cnn_parity_helper tensors ARCH ACT H W C K
 *   cnn_parity_helper eval ARCH ACT H W C K float32|float64 ROWS DIR [ref]
 * eval reads DIR/theta.f64 (P), DIR/x.f64 (ROWS, H·W·C), DIR/y.f64 (ROWS) and writes
 * DIR/out.f64 = [loglik, gradient (P), probabilities (ROWS, K)]; "ref" uses the reference
 * convolutions instead of oneDNN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cnn.h"
#include "nn/net.h"

static double *read_f64(const char *dir, const char *name, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    double *v = malloc(n * sizeof(double));
    if (!f || !v || fread(v, sizeof(double), n, f) != n) {
        fprintf(stderr, "cnn_parity_helper: cannot read %zu numbers from %s\n", n, path);
        exit(2);
    }
    fclose(f);
    return v;
}

/* v (n doubles) converted in place to the precision's numbers. */
static void *as_prec(double *v, size_t n, bnn_precision prec)
{
    if (prec == BNN_F64) return v;
    float *f = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) f[i] = (float)v[i];
    return f;
}

static int eval(const bnn_net *net, char **argv, size_t K)
{
    bnn_precision prec = !strcmp(argv[8], "float32") ? BNN_F32 : BNN_F64;
    size_t rows = strtoul(argv[9], NULL, 10), P = net->n_params;
    const char *dir = argv[10];
    double *theta = read_f64(dir, "theta.f64", P);
    double *x = read_f64(dir, "x.f64", rows * net->n_inputs);
    double *y = read_f64(dir, "y.f64", rows);
    void *th = as_prec(theta, P, prec), *xx = as_prec(x, rows * net->n_inputs, prec);
    void *grad = malloc(P * (size_t)prec);
    void *work = malloc(net->ops->workspace_len(net->impl, rows) * (size_t)prec);
    double *out = malloc((1 + P + rows * K) * sizeof(double));
    out[0] = net->ops->block_loglik(net->impl, prec, th, xx, y, rows, grad, work);
    for (size_t i = 0; i < P; i++)
        out[1 + i] = prec == BNN_F32 ? ((float *)grad)[i] : ((double *)grad)[i];
    net->ops->block_predict(net->impl, prec, th, xx, rows, out + 1 + P, work);
    char path[1024];
    snprintf(path, sizeof path, "%s/out.f64", dir);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(out, sizeof(double), 1 + P + rows * K, f) == 1 + P + rows * K ? 0 : 2;
    if (f) fclose(f);
    if (th != theta) free(th);
    if (xx != x) free(xx);
    free(theta);
    free(x);
    free(y);
    free(grad);
    free(work);
    free(out);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: see the comment at the top of cnn_parity_helper.c\n");
        return 2;
    }
    bnn_activation act;
    if (bnn_activation_parse(argv[3], &act) != BNN_OK) return 2;
    bnn_input_shape in = {strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10),
                          strtoul(argv[6], NULL, 10)};
    size_t K = strtoul(argv[7], NULL, 10);
    bnn_net net;
    if (bnn_net_create(&net, argv[2], in, K, act, BNN_LIK_CATEGORICAL, 1) != BNN_OK) {
        fprintf(stderr, "cnn_parity_helper: %s\n", bnn_last_error());
        return 2;
    }
    if (!strcmp(argv[1], "tensors")) {
        for (size_t k = 0; k < net.n_tensors; k++) {
            const bnn_tensor *t = &net.tensors[k];
            printf("%s %zu", t->name, t->offset);
            for (size_t d = 0; d < t->ndim; d++) printf(" %zu", t->shape[d]);
            printf("\n");
        }
        bnn_net_free(&net);
        return 0;
    }
    if (argc < 11) {
        bnn_net_free(&net);
        return 2;
    }
    if (argc > 11 && !strcmp(argv[11], "ref")) bnn_cnn_use_dnnl(&net, 0);
    int rc = eval(&net, argv, K);
    bnn_net_free(&net);
    return rc;
}
