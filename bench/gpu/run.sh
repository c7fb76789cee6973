#!/bin/bash
# The GPU check of issue 8 on an H100/H200 with no network (about 4 minutes for the tests and the
# MLP pairs at REPS=10, more with the CNN pairs and the profiles; see docs/gpu.md):
#  1. the CUDA build: the programs in build-gpu/ (made by bench/gpu/pack.sh on the build machine
#     and carried here, with the shared libraries they need), or a fresh build where CMake finds
#     every dependency;
#  2. the GPU tests (tests/cuda); a short `sample --device cuda` run, resumed, whose run.json must
#     record the device and whose draws must equal an uninterrupted run's; device HMC against
#     an analytic posterior (test_cuda_linreg) and a longer CPU run and GPU run that must agree
#     in distribution (tests/cuda/test_cuda_agree.sh);
#  3. bnnmc against JAX (bench/gpu/jax_bench.py, jax_cnn_bench.py) on the same GPU, alternately,
#     float32 ("highest") and TF32 ("default"): 8 and 32 chains of 784-100-10 and 128 chains of
#     64-100-10 on N = 1 437; MLP 784-100-10 and 784-1000-1000-10 on N = 60 000; LeNet-5
#     (N = 60 000) and ResNet-20-FRN (N = 50 000);
#  4. Nsight Compute profiles (ncu) of the workloads short of their targets; then the CNNs'
#     other convolution paths (cuDNN's, im2col + cuBLAS), so that a short BUDGET drops them first;
#  5. bench/gpu/RESULTS.md (GPU, date, versions, tests, table, profiles); with $OUT set (the device
#     tool), RESULTS.md and the logs are also copied there.
# usage: bash bench/gpu/run.sh   (logs go to $OUT, else /tmp/bnnmc-gpu-check)
# cuts, for a session's limited device time: QUICK=1 (5 repetitions) or REPS=N; NO_MLP=1 (no MLP
# pairs), NO_CNN=1 (no CNN pairs), PROFILE_ONE=1 (one profile), NO_PROFILE=1 (none), NO_TESTS=1
# (no step 2); BUDGET=S: after S seconds (from the start) no measurement or profile starts and
# none runs past it, so the results table is written with what was measured (set it below the
# device call's limit). $OUT/meta.json lets results_table.py --merge make one table of the $OUTs
# of several calls. BUILD_DIR (default build-gpu) and RESULTS_MD (default bench/gpu/RESULTS.md)
# move the programs and the table (CI runs the script's frame without a GPU that way).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=${OUT:-/tmp/bnnmc-gpu-check}
mkdir -p "$out"
log=$out/gpu-check.log
jsonl=$out/bench.jsonl
: >"$log"
: >"$jsonl"
start=$(date +%s)
say() { echo "[$(( $(date +%s) - start ))s] $*" | tee -a "$log"; }
limit() { # SECONDS: prints the seconds a step may take under BUDGET (fails: under 15 left)
    local left=$(( ${BUDGET:-999999} - ($(date +%s) - start) ))
    [ "$left" -ge 15 ] || return 1
    echo $(( $1 < left ? $1 : left ))
}
reps=${QUICK:+5}
reps=${REPS:-${reps:-20}}
export BNNMC_DATA_DIR=$root/data BNNMC_SOURCE_DIR=$root

# ---- 1. the build ----
build=${BUILD_DIR:-build-gpu}
results=${RESULTS_MD:-$root/bench/gpu/RESULTS.md}
if [ -f $build/runtime-libs.tar.xz ]; then
    tar -C $build -xJf $build/runtime-libs.tar.xz
    export LD_LIBRARY_PATH=$root/$build/runtime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# cuBLAS and the CUDA runtime: from the toolkit, or from the pip wheels beside PyTorch and JAX
wheels=$(python3 -c "import nvidia.cublas as a, nvidia.cuda_runtime as b
print(list(a.__path__)[0] + '/lib', list(b.__path__)[0] + '/lib')" 2>/dev/null)
# cuDNN (BNNMC_CUDA_CONV=cudnn loads libcudnn.so.9 when asked for): the toolkit's, or the wheel's
wheels="$wheels $(python3 -c "import nvidia.cudnn as c; print(list(c.__path__)[0] + '/lib')" \
    2>/dev/null)"
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib \
         $wheels; do
    [ -d "$d" ] && export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d
done
if [ ! -x $build/bnnmc ]; then
    say "== building the CUDA variant in $build"
    if ! { cmake -S . -B $build -DCMAKE_BUILD_TYPE=Release -DBNNMC_CUDA=ON -DBNNMC_MPI=OFF \
             -DBNNMC_SHARED=OFF && cmake --build $build -j"$(nproc)" --target bnnmc_cli \
             test_cuda_grad test_cuda_hmc test_cuda_batch test_cuda_linreg test_device_math; } \
             >>"$log" 2>&1; then
        say "FAILED: the CUDA build (see $log); prepare build-gpu with bench/gpu/pack.sh and carry it"
        exit 1
    fi
fi
bnnmc=$root/$build/bnnmc
if ldd $bnnmc | grep -q "not found"; then
    say "FAILED: libraries missing for $bnnmc:"
    ldd $bnnmc | grep "not found" | tee -a "$log"
    exit 1
fi
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null |
      head -n 1)
say "== GPU: ${gpu:-unknown}"
nvcc=$(/usr/local/cuda/bin/nvcc --version 2>/dev/null | tail -n 1)
profiles=()
write_meta() { # $out/meta.json for results_table.py --merge, rewritten after every test and
    # profile and at the end, so that a call cut by the device's limit still leaves it
    python3 -c 'import json, sys
keys = ("gpu", "date", "nvcc", "tests_md", "seconds", "profiles")
json.dump(dict(zip(keys, sys.argv[2:])), open(sys.argv[1], "w"))' "$out/meta.json" "$gpu" \
        "$(date -u +%Y-%m-%dT%H:%MZ)" "$nvcc" "$tests_md" "$(( $(date +%s) - start ))" \
        "${profiles[*]}"
}
tests_md=""
write_meta

# ---- 2. tests ----
run_test() { # NAME COMMAND...: one line of the results table
    local name=$1 rc
    shift
    say "== test $name"
    if declare -F "$1" >/dev/null; then "$@" >>"$log" 2>&1; else timeout 300 "$@" >>"$log" 2>&1; fi
    rc=$?
    local verdict=passed
    [ $rc -eq 77 ] && verdict="SKIPPED (no device)"
    [ $rc -ne 0 ] && [ $rc -ne 77 ] && verdict="FAILED (exit $rc)"
    say "   $verdict"
    tests_md+="| $name | $verdict |"$'\n'
    write_meta
}
tests() { # the GPU tests, a resumed run, CPU and GPU in distribution
    run_test test_device_math $build/tests/cuda/test_device_math
    run_test test_cuda_grad $build/tests/cuda/test_cuda_grad
    run_test test_cuda_hmc $build/tests/cuda/test_cuda_hmc
    run_test test_cuda_batch $build/tests/cuda/test_cuda_batch
    run_test test_cuda_cli bash tests/cuda/test_cuda_cli.sh $bnnmc
    run_test test_cuda_sample bash tests/cuda/test_cuda_sample.sh $bnnmc
    tmp=$(mktemp -d)
    run_sample() { # a run extended by --resume equals the same run made at once, byte for byte
        local cfg=(--data digits --arch mlp:50 --chains 2 --warmup 20 --quiet --device cuda --tf32)
        $bnnmc sample "${cfg[@]}" --samples 20 --out "$tmp/run" &&
        $bnnmc sample --resume "$tmp/run" --samples 30 --quiet &&
        $bnnmc sample "${cfg[@]}" --samples 30 --out "$tmp/once" &&
        grep -q '"device": "cuda"' "$tmp/run/run.json" &&
        grep -q '"math": "tf32"' "$tmp/run/run.json" &&
        grep -q '"status": "complete"' "$tmp/run/run.json" &&
        for f in stats weights fs; do
            cmp "$tmp/run/chain_001/$f.npy" "$tmp/once/chain_001/$f.npy" || return 1
        done
    }
    run_test "sample --device cuda --tf32: run.json records both; resumed = uninterrupted" \
        run_sample
    run_test test_cuda_linreg $build/tests/cuda/test_cuda_linreg
    run_test test_cuda_agree bash tests/cuda/test_cuda_agree.sh $bnnmc
    $bnnmc diagnose "$tmp/run" >>"$log" 2>&1
    rm -rf "$tmp"
}
if [ -n "${NO_TESTS:-}" ]; then say "== NO_TESTS set: no tests"; else tests; fi

# ---- 3. benchmarks, bnnmc and JAX alternately ----
jax_ok=1
if ! timeout 120 python3 -c "import jax; print('jax', jax.__version__, jax.devices())" >>"$log" 2>&1; then
    jax_ok=0
    say "JAX is not usable here: bnnmc timings only"
fi
measure() { # TAG TOOL MATH SECONDS COMMAND...: one measurement into bench.jsonl (status 1: failed)
    local tag=$1 tool=$2 math=$3 want=$4 seconds line
    shift 4
    if ! seconds=$(limit "$want"); then
        say "== $tag: $tool skipped (BUDGET=$BUDGET s spent)"
        return 1
    fi
    say "== $tag: $tool ${*:2}"
    if line=$(timeout "$seconds" "$@" 2>>"$log"); then
        echo "{\"tag\": \"$tag\", \"tool\": \"$tool\", \"math\": \"$math\", \"result\": $line}" >>"$jsonl"
        say "   $line"
        return 0
    fi
    say "   $tool FAILED"
    return 1
}
jax_precision() { [ "$1" = tf32 ] && echo default || echo highest; }
bench_pair() { # TAG WIDTHS N CHAINS MATH: one bnnmc and one JAX measurement of an MLP
    local tag=$1 widths=$2 n=$3 chains=$4 math=$5
    local hidden=${widths#*,}
    hidden=${hidden%,*}
    local in=${widths%%,*} classes=${widths##*,}
    local flags=(--device cuda --arch "mlp:$hidden" --in "$in" --classes "$classes" --n "$n"
                 --chains "$chains" --reps "$reps" --leapfrog 20 --json)
    [ "$math" = tf32 ] && flags+=(--tf32)
    measure "$tag" bnnmc "$math" 240 $bnnmc bench "${flags[@]}"
    # the same without the fused top layers (fused_top.cu's fused_top_kernel), to compare
    measure "$tag" bnnmc-unfused "$math" 240 env BNNMC_CUDA_FUSE=0 $bnnmc bench "${flags[@]}"
    [ $jax_ok -eq 1 ] || return 0
    measure "$tag" jax "$math" 240 python3 bench/gpu/jax_bench.py --widths "$widths" --n "$n" \
        --chains "$chains" --precision "$(jax_precision "$math")" --reps "$reps" --leapfrog 20
}
[ -n "${NO_MLP:-}" ] && say "== NO_MLP set: no MLP pairs"
for math in float32 tf32; do
    [ -n "${NO_MLP:-}" ] && break
    bench_pair "8 chains of 784-100-10" 784,100,10 60000 8 $math
    bench_pair "32 chains of 784-100-10" 784,100,10 60000 32 $math
done
[ -z "${NO_MLP:-}" ] &&
    bench_pair "128 chains of 64-100-10 (digits size), N=1437" 64,100,10 1437 128 float32
for math in float32 tf32; do
    [ -n "${NO_MLP:-}" ] && break
    bench_pair "MLP 784-100-10, N=60000" 784,100,10 60000 1 $math
    bench_pair "MLP 784-1000-1000-10, N=60000" 784,1000,1000,10 60000 1 $math
done

cnn_flags() { # ARCH ACT IMAGE N MATH REPS LEAPFROG: bnnmc bench's flags, into $flags
    flags=(--device cuda --arch "$1" --act "$2" --image "$3" --classes 10 --n "$4" --reps "$6"
           --leapfrog "$7" --json)
    [ "$5" = tf32 ] && flags+=(--tf32)
}
bench_cnn() { # TAG ARCH ACT IMAGE N MATH REPS LEAPFROG: one bnnmc and one JAX measurement
    local tag=$1 arch=$2 act=$3 image=$4 n=$5 math=$6 r=$7 lf=$8 flags
    cnn_flags "${@:2}"
    measure "$tag" bnnmc "$math" 300 $bnnmc bench "${flags[@]}"
    [ $jax_ok -eq 1 ] || return 0
    local jflags=(--arch "$arch" --act "$act" --image "$image" --classes 10 --n "$n"
                  --precision "$(jax_precision "$math")" --reps "$r" --leapfrog "$lf")
    measure "$tag" jax "$math" 300 python3 bench/gpu/jax_cnn_bench.py "${jflags[@]}" ||
        measure "$tag" jax "$math" 300 python3 bench/gpu/jax_cnn_bench.py "${jflags[@]}" \
            --micro 10000
}
export XLA_PYTHON_CLIENT_MEM_FRACTION=0.95 # ResNet-20-FRN full batch: XLA gets 75 % otherwise
lenet_reps=10
[ -n "${QUICK:-}" ] && lenet_reps=3
# the CNN workloads, the targets' (ResNet-20-FRN) first: TAG ARCH ACT IMAGE N MATH REPS LEAPFROG
cnns=("ResNet-20-FRN, N=50000 (32x32x3)|resnet20-frn swish 32x32x3 50000 float32 3 2"
      "ResNet-20-FRN, N=50000 (32x32x3)|resnet20-frn swish 32x32x3 50000 tf32 3 2"
      "LeNet-5, N=60000 (28x28x1)|lenet5 tanh 28x28x1 60000 float32 $lenet_reps 5"
      "LeNet-5, N=60000 (28x28x1)|lenet5 tanh 28x28x1 60000 tf32 $lenet_reps 5")
if [ -z "${NO_CNN:-}" ]; then
    for w in "${cnns[@]}"; do
        read -r -a words <<<"${w#*|}"
        bench_cnn "${w%%|*}" "${words[@]}"
    done
fi

# ---- 3b. kernel profiles (Nsight Compute): each kernel's time and its fraction of the SM and
# DRAM peaks in two gradients (the untimed and one timed) of the workloads the table leaves
# short of its targets ----
ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null | head -n 1)
profile() { # NAME BENCH-FLAGS...: $out/profile-NAME.csv
    local name=$1
    shift
    local seconds
    if ! seconds=$(limit 120); then
        say "== profile $name skipped (BUDGET=$BUDGET s spent)"
        return
    fi
    say "== profile $name: ncu bnnmc bench $*"
    if timeout "$seconds" "$ncu_bin" --csv --metrics gpu__time_duration.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed \
            $bnnmc bench --device cuda --reps 1 --leapfrog 0 --json "$@" \
            >"$out/profile-$name.csv" 2>>"$log"; then
        profiles+=("$name")
        write_meta
    else
        say "   ncu FAILED (see the log)"
    fi
}
if [ -n "$ncu_bin" ] && [ -z "${NO_PROFILE:-}" ]; then
    profile mlp1000-float32 --arch mlp:1000,1000 --in 784 --n 60000
    if [ -z "${PROFILE_ONE:-}" ]; then
        # 357 images, one whole micro-batch: each kernel of a ResNet-20-FRN gradient at its
        # full size, 1/140 of the launches of N = 50 000 (ncu replays each launch)
        profile resnet20-micro-float32 --arch resnet20-frn --act swish --image 32x32x3 \
            --classes 10 --n 357
        profile mlp1000-tf32 --arch mlp:1000,1000 --in 784 --n 60000 --tf32
        profile mlp100-32chains-float32 --arch mlp:100 --in 784 --n 60000 --chains 32
        profile digits-128chains-float32 --arch mlp:100 --in 64 --n 1437 --chains 128
    fi
else
    say "== no ncu (or NO_PROFILE set): no profile"
fi

# ---- 3c. the CNNs with cuDNN's convolutions and with im2col + cuBLAS instead of conv.cu's
# direct ones, to compare (the results table's cuDNN and alternative columns) ----
if [ -z "${NO_CNN:-}" ]; then
    for path in cudnn im2col; do
        for w in "${cnns[@]}"; do
            read -r -a words <<<"${w#*|}"
            cnn_flags "${words[@]}"
            measure "${w%%|*}" "bnnmc-$path" "${words[4]}" 300 \
                env BNNMC_CUDA_CONV=$path $bnnmc bench "${flags[@]}"
        done
    done
fi

# ---- 4. the results table ----
write_meta
date=$(date -u +%Y-%m-%dT%H:%MZ)
python3 bench/gpu/results_table.py "$jsonl" "$results" "$gpu" "$date" "$nvcc" \
    "$tests_md" "$(( $(date +%s) - start ))" "$out" "${profiles[*]}"
[ "$results" -ef "$out/RESULTS.md" ] || cp "$results" "$out/RESULTS.md"
say "== done in $(( $(date +%s) - start )) s; results in $results"
