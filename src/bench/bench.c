/* Timing of the log-posterior gradient, a leapfrog step and the BLAS products of an MLP on
 * synthetic data (see bench.h for the FLOP counting rule). */
#include "bench/bench.h"
#include "bench/bench_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/cpu.h"
#include "core/rng.h"
#include "nn/cnn.h"
#include "model/posterior.h"
#include "sample/hmc.h"
#include "sample/run.h"

void openblas_set_num_threads(int n); /* OpenBLAS extension, not in cblas.h */

void bnn_bench_defaults(bnn_bench_options *o)
{
    *o = (bnn_bench_options){.arch = "mlp:100", .act = BNN_ACT_TANH,
                             .in = {.height = 0, .width = 0, .channels = 784}, .n_classes = 10,
                             .lik = BNN_LIK_CATEGORICAL, .n_rows = 60000, .n_threads = 2,
                             .prec = BNN_F32, .reps = 10, .block_rows = 0, .n_leapfrog = 10,
                             .blas_reference = 1, .seed = 1, .device = BNN_DEVICE_CPU,
                             .tf32 = 0, .chains = 1};
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts them). */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bnn_bench_mlp_flops(const bnn_mlp *m, size_t rows)
{
    double flops = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        double products = l == 0 ? 2 : 3;
        flops += products * 2.0 * (double)rows * (double)m->width[l] * (double)m->width[l + 1];
    }
    return flops;
}

double bnn_bench_cnn_flops(const bnn_cnn *c, size_t rows)
{
    double flops = 0;
    for (size_t k = 0; k < c->n_nodes; k++) {
        const bnn_cnn_node *nd = &c->node[k];
        double macs; /* multiply-adds of the forward product, per row */
        if (nd->op == BNN_CNN_CONV)
            macs = (double)(nd->conv.oh * nd->conv.ow * nd->conv.o) *
                   (double)(nd->conv.k * nd->conv.k * nd->conv.c);
        else if (nd->op == BNN_CNN_DENSE)
            macs = (double)nd->n_in * (double)nd->n_out;
        else
            continue;
        double products = nd->in == 0 ? 2 : 3; /* the input images need no gradient */
        flops += products * 2.0 * (double)rows * macs;
    }
    return flops;
}

/* Synthetic data: standard normal inputs (n, d); labels uniform over the classes, or standard
 * normal targets (Gaussian), or fair coin flips (Bernoulli). */
static bnn_status synthetic_data(const bnn_bench_options *o, size_t d, double **x, double **y)
{
    *x = malloc((o->n_rows * d > 0 ? o->n_rows * d : 1) * sizeof(double));
    *y = malloc((o->n_rows ? o->n_rows : 1) * sizeof(double));
    if (!*x || !*y) return BNN_ERROR(BNN_ENOMEM, "out of memory for %zu synthetic rows", o->n_rows);
    bnn_rng rng;
    bnn_rng_init(&rng, o->seed, 0);
    bnn_rng_normals(&rng, *x, o->n_rows * d);
    for (size_t r = 0; r < o->n_rows; r++) {
        double u = bnn_rng_uniform(&rng);
        if (o->lik == BNN_LIK_CATEGORICAL) (*y)[r] = floor(u * (double)o->n_classes);
        else if (o->lik == BNN_LIK_BERNOULLI) (*y)[r] = u < 0.5 ? 0 : 1;
        else (*y)[r] = sqrt(-2 * log(u)) * cos(6.283185307179586 * bnn_rng_uniform(&rng));
    }
    return BNN_OK;
}

/* Warm-up before timing: gradients for at least this long (and at least one). Until it has
 * passed, OpenBLAS's idle pool threads (started with the library, on every core) still spin,
 * and on two cores they take the second worker's core: 2-thread timings of small models were
 * twice too slow for the first ~0.1 s. */
#define WARMUP_MS 300.0

/* Median time of reps gradients of the target at theta, after the warm-up. */
static bnn_status time_gradients(bnn_target t, const double *theta, double *grad, size_t reps,
                                 bnn_bench_result *r)
{
    double *ms = malloc(reps * sizeof *ms);
    if (!ms) return BNN_ERROR(BNN_ENOMEM, "out of memory");
    bnn_logp lp;
    bnn_status s = BNN_OK;
    const double start = now_ms();
    do s = t.logp_grad(t.ctx, theta, grad, &lp);
    while (s == BNN_OK && now_ms() - start < WARMUP_MS);
    for (size_t i = 0; i < reps && s == BNN_OK; i++) {
        double t0 = now_ms();
        s = t.logp_grad(t.ctx, theta, grad, &lp);
        ms[i] = now_ms() - t0;
    }
    if (s == BNN_OK) {
        r->ms_per_grad = median(ms, reps);
        r->ms_per_grad_min = ms[0];
    }
    free(ms);
    return s;
}

/* Median over HMC iterations of time / leapfrog steps; about reps steps in all, at least two
 * iterations. ε is small so that every step is accepted and none diverges. */
static bnn_status time_leapfrog(bnn_target t, const double *theta, const bnn_bench_options *o,
                                bnn_bench_result *r)
{
    const double eps = 1e-5;
    const size_t L = o->n_leapfrog;
    bnn_hmc_options ho = {.step_size = eps, .traj_len = ((double)L - 0.5) * eps,
                          .max_leapfrog = L, .jitter = 0, .max_energy_error = 1000};
    bnn_hmc *hmc;
    BNN_TRY(bnn_hmc_alloc(t, &ho, &hmc));
    size_t iters = (o->reps + L - 1) / L;
    if (iters < 2) iters = 2;
    double *ms = malloc(iters * sizeof *ms);
    bnn_rng rng;
    bnn_rng_init(&rng, o->seed, 1);
    bnn_status s = ms ? bnn_hmc_set(hmc, theta, rng) : BNN_ERROR(BNN_ENOMEM, "out of memory");
    for (size_t i = 0; i < iters && s == BNN_OK; i++) {
        bnn_hmc_stats st;
        double t0 = now_ms();
        s = bnn_hmc_iterate(hmc, 1, &st);
        ms[i] = (now_ms() - t0) / (double)(st.n_leapfrog ? st.n_leapfrog : 1);
    }
    if (s == BNN_OK) r->ms_per_leapfrog = median(ms, iters);
    free(ms);
    bnn_hmc_free(hmc);
    return s;
}

static void gemm(bnn_precision prec, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, size_t m,
                 size_t n, size_t k, const void *a, const void *b, void *c)
{
    int lda = (int)(ta == CblasNoTrans ? k : m), ldb = (int)(tb == CblasNoTrans ? n : k);
    if (prec == BNN_F32)
        cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1, a, lda, b, ldb, 0, c,
                    (int)n);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1, a, lda, b, ldb, 0, c,
                    (int)n);
}

/* Buffers of numbers in prec filled with small values (content does not matter for timing). */
static void *filled(bnn_precision prec, size_t n)
{
    void *p = malloc((n ? n : 1) * (size_t)prec);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) {
        double v = (double)(i % 17) * 0.01 - 0.08;
        if (prec == BNN_F32) ((float *)p)[i] = (float)v;
        else ((double *)p)[i] = v;
    }
    return p;
}

/* One pass of the products an MLP gradient performs, on all N rows at once. */
static void mlp_products(const bnn_mlp *m, bnn_precision prec, size_t rows, void *x, void *w,
                         void *act, void *out)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t i = m->width[l], o = m->width[l + 1];
        gemm(prec, CblasNoTrans, CblasNoTrans, rows, o, i, l ? act : x, w, out);
        gemm(prec, CblasTrans, CblasNoTrans, i, o, rows, l ? act : x, out, w);
        if (l) gemm(prec, CblasNoTrans, CblasTrans, rows, i, o, out, w, act);
    }
}

/* Median time of the MLP's products over all rows, BLAS at n_threads (restored to one). */
static bnn_status time_blas_reference(const bnn_mlp *m, const bnn_bench_options *o,
                                      bnn_bench_result *r)
{
    size_t max_w = 0, max_w_inner = 0, max_wt = 0;
    for (size_t l = 0; l <= m->n_layers; l++)
        if (m->width[l] > max_w) max_w = m->width[l];
    for (size_t l = 1; l < m->n_layers; l++)
        if (m->width[l] > max_w_inner) max_w_inner = m->width[l];
    for (size_t l = 0; l < m->n_layers; l++)
        if (m->width[l] * m->width[l + 1] > max_wt) max_wt = m->width[l] * m->width[l + 1];
    void *x = filled(o->prec, o->n_rows * m->width[0]), *w = filled(o->prec, max_wt);
    void *act = filled(o->prec, o->n_rows * (max_w_inner ? max_w_inner : 1));
    void *out = filled(o->prec, o->n_rows * max_w);
    double *ms = malloc(o->reps * sizeof *ms);
    bnn_status s = BNN_OK;
    if (!x || !w || !act || !out || !ms) s = BNN_ERROR(BNN_ENOMEM, "out of memory");
    if (s == BNN_OK) {
        openblas_set_num_threads((int)o->n_threads);
        mlp_products(m, o->prec, o->n_rows, x, w, act, out);
        for (size_t i = 0; i < o->reps; i++) {
            double t0 = now_ms();
            mlp_products(m, o->prec, o->n_rows, x, w, act, out);
            ms[i] = now_ms() - t0;
        }
        bnn_cpu_blas_single_thread();
        r->ms_blas = median(ms, o->reps);
    }
    free(x);
    free(w);
    free(act);
    free(out);
    free(ms);
    return s;
}

bnn_status bnn_bench_gemm(bnn_precision prec, size_t m, size_t n, size_t k, size_t n_threads,
                          size_t reps, double *ms_out)
{
    if (!m || !n || !k || !reps) return BNN_ERROR(BNN_EINVAL, "GEMM sizes must be positive");
    void *a = filled(prec, m * k), *b = filled(prec, k * n), *c = filled(prec, m * n);
    double *ms = malloc(reps * sizeof *ms);
    bnn_status s = BNN_OK;
    if (!a || !b || !c || !ms) s = BNN_ERROR(BNN_ENOMEM, "out of memory for the GEMM operands");
    if (s == BNN_OK) {
        openblas_set_num_threads((int)n_threads);
        gemm(prec, CblasNoTrans, CblasNoTrans, m, n, k, a, b, c);
        for (size_t i = 0; i < reps; i++) {
            double t0 = now_ms();
            gemm(prec, CblasNoTrans, CblasNoTrans, m, n, k, a, b, c);
            ms[i] = now_ms() - t0;
        }
        bnn_cpu_blas_single_thread();
        *ms_out = median(ms, reps);
    }
    free(a);
    free(b);
    free(c);
    free(ms);
    return s;
}

/* Starts the peak-RSS count afresh (Linux: "5" to /proc/self/clear_refs), so that the
 * temporary double copy of the synthetic data is not in it; harmless where unsupported. */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

/* Peak resident memory since the last reset (VmHWM), in MiB; 0 where unknown. */
static double peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    double kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
    fclose(f);
    return kb / 1024;
}

/* The timed part once data, net and backend exist: gradient, leapfrog, memory, BLAS. */
static bnn_status bench_target(const bnn_bench_options *o, const bnn_net *net,
                               bnn_backend backend, bnn_bench_result *r)
{
    bnn_prior_options prior = {.n_var = 1, .var = {1}, .divide_by_fan_in = 1, .temperature = 1};
    bnn_posterior post;
    BNN_TRY(bnn_posterior_init(&post, net, &prior, backend));
    const size_t P = net->n_params;
    double *theta = malloc(P * sizeof *theta), *grad = malloc(P * sizeof *grad);
    bnn_status s = theta && grad ? BNN_OK : BNN_ERROR(BNN_ENOMEM, "out of memory");
    if (s == BNN_OK) {
        bnn_rng rng;
        bnn_rng_init(&rng, o->seed, 2);
        bnn_posterior_draw_prior(&post, &rng, 1, theta);
        bnn_target t = bnn_posterior_target(&post);
        s = time_gradients(t, theta, grad, o->reps, r);
        free(grad); /* the sampler has its own: the peak memory is one chain's */
        grad = NULL;
        if (s == BNN_OK && o->n_leapfrog) s = time_leapfrog(t, theta, o, r);
    }
    r->max_rss_mb = peak_rss_mb();
    if (s == BNN_OK) {
        r->flops_per_grad = net->mlp ? bnn_bench_mlp_flops(net->mlp, o->n_rows)
                            : !strcmp(net->kind, "cnn") ? bnn_bench_cnn_flops(net->impl, o->n_rows)
                                                        : 0;
        r->gflops = r->flops_per_grad / (r->ms_per_grad * 1e6);
        if (net->mlp && o->blas_reference) s = time_blas_reference(net->mlp, o, r);
    }
    free(theta);
    free(grad);
    bnn_posterior_free(&post);
    return s;
}

bnn_status bnn_bench_run(const bnn_bench_options *o, bnn_bench_result *r)
{
    memset(r, 0, sizeof *r);
    if (!o->n_rows || !o->reps || !o->n_threads)
        return BNN_ERROR(BNN_EINVAL, "rows, repetitions and threads must be positive");
    if (o->device == BNN_DEVICE_CUDA) return bnn_bench_run_cuda(o, r);
    if (o->tf32 || o->chains > 1)
        return BNN_ERROR(BNN_EINVAL, "--tf32 and --chains need --device cuda");
    bnn_net net;
    BNN_TRY(bnn_net_create(&net, o->arch, o->in, o->n_classes, o->act, o->lik, 1.0));
    r->n_params = net.n_params;
    r->block_rows = o->block_rows ? o->block_rows : bnn_run_default_block_rows(net.n_params, o->n_rows);
    double *x = NULL, *y = NULL;
    bnn_cpu_data *data = NULL;
    bnn_backend backend = {0};
    bnn_status s = synthetic_data(o, net.n_inputs, &x, &y);
    if (s == BNN_OK)
        s = bnn_cpu_data_alloc(o->prec, net.n_inputs, x, y, o->n_rows, NULL, 0, r->block_rows,
                               &data);
    free(x); /* the backend keeps its own converted copy */
    free(y);
    x = y = NULL;
    r->data_mb = (double)(o->n_rows * net.n_inputs * (size_t)o->prec) / (1024.0 * 1024.0);
    bnn_cpu_blas_single_thread();
    reset_peak_rss();
    if (s == BNN_OK) s = bnn_cpu_backend_alloc(&net, data, o->n_threads, &backend);
    if (s == BNN_OK) s = bench_target(o, &net, backend, r);
    bnn_backend_free(&backend);
    bnn_cpu_data_free(data);
    bnn_net_free(&net);
    return s;
}

/* The helpers above, for bench_cuda.c (bench_internal.h). */
double bnn_bench_now_ms(void) { return now_ms(); }

double bnn_bench_median(double *v, size_t n) { return median(v, n); }

bnn_status bnn_bench_synthetic_data(const bnn_bench_options *o, size_t d, double **x, double **y)
{
    return synthetic_data(o, d, x, y);
}
