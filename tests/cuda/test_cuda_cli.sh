#!/bin/bash
# The --device and --tf32 flags of `bnnmc sample` and `bnnmc bench` in any build, GPU or not:
# bad values and unsupported combinations end with an error naming the flag, and --help lists
# them. (What a GPU run records in run.json is checked by bench/gpu/run.sh on a GPU.)
# usage: test_cuda_cli.sh BNNMC
set -u
bnnmc=${1:?usage: $0 BNNMC}
. "$(dirname "$0")/../cli/cli_lib.sh"

base=(--data digits --train-subset 100 --fs-points 10 --arch mlp:5 --warmup 2 --samples 2
      --chains 1 --quiet --out "$tmp/run" --overwrite)
sample() { "$bnnmc" sample "${base[@]}" "$@"; }

expect_error "sample --device gpu" --device -- sample --device gpu
expect_error "sample --tf32 on the CPU" --tf32 -- sample --tf32
expect_error "sample --device cuda --precision float64" "--device cuda" -- \
    sample --device cuda --precision float64
[ -e "$tmp/run" ] && fail "a refused --device cuda run left a run directory behind"
expect_error "bench --device tpu" --device -- "$bnnmc" bench --device tpu
expect_error "bench --chains on the CPU" --chains -- "$bnnmc" bench --chains 4 --n 10 --in 3
expect_error "bench --device cuda --precision float64" "--device cuda" -- \
    "$bnnmc" bench --device cuda --precision float64 --n 10 --in 3
for cmd in sample bench; do
    "$bnnmc" $cmd --help >"$tmp/help"
    if grep -q -- "--device" "$tmp/help" && grep -q -- "--tf32" "$tmp/help"; then
        echo "ok $cmd --help lists --device and --tf32"
    else
        fail "$cmd --help lacks --device or --tf32"
    fi
done
finish
