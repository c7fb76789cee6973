#!/bin/bash
# Builds the GPU tests (tests/cuda/test_cuda_{grad,hmc,batch,linreg}.c) and the bnnmc CLI against
# bnnmc's CUDA backend with CUDA, cuBLAS and cuDNN emulated on the CPU (README.md here): the .cu
# files with their launches rewritten (transform.py), the runtime and cuBLAS of emu.cpp (cuBLAS
# products by OpenBLAS), the cuDNN convolutions of emu_cudnn.cpp, and the rest of bnnmc from a
# CPU build's static library.
# usage: tools/cuda-emu/build.sh CPU_BUILD_DIR OUT_DIR   (e.g. build /tmp/emu; then run
#        OUT_DIR/test_cuda_grad etc. with BNNMC_DATA_DIR set)
#        SANITIZE=1 tools/cuda-emu/build.sh build-asan OUT_DIR: with AddressSanitizer and
#        UndefinedBehaviorSanitizer (CPU_BUILD_DIR configured with -DBNNMC_SANITIZE=ON), which
#        then also watch the kernels' accesses to (emulated) device memory; run the programs
#        with ASAN_OPTIONS=detect_stack_use_after_return=0 (fibers switch stacks)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: build.sh CPU_BUILD_DIR OUT_DIR}" && pwd)
out=${2:?usage: build.sh CPU_BUILD_DIR OUT_DIR}
mkdir -p "$out"
[ -f "$build/libbnnmc.a" ] ||
    { echo "no $build/libbnnmc.a: build bnnmc for the CPU first" >&2; exit 1; }
blas=/usr/include/x86_64-linux-gnu/openblas-pthread
inc=(-I"$here/include" -I"$src/include" -I"$src/src" -I"$src/src/backend/cuda" -isystem "$blas")
san=()
[ -n "${SANITIZE:-}" ] &&
    san=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
# -march=native: built and run on the same machine (the kernels' fmaf inline, not libm calls)
cxx=(g++ -std=c++20 -O2 -march=native -g "${san[@]}" -ffp-contract=off -Wall -Wno-unused-function
     -Wno-unused-parameter -Wno-unknown-pragmas)
cc=(gcc -std=c11 -O2 -g "${san[@]}" -D_POSIX_C_SOURCE=200809L)
objs=()
for f in backend fused_top hmc cnn cnn_reduce conv conv_cudnn; do
    python3 "$here/transform.py" "$src/src/backend/cuda/$f.cu" "$out/${f}_emu.cpp"
    "${cxx[@]}" "${inc[@]}" -c "$out/${f}_emu.cpp" -o "$out/${f}_emu.o"
    objs+=("$out/${f}_emu.o")
done
for f in emu emu_cudnn; do
    "${cxx[@]}" "${inc[@]}" -c "$here/$f.cpp" -o "$out/$f.o"
    objs+=("$out/$f.o")
done
libdir=/usr/lib/x86_64-linux-gnu
for t in test_cuda_grad test_cuda_hmc test_cuda_batch test_cuda_linreg; do
    "${cc[@]}" "${inc[@]}" -DBNN_CUDA_EMU -c "$src/tests/cuda/$t.c" -o "$out/$t.o"
    # the emulated backend first: its definitions replace the CPU library's cuda_none.c;
    # -rdynamic: conv_cudnn.cu finds the emulated cuDNN functions with dlsym
    g++ "${san[@]}" -rdynamic "$out/$t.o" "${objs[@]}" -o "$out/$t" \
        -Wl,--allow-multiple-definition \
        -Wl,-rpath,$libdir/openblas-pthread "$build/libbnnmc.a" -L$libdir/openblas-pthread \
        -ljansson -lopenblas -lfftw3 -lRmath -lnetcdf -lcairo -lz -ldnnl -lgomp -lmvec -lm \
        -lcmocka -lpthread -ldl
done
# the CLI too (without MPI), so that `bnnmc sample --device cuda` runs end to end under emulation
clis=()
for f in "$src"/cli/*.c; do
    o="$out/cli_$(basename "$f" .c).o"
    "${cc[@]}" "${inc[@]}" -c "$f" -o "$o"
    clis+=("$o")
done
g++ "${san[@]}" -rdynamic "${clis[@]}" "${objs[@]}" -o "$out/bnnmc" \
    -Wl,--allow-multiple-definition \
    -Wl,-rpath,$libdir/openblas-pthread "$build/libbnnmc.a" -L$libdir/openblas-pthread \
    -ljansson -lopenblas -lfftw3 -lRmath -lnetcdf -lcairo -lz -ldnnl -lgomp -lmvec -lm -lpthread \
    -ldl
echo "built: $out/test_cuda_grad $out/test_cuda_hmc $out/test_cuda_batch $out/test_cuda_linreg" \
    "$out/bnnmc"
