#!/bin/bash
# bnnmc bench runs on small synthetic workloads and prints one JSON object with positive
# timings and the fields the bench/ harness reads; bad flags are refused. Timings are not judged.
# usage: test_bench_cli.sh BNNMC JSON_VALUE
set -u
bnnmc=${1:?usage: $0 BNNMC JSON_VALUE}
json_value=${2:?usage: $0 BNNMC JSON_VALUE}
. "$(dirname "$0")/../cli/cli_lib.sh"

# positive NAME KEY...: each KEY of $tmp/out is a number > 0.
positive() {
    local name=$1 key v bad=()
    shift
    for key in "$@"; do
        v=$("$json_value" "$key" <"$tmp/out" 2>/dev/null)
        awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }' || bad+=("$key=${v:-missing}")
    done
    if [ ${#bad[@]} -eq 0 ]; then echo "ok $name: $*"; else fail "$name: ${bad[*]}"; fi
}

# equals NAME KEY WANT: the value at KEY of $tmp/out is WANT.
equals() {
    local v
    v=$("$json_value" "$2" <"$tmp/out" 2>/dev/null)
    if [ "$v" = "$3" ]; then echo "ok $1: $2 = $3"; else fail "$1: $2 = '${v}', want '$3'"; fi
}

small=(--arch mlp:16 --in 20 --classes 3 --n 700 --block-rows 128 --reps 3 --leapfrog 2)
if expect_success "bench --json" "$bnnmc" bench "${small[@]}" --threads 2 --json; then
    positive "json timings" ms_per_grad ms_per_leapfrog gflops flops_per_grad ms_blas max_rss_mb
    equals "json threads" threads 2
    equals "json precision" precision float32
    # 700 rows · (2 products of 20·16 + 3 of 16·3) · 2 FLOPs
    equals "json flop count" flops_per_grad 1097600
fi
if expect_success "bench regression float64" "$bnnmc" bench --arch mlp:8 --in 13 --classes 1 \
    --likelihood gaussian --n 50 --reps 2 --threads 1 --precision float64 --json; then
    positive "regression timings" ms_per_grad ms_per_leapfrog
    equals "regression precision" precision float64
fi
if expect_success "bench cnn" "$bnnmc" bench --arch cnn:c4k3,m2,d5 --image 6x6x1 --classes 3 \
    --n 10 --reps 2 --threads 1 --leapfrog 1 --json; then
    positive "cnn timings" ms_per_grad ms_per_leapfrog gflops
    # 10 rows · 2 FLOPs · (2 products of the 3x3 'same' convolution, 36 positions · 4 · 9 · 1,
    # + 3 of the dense 36·5 after 2x2 pooling + 3 of the last dense 5·3)
    equals "cnn flop count" flops_per_grad 63540
fi
if expect_success "bench --sgemm" "$bnnmc" bench --sgemm 64,32,16 --reps 2 --threads 1 --json; then
    positive "sgemm rate" ms gflops
fi
expect_success "bench text output" "$bnnmc" bench "${small[@]}" --threads 1 &&
    { grep -q "^gradient:" "$tmp/out" && echo "ok text has a gradient line" ||
        fail "text output lacks 'gradient:': $(head -c 200 "$tmp/out")"; }
expect_success "bench --help" "$bnnmc" bench --help

expect_error "unknown arch" "--arch" -- "$bnnmc" bench --arch nonet --n 10 --reps 1
expect_error "bad image" "--image" -- "$bnnmc" bench --image 28x28 --n 10
expect_error "zero reps" "--reps" -- "$bnnmc" bench --reps 0
expect_error "bad precision" "--precision" -- "$bnnmc" bench --precision half
expect_error "bad sgemm" "--sgemm" -- "$bnnmc" bench --sgemm 10,0,3
finish
