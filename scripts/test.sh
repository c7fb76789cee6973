#!/bin/sh
# README command (2) and CI: install the Debian packages, build and run every test twice — a
# Release build, then an AddressSanitizer + UndefinedBehaviorSanitizer build (without the tests
# labelled slow or install, see tests/CMakeLists.txt) — then fuzz each parser briefly.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBNNMC_SANITIZE=ON -DBNNMC_SHARED=OFF
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$PWD/../tests/lsan.supp" \
    ctest --output-on-failure -j"$jobs" -LE "slow|install")
sh scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
