#include "cublas_v2.h"
#include <cblas.h>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <vector>

thread_local constinit uint3 threadIdx{}, blockIdx{};
thread_local constinit dim3 blockDim, gridDim;
static cudaError_t last_error = cudaSuccess;

/* Kernels with __syncthreads: each CUDA thread of a block is a fiber with its own stack on the
 * launching OS thread; the scheduler runs every fiber in turn up to its next __syncthreads (or
 * its end), then starts the next round, which is the barrier's meaning. A fiber that has
 * returned no longer counts, as on a GPU. The switch between fibers is emu_switch below: it
 * saves and restores the callee-saved registers and the stack pointer, nothing else (ucontext's
 * swapcontext also makes a system call for the signal mask at every switch, which made the
 * direct convolutions' kernels, two barriers per step, take minutes). Under AddressSanitizer
 * each switch is announced to it (__sanitizer_start_switch_fiber). */
#if !defined(__x86_64__)
#error "tools/cuda-emu: emu_switch is written for x86-64"
#endif
extern "C" void emu_switch(void **save_sp, void *sp);
asm(R"(
    .text
    .globl emu_switch
    .type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch
)");

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#else
#define EMU_ASAN 0
#endif

namespace
{
struct fiber {
    void *sp; /* saved stack pointer while switched out */
    char *stack;
    uint3 idx;
    bool done;
};
void *scheduler_sp;
#if EMU_ASAN
const void *scheduler_stack; /* its bounds, for AddressSanitizer */
size_t scheduler_stack_size;
#endif
fiber *current = nullptr;
void (*fiber_body)(void *);
void *fiber_ctx;
const size_t fiber_stack = 256 * 1024;

/* From the running fiber (ended: one that has returned, never resumed) to the scheduler. */
void to_scheduler(bool ended)
{
    fiber *f = current;
#if EMU_ASAN
    void *fake = nullptr;
    __sanitizer_start_switch_fiber(ended ? nullptr : &fake, scheduler_stack, scheduler_stack_size);
    emu_switch(&f->sp, scheduler_sp);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    (void)ended;
    emu_switch(&f->sp, scheduler_sp);
#endif
}

/* From the scheduler to fiber f. */
void to_fiber(fiber &f)
{
#if EMU_ASAN
    void *fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, f.stack, fiber_stack);
    emu_switch(&scheduler_sp, f.sp);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    emu_switch(&scheduler_sp, f.sp);
#endif
}

[[noreturn]] void fiber_main()
{
#if EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &scheduler_stack, &scheduler_stack_size);
#endif
    fiber_body(fiber_ctx);
    current->done = true;
    to_scheduler(true);
    abort(); /* an ended fiber is never resumed */
}

/* A new fiber's stack, as emu_switch leaves one: six saved registers (zero), then fiber_main as
 * the return address, above it a null return address for fiber_main (which never returns),
 * the stack 16-byte aligned at fiber_main's entry as the ABI wants. */
void *fiber_start_sp(char *stack)
{
    uintptr_t top = ((uintptr_t)stack + fiber_stack) & ~(uintptr_t)15;
    void **sp = (void **)top;
    *--sp = nullptr;                     /* fiber_main's return address: none */
    *--sp = (void *)&fiber_main;         /* emu_switch's ret goes there */
    for (int i = 0; i < 6; i++) *--sp = nullptr; /* r15, r14, r13, r12, rbx, rbp */
    return sp;
}

/* CUDA_EMU_ORDER=reverse runs the blocks of a grid and the threads of a block (each round of
 * fibers too) last first: a race, a thread reading what another writes without a barrier
 * between them, then reads the other value, and the results change. CI runs the tests both
 * ways. */
bool reverse_order()
{
    static const int rev = [] {
        const char *e = getenv("CUDA_EMU_ORDER");
        if (!e || !*e || !strcmp(e, "forward")) return 0;
        if (!strcmp(e, "reverse")) return 1;
        fprintf(stderr, "EMU: CUDA_EMU_ORDER must be forward or reverse, not '%s'\n", e);
        exit(2);
    }();
    return rev;
}

/* Position i of n in the order of the run. */
size_t nth(size_t i, size_t n) { return reverse_order() ? n - 1 - i : i; }
} // namespace

void __syncthreads()
{
    if (!current) {
        fprintf(stderr, "EMU: __syncthreads in a kernel launched without barrier support\n");
        abort();
    }
    to_scheduler(false);
}

namespace emu
{
static void run_block_fibers(dim3 b, void (*body)(void *), void *ctx)
{
    const size_t nb = (size_t)b.x * b.y * b.z;
    static std::vector<fiber> fibers;
    static std::vector<char> stacks;
    fibers.assign(nb, fiber{});
    if (stacks.size() < nb * fiber_stack)
        stacks.resize(nb * fiber_stack);
    fiber_body = body;
    fiber_ctx = ctx;
    size_t i = 0;
    for (unsigned tz = 0; tz < b.z; tz++)
        for (unsigned ty = 0; ty < b.y; ty++)
            for (unsigned tx = 0; tx < b.x; tx++, i++) {
                fiber &f = fibers[i];
                f.idx = {tx, ty, tz};
                f.stack = stacks.data() + i * fiber_stack;
                f.sp = fiber_start_sp(f.stack);
            }
    for (size_t left = nb; left > 0;) { /* one round: every live fiber to its next barrier */
        left = 0;
        for (size_t j = 0; j < nb; j++) {
            fiber &f = fibers[nth(j, nb)];
            if (f.done)
                continue;
            current = &f;
            threadIdx = f.idx;
            to_fiber(f);
            current = nullptr;
            if (!f.done)
                left++;
        }
    }
}

void run(dim3 g, dim3 b, bool sync, void (*body)(void *), void *ctx)
{
    unsigned long long nb = (unsigned long long)b.x * b.y * b.z;
    if (g.x == 0 || g.y == 0 || g.z == 0 || nb == 0 || nb > 1024 || g.x > 2147483647u ||
        g.y > 65535 || g.z > 65535 || b.z > 64) {
        fprintf(stderr, "EMU: invalid launch grid (%u,%u,%u) block (%u,%u,%u)\n", g.x, g.y, g.z,
                b.x, b.y, b.z);
        last_error = cudaErrorInvalidConfiguration;
        return;
    }
    const size_t n_blocks = (size_t)g.x * g.y * g.z;
    for (size_t i = 0; i < n_blocks; i++) {
        const size_t bi = nth(i, n_blocks);
        blockIdx = {(unsigned)(bi % g.x), (unsigned)(bi / g.x % g.y), (unsigned)(bi / g.x / g.y)};
        blockDim = b;
        gridDim = g;
        if (sync) {
            run_block_fibers(b, body, ctx);
            continue;
        }
        for (size_t j = 0; j < nb; j++) {
            const size_t ti = nth(j, nb);
            threadIdx = {(unsigned)(ti % b.x), (unsigned)(ti / b.x % b.y),
                         (unsigned)(ti / b.x / b.y)};
            body(ctx);
        }
    }
}
} // namespace emu

static void garbage(void *p, size_t n)
{
    memset(p, 0xff, n);
} /* NaNs: uninitialised reads show */
cudaError_t cudaMalloc(void **p, size_t n)
{
    *p = malloc(n ? n : 1);
    if (!*p)
        return cudaErrorMemoryAllocation;
    garbage(*p, n);
    return cudaSuccess;
}
cudaError_t cudaMallocHost(void **p, size_t n)
{
    return cudaMalloc(p, n);
}
cudaError_t cudaFree(void *p)
{
    free(p);
    return cudaSuccess;
}
cudaError_t cudaFreeHost(void *p)
{
    free(p);
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind)
{
    memcpy(d, s, n);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind, cudaStream_t)
{
    memcpy(d, s, n);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t)
{
    memset(d, v, n);
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t)
{
    return last_error;
}
cudaError_t cudaDeviceSynchronize()
{
    return last_error;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned)
{
    *s = (void *)1;
    return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t)
{
    return cudaSuccess;
}
cudaError_t cudaGetLastError()
{
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}
cudaError_t cudaGetDeviceCount(int *n)
{
    *n = 1;
    return cudaSuccess;
}
const char *cudaGetErrorString(cudaError_t e)
{
    return e ? "emulated CUDA error" : "no error";
}

cublasStatus_t cublasCreate(cublasHandle_t *h)
{
    *h = (void *)1;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t)
{
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t, cudaStream_t)
{
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t)
{
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetAtomicsMode(cublasHandle_t, cublasAtomicsMode_t)
{
    return CUBLAS_STATUS_SUCCESS;
}
const char *cublasGetStatusString(cublasStatus_t s)
{
    return s ? "CUBLAS_STATUS_INVALID_VALUE" : "success";
}

static bool bad(const char *what, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                int lda, int ldb, int ldc)
{
    int ra = ta == CUBLAS_OP_N ? m : k, rb = tb == CUBLAS_OP_N ? k : n;
    if (m < 0 || n < 0 || k < 0 || lda < (ra > 1 ? ra : 1) || ldb < (rb > 1 ? rb : 1) ||
        ldc < (m > 1 ? m : 1)) {
        fprintf(stderr, "EMU: %s invalid: m=%d n=%d k=%d lda=%d ldb=%d ldc=%d\n", what, m, n, k,
                lda, ldb, ldc);
        return true;
    }
    return false;
}
cublasStatus_t cublasSgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                           int k, const float *alpha, const float *A, int lda, const float *B,
                           int ldb, const float *beta, float *C, int ldc)
{
    if (bad("sgemm", ta, tb, m, n, k, lda, ldb, ldc))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (*beta == 0) /* cuBLAS: C is not read when beta = 0 */
        for (int j = 0; j < n; j++)
            memset(C + (size_t)j * ldc, 0, (size_t)m * sizeof(float));
    cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k, *alpha, A, lda, B, ldb,
                *beta, C, ldc);
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta,
                                         cublasOperation_t tb, int m, int n, int k,
                                         const float *alpha, const float *A, int lda, long long sa,
                                         const float *B, int ldb, long long sb, const float *beta,
                                         float *C, int ldc, long long sc, int count)
{
    for (int i = 0; i < count; i++) {
        cublasStatus_t s = cublasSgemm(h, ta, tb, m, n, k, alpha, A + i * sa, lda, B + i * sb, ldb,
                                       beta, C + i * sc, ldc);
        if (s)
            return s;
    }
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSgemv(cublasHandle_t, cublasOperation_t t, int m, int n, const float *alpha,
                           const float *A, int lda, const float *x, int incx, const float *beta,
                           float *y, int incy)
{
    if (*beta == 0) {
        int len = t == CUBLAS_OP_N ? m : n;
        for (int i = 0; i < len; i++)
            y[(size_t)i * incy] = 0;
    }
    cblas_sgemv(CblasColMajor, t == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, *alpha, A, lda,
                x, incx, *beta, y, incy);
    return CUBLAS_STATUS_SUCCESS;
}
