#!/bin/bash
# Prepares a GPU check on a machine that has a GPU but not bnnmc's build dependencies (the GPU
# image has CUDA, CMake and JAX, not jansson, OpenBLAS, oneDNN, NetCDF, cairo, ...). Run it on
# the build machine: it builds the CUDA variant in build-gpu-obj/ (no MPI, no shared library),
# then puts into build-gpu/ only what bench/gpu/run.sh runs (bnnmc and the GPU test programs)
# and, packed into build-gpu/runtime-libs.tar.xz, the shared libraries they load other than
# CUDA's and the C library's. Then carry build-gpu to the GPU machine and run bench/gpu/run.sh
# there (it unpacks the libraries and uses the built programs as they are).
# usage: bench/gpu/pack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
nvcc=/usr/local/cuda/bin/nvcc
obj=build-gpu-obj
cmake -S . -B $obj -DCMAKE_BUILD_TYPE=Release -DBNNMC_CUDA=ON -DBNNMC_MPI=OFF \
    -DBNNMC_SHARED=OFF -DCMAKE_CUDA_COMPILER=$nvcc >/dev/null
cmake --build $obj -j2 --target bnnmc_cli test_cuda_grad test_cuda_hmc test_cuda_batch \
    test_cuda_linreg test_device_math
programs=(bnnmc tests/cuda/test_cuda_grad tests/cuda/test_cuda_hmc tests/cuda/test_cuda_batch
          tests/cuda/test_cuda_linreg tests/cuda/test_device_math)
rm -rf build-gpu
mkdir -p build-gpu/tests/cuda
for p in "${programs[@]}"; do cp "$obj/$p" "build-gpu/$p"; done
# the C library and the loader come with every Linux; CUDA's libraries with the GPU's image
skip='/(libc|libm|libmvec|libdl|libpthread|librt|ld-linux[^/]*|libgcc_s|libstdc\+\+)\.so|/usr/local/cuda|libcuda\.so'
rm -rf build-gpu/runtime
mkdir -p build-gpu/runtime
(cd build-gpu && ldd "${programs[@]}") | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | grep -Ev "$skip" |
    while read -r lib; do cp -L "$lib" build-gpu/runtime/; done
tar -C build-gpu -cJf build-gpu/runtime-libs.tar.xz runtime
rm -rf build-gpu/runtime
du -sh build-gpu build-gpu/runtime-libs.tar.xz
# the device tool carries at most 64 MiB of ignored paths in all
mib=$(du -sm build-gpu | cut -f1)
if [ "$mib" -gt 62 ]; then
    echo "build-gpu is $mib MiB: over the 64 MiB the device tool carries (with room for the" \
         "rest); remove what run.sh does not need" >&2
    exit 1
fi
echo "carry build-gpu ($mib MiB) to the GPU machine and run: bash bench/gpu/run.sh"
