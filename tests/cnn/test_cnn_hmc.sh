#!/bin/bash
# Short HMC runs of lenet5 and resnet20-frn (on 32x32-padded images) on a small Fashion-MNIST
# subset, end to end through sample, predict and diagnose; --threads 1 and 2 give byte-identical
# arrays (oneDNN runs single-threaded inside each block). Skips (77) without the data set.
# usage: test_cnn_hmc.sh BNNMC
set -u
bnnmc=${1:?usage: $0 BNNMC}
fmnist=/usr/share/datasets/fashion-mnist
if [ ! -d "$fmnist" ]; then
    echo "skip: $fmnist absent (apt-get install dataset-fashion-mnist)"
    exit 77
fi
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then echo "skip: no numpy"; exit 77; fi
. "$(dirname "$0")/../cli/cli_lib.sh"

# The first 64 training and 40 test images as .npy files (uint8 images, int64 labels).
/usr/bin/python3 - "$fmnist" "$tmp" <<'PY' || { echo "not ok: could not write the subset"; exit 1; }
import gzip, sys
import numpy as np
src, dst = sys.argv[1:]
def idx(name, n, offset):
    with gzip.open(f"{src}/{name}.gz") as f:
        return np.frombuffer(f.read(), np.uint8)[offset:]
for part, prefix, n in (("train", "train", 64), ("test", "t10k", 40)):
    x = idx(f"{prefix}-images-idx3-ubyte", n, 16)[:n * 784].reshape(n, 28, 28)
    y = idx(f"{prefix}-labels-idx1-ubyte", n, 8)[:n].astype(np.int64)
    np.save(f"{dst}/{part}_x.npy", x)
    np.save(f"{dst}/{part}_y.npy", y)
PY
data=(--train "$tmp/train_x.npy,$tmp/train_y.npy" --test "$tmp/test_x.npy,$tmp/test_y.npy"
      --classes 10 --chains 2 --warmup 2 --samples 3 --max-leapfrog 3 --fs-points 20 --quiet
      --block-rows 16)

# same_arrays A B: every .npy array of the two run directories is byte-identical.
same_arrays() {
    local list_a list_b f
    list_a=$(cd "$1" && find . -name '*.npy' | sort)
    list_b=$(cd "$2" && find . -name '*.npy' | sort)
    [ -n "$list_a" ] && [ "$list_a" = "$list_b" ] || return 1
    for f in $list_a; do cmp -s "$1/$f" "$2/$f" || return 1; done
}

# check NAME ARGS...: sample with 1 and 2 threads, then predict and diagnose the run.
check() {
    local name=$1
    shift
    expect_success "sample $name --threads 1" "$bnnmc" sample "${data[@]}" --threads 1 \
        --out "$tmp/$name.t1" "$@" || return
    expect_success "sample $name --threads 2" "$bnnmc" sample "${data[@]}" --threads 2 \
        --out "$tmp/$name.t2" "$@" || return
    if same_arrays "$tmp/$name.t1" "$tmp/$name.t2"; then
        echo "ok $name: --threads 1 and 2 give byte-identical arrays"
    else
        fail "$name: --threads 1 and 2 give different arrays"
    fi
    expect_success "predict $name" "$bnnmc" predict "$tmp/$name.t2"
    grep -q "BMA test accuracy" "$tmp/out" || fail "predict $name: no accuracy line"
    expect_success "diagnose $name" "$bnnmc" diagnose "$tmp/$name.t2"
}

check lenet5 --arch lenet5
check lenet5-f64 --arch lenet5 --precision float64 --act relu
check resnet20-frn --arch resnet20-frn --pad-to 32 --train-subset 16 --samples 2 --block-rows 8
if grep -q '"activation": *"swish"' "$tmp/resnet20-frn.t2/run.json"; then
    echo "ok resnet20-frn defaults to swish"
else
    fail "resnet20-frn: run.json does not say swish"
fi

# Control: another seed changes the arrays, so the comparison can see a difference.
expect_success "sample lenet5 --seed 2" "$bnnmc" sample "${data[@]}" --arch lenet5 --seed 2 \
    --out "$tmp/control"
if same_arrays "$tmp/lenet5.t2" "$tmp/control"; then
    fail "control: --seed 1 and --seed 2 gave identical arrays"
else
    echo "ok control: another seed gives different arrays"
fi
finish
