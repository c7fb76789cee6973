#!/bin/sh
# README command (2) and CI: install the Debian packages, build and run every test twice — a
# Release build, then an AddressSanitizer + UndefinedBehaviorSanitizer build (without the tests
# labelled slow or install, see tests/CMakeLists.txt) — then fuzz each parser briefly. Where
# nvcc is installed, the CUDA variant is built too (not run); the GPU tests run against the CUDA
# sources with CUDA emulated on the CPU (tools/cuda-emu), also under the sanitizers.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
# The CUDA variant (docs/gpu.md): configured and built, not run (CI has no GPU), where nvcc is.
if [ -x /usr/local/cuda/bin/nvcc ]; then
    cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DBNNMC_CUDA=ON -DBNNMC_SHARED=OFF \
        -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc
    cmake --build build-cuda -j2 --target bnnmc bnnmc_cli test_cuda_grad test_cuda_hmc \
        test_cuda_batch test_cuda_linreg
else
    echo "CUDA build skipped: no nvcc"
fi
# The CUDA backend's sources with CUDA and cuBLAS emulated on the CPU (tools/cuda-emu): the
# four GPU test programs, then `sample` and `bench --device cuda` through the CLI (about four
# minutes together there).
bash tools/cuda-emu/build.sh build build-cuda-emu
for t in test_cuda_batch test_cuda_grad test_cuda_hmc test_cuda_linreg; do
    BNNMC_DATA_DIR="$PWD/data" "build-cuda-emu/$t"
done
BNNMC_DATA_DIR="$PWD/data" bash tests/cuda/test_cuda_sample.sh build-cuda-emu/bnnmc
# CPU and emulated device in distribution, the short run (40 s here; the GPU runs the long one)
BNNMC_DATA_DIR="$PWD/data" BNNMC_TEST_QUICK=1 bash tests/cuda/test_cuda_agree.sh \
    build-cuda-emu/bnnmc
BNNMC_DATA_DIR="$PWD/data" BNNMC_SOURCE_DIR="$PWD" bash tests/cuda/test_cuda_cli.sh \
    build-cuda-emu/bnnmc
# The GPU check's frame without a GPU (bench/gpu/run.sh on the emulated build, every stage cut:
# the programs found, JAX looked for, meta.json and the table written, then merged), so that a
# GPU session's device time is not spent on the script's own mistakes.
frame=$(mktemp -d)
OUT=$frame NO_TESTS=1 NO_MLP=1 NO_CNN=1 NO_PROFILE=1 BUILD_DIR=build-cuda-emu \
    RESULTS_MD="$frame/RESULTS.md" bash bench/gpu/run.sh >/dev/null
python3 bench/gpu/results_table.py --merge "$frame/merged.md" "$frame" "$frame" >/dev/null
grep -q "^# GPU check" "$frame/merged.md" && grep -q "run.sh, [0-9]* + [0-9]* s" "$frame/merged.md"
rm -rf "$frame"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBNNMC_SANITIZE=ON -DBNNMC_SHARED=OFF
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$PWD/../tests/lsan.supp" \
    ctest --output-on-failure -j"$jobs" -LE "slow|install")
# The emulated GPU tests again with both sanitizers, which then also watch the kernels'
# accesses to device memory (emulated as host memory), and with the blocks and threads run
# last first (a race between threads then changes the results): about three minutes.
SANITIZE=1 bash tools/cuda-emu/build.sh build-asan build-cuda-emu-asan
export CUDA_EMU_ORDER=reverse ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0 \
    LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" BNNMC_DATA_DIR="$PWD/data"
build-cuda-emu-asan/test_cuda_batch
# the large cases and the whole nets on the other paths: the plain run above
BNNMC_TEST_QUICK=1 build-cuda-emu-asan/test_cuda_grad
bash tests/cuda/test_cuda_sample.sh build-cuda-emu-asan/bnnmc
unset CUDA_EMU_ORDER ASAN_OPTIONS LSAN_OPTIONS
sh scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
