#!/bin/sh
# README command (1): install the Debian packages, build, sample 4 HMC chains of a Bayesian
# MLP 64-100-10 (tanh) on the bundled digits data, print the model average and the diagnostics.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
./build/bnnmc sample --data digits --arch mlp:100 --act tanh --chains 4 \
    --warmup 100 --samples 300 --out runs/digits --overwrite
./build/bnnmc diagnose runs/digits
