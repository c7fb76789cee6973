#!/bin/bash
# The --device and --tf32 flags of `bnnmc sample` and `bnnmc bench` in any build, GPU or not:
# bad values and unsupported combinations end with an error naming the flag, and --help lists
# them; config.device in run.json is read back on --resume. (What a GPU run records in run.json
# is checked by bench/gpu/run.sh on a GPU.)
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
# a CUDA build names the CNN (its GPU path awaits its GPU check), one without CUDA the build
expect_error "sample --device cuda with a CNN" "--device cuda" -- \
    sample --device cuda --arch cnn:c4k3,m2
[ -e "$tmp/run" ] && fail "a refused --device cuda run left a run directory behind"
expect_error "bench --device tpu" --device -- "$bnnmc" bench --device tpu
expect_error "bench --chains on the CPU" --chains -- "$bnnmc" bench --chains 4 --n 10 --in 3
expect_error "bench --device cuda --precision float64" "--device cuda" -- \
    "$bnnmc" bench --device cuda --precision float64 --n 10 --in 3
# run.json's config.device is read back by --resume (a CPU run relabelled as a GPU run is
# resumed on the GPU, so here refused), and an unknown device there is named
expect_success "a short CPU run" sample --samples 2
sed 's/"config": {/"config": {"device": "cuda", "math": "float32", /' "$tmp/run/run.json" \
    >"$tmp/cuda.json" && cp "$tmp/cuda.json" "$tmp/run/run.json"
# (with a GPU the run resumes there; without one, or without CUDA, the error names the flag)
if "$bnnmc" sample --resume "$tmp/run" --samples 3 --quiet 2>"$tmp/err"; then
    grep -q '"device": "cuda"' "$tmp/run/run.json" && echo "ok --resume continued on the GPU" ||
        fail "--resume on the GPU lost config.device"
elif grep -qF -- "--device cuda" "$tmp/err"; then
    echo "ok --resume of a run.json with config.device cuda: $(head -n 1 "$tmp/err")"
else
    fail "--resume of a run.json with config.device cuda: $(head -c 300 "$tmp/err")"
fi
sed 's/"device": "cuda"/"device": "tpu"/' "$tmp/run/run.json" >"$tmp/tpu.json" &&
    cp "$tmp/tpu.json" "$tmp/run/run.json"
expect_error "--resume of a run.json with config.device tpu" config.device -- \
    "$bnnmc" sample --resume "$tmp/run" --samples 3 --quiet
for cmd in sample bench; do
    "$bnnmc" $cmd --help >"$tmp/help"
    if grep -q -- "--device" "$tmp/help" && grep -q -- "--tf32" "$tmp/help"; then
        echo "ok $cmd --help lists --device and --tf32"
    else
        fail "$cmd --help lacks --device or --tf32"
    fi
done
finish
