#!/bin/bash
# A longer run agrees in distribution on the CPU and on the device (issue 8's second test): the
# same model and settings sampled with `--device cuda` and on the CPU, independent seeds, give
# the same mean training log-likelihood over the sampling iterations within 4 standard errors of
# the chain means (bench/gpu/compare_runs.py). On a GPU: 8 chains of MLP 64-20-10 on digits, 100
# warm-up + 200 samples; with BNNMC_TEST_QUICK=1 (CUDA emulated on the CPU, scripts/test.sh,
# where the full run takes five minutes): 4 chains, 50 + 100. Without a device: exit 77.
# usage: test_cuda_agree.sh BNNMC   (BNNMC_DATA_DIR pointing at the bundled data)
set -u
bnnmc=${1:?usage: $0 BNNMC}
here=$(dirname "$0")
. "$here/../cli/cli_lib.sh"

if [ -n "${BNNMC_TEST_QUICK:-}" ]; then
    cfg=(--chains 4 --warmup 50 --samples 100 --max-leapfrog 25)
else
    cfg=(--chains 8 --warmup 100 --samples 200 --max-leapfrog 50)
fi
cfg+=(--data digits --arch mlp:20 --quiet --threads 8)
if ! "$bnnmc" sample "${cfg[@]}" --seed 12 --device cuda --out "$tmp/gpu" 2>"$tmp/err"; then
    if grep -qE "no CUDA device|built without CUDA" "$tmp/err"; then
        echo "skipped: $(head -n 1 "$tmp/err")"
        exit 77
    fi
    fail "the run on the device: $(head -c 300 "$tmp/err")"
    finish
fi
expect_success "the same run on the CPU" "$bnnmc" sample "${cfg[@]}" --seed 11 --out "$tmp/cpu"
py=python3  # one with numpy: the GPU image's, or Debian's (python3-numpy) beside another
python3 -c "import numpy" 2>/dev/null || py=/usr/bin/python3
if "$py" "$here/../../bench/gpu/compare_runs.py" "$tmp/cpu" "$tmp/gpu" >"$tmp/cmp" 2>&1; then
    echo "ok CPU and device agree in distribution: $(head -n 1 "$tmp/cmp")"
else
    fail "CPU and device differ in distribution: $(cat "$tmp/cmp")"
fi
finish
