#!/bin/bash
# `bnnmc sample --device cuda` end to end, for a bnnmc that has a CUDA device (a GPU, or CUDA
# emulated on the CPU: tools/cuda-emu, which scripts/test.sh uses): all chains in lockstep on one
# batch; a run stopped after 10 samples and resumed to 15, and the same run with --threads 2, give
# the same bytes as one uninterrupted run (stats, weights, function-space outputs in warm-up and
# sampling, model-average sums); run.json records the device. And `bench --device cuda` (what
# bench/gpu/run.sh times) of 4 batched MLP chains and of a CNN prints its JSON line. Without a
# device: exit 77.
# usage: test_cuda_sample.sh BNNMC   (BNNMC_DATA_DIR pointing at the bundled data)
set -u
bnnmc=${1:?usage: $0 BNNMC}
. "$(dirname "$0")/../cli/cli_lib.sh"

cfg=(--data digits --arch mlp:16 --chains 3 --warmup 10 --max-leapfrog 15 --quiet --device cuda)
if ! "$bnnmc" sample "${cfg[@]}" --samples 10 --out "$tmp/resumed" 2>"$tmp/err"; then
    if grep -qE "no CUDA device|built without CUDA" "$tmp/err"; then
        echo "skipped: $(head -n 1 "$tmp/err")"
        exit 77
    fi
    fail "the first part of the run: $(head -c 300 "$tmp/err")"
    finish
fi
expect_success "the run resumed to 15 samples" \
    "$bnnmc" sample --resume "$tmp/resumed" --samples 15 --quiet
expect_success "the same run at once, --threads 2" \
    "$bnnmc" sample "${cfg[@]}" --samples 15 --threads 2 --out "$tmp/once"
for c in 000 001 002; do
    for f in stats weights fs warmup_fs bma_sum; do
        a=$tmp/resumed/chain_$c/$f.npy b=$tmp/once/chain_$c/$f.npy
        if [ ! -s "$a" ] || ! cmp -s "$a" "$b"; then fail "chain_$c/$f.npy differs"; fi
    done
done
[ $failures -eq 0 ] && echo "ok resumed = uninterrupted (--threads 1 and 2), byte for byte"
grep -q '"device": "cuda"' "$tmp/once/run.json" && echo "ok run.json records the device" ||
    fail "run.json lacks config.device cuda"
grep -q '"status": "complete"' "$tmp/resumed/run.json" || fail "the resumed run is not complete"
for b in "--arch mlp:16 --in 8 --classes 3 --n 300 --chains 4" \
         "--arch cnn:c4k3,a2,d8 --image 8x8x1 --classes 3 --n 50"; do
    # shellcheck disable=SC2086 # the flags are words
    if "$bnnmc" bench --device cuda $b --reps 2 --leapfrog 3 --json >"$tmp/bench" 2>"$tmp/err" &&
        grep -q '"device": "cuda"' "$tmp/bench" && grep -q '"ms_per_leapfrog": [0-9]' "$tmp/bench"
    then
        echo "ok bench --device cuda $b"
    else
        fail "bench --device cuda $b: $(head -c 300 "$tmp/err") $(head -c 300 "$tmp/bench")"
    fi
done
finish
