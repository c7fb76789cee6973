/* CPU emulation of the CUDA runtime subset bnnmc's backend uses (tools/cuda-emu/README.md). */
#pragma once
#include <cstddef>
#include <cstdint>
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
typedef int cudaError_t;
enum {
    cudaSuccess = 0,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidValue = 1
};
typedef void *cudaStream_t;
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
#define cudaStreamNonBlocking 1
struct alignas(16) float4 {
    float x, y, z, w;
};
struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_)
    {
    }
};
/* constinit: known to need no dynamic initialisation, so that other files read them directly,
 * not through a thread_local wrapper function (whose result UBSan saw as null after a fiber
 * switch) */
extern thread_local constinit uint3 threadIdx, blockIdx;
extern thread_local constinit dim3 blockDim, gridDim;
void __syncthreads();
cudaError_t cudaMalloc(void **p, size_t n);
cudaError_t cudaMallocHost(void **p, size_t n);
cudaError_t cudaFree(void *p);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind k);
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind k,
                            cudaStream_t st = 0);
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t st = 0);
cudaError_t cudaStreamSynchronize(cudaStream_t);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *, unsigned);
cudaError_t cudaStreamDestroy(cudaStream_t);
cudaError_t cudaGetLastError();
cudaError_t cudaGetDeviceCount(int *);
const char *cudaGetErrorString(cudaError_t);

namespace emu
{
void run(dim3 g, dim3 b, bool sync, void (*body)(void *), void *ctx);
template <class F> struct Launch {
    F *f;
    dim3 g, b;
    bool sync;
    template <class... A> void operator()(A... a)
    {
        auto lam = [&]() { f(a...); };
        run(
            g, b, sync, [](void *c) { (*(decltype(lam) *)c)(); }, &lam);
    }
};
template <class F> struct Launcher {
    F *f;
    bool sync;
    Launch<F> operator()(dim3 g, dim3 b, size_t = 0, cudaStream_t = 0)
    {
        return {f, g, b, sync};
    }
};
template <class F> Launcher<F> launcher(F *f, bool sync)
{
    return {f, sync};
}
} // namespace emu
