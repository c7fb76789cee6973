#!/bin/bash
# Same seed, --threads 1 vs --threads 2: every .npy array of the two run directories is
# byte-identical (float32 and float64; 1 chain split over 2 threads, 2 chains, 3 chains).
# usage: test_threads_identical.sh BNNMC [JSON_VALUE]
set -u
bnnmc=${1:?usage: $0 BNNMC}
. "$(dirname "$0")/cli_lib.sh"

# Digits, full training set in 15 blocks of 100 rows (the last has 37): a short run.
common=(--data digits --arch mlp:20 --warmup 20 --samples 20 --fs-points 50 --block-rows 100
        --max-leapfrog 40 --quiet)

# run NAME ARGS...: a run into $tmp/NAME; prints "not ok" and returns 1 when it fails.
run() {
    local name=$1 rc
    shift
    "$bnnmc" sample "${common[@]}" --out "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || { fail "run $name ($*): exit status $rc: $(head -c 300 "$tmp/$name.log")"; return 1; }
}

# same_arrays A B: 0 when both run directories hold the same .npy files, byte for byte.
same_arrays() {
    local a=$tmp/$1 b=$tmp/$2 list_a list_b f differ=()
    list_a=$(cd "$a" && find . -name '*.npy' | sort)
    list_b=$(cd "$b" && find . -name '*.npy' | sort)
    if [ -z "$list_a" ] || [ "$list_a" != "$list_b" ]; then
        echo "  different sets of arrays: $(echo $list_a) vs $(echo $list_b)"
        return 1
    fi
    for f in $list_a; do cmp -s "$a/$f" "$b/$f" || differ+=("$f"); done
    n_arrays=$(echo "$list_a" | wc -l)
    [ ${#differ[@]} -eq 0 ] || { echo "  differ: ${differ[*]}"; return 1; }
}

# check NAME ARGS...: --threads 1 and --threads 2 with ARGS give identical arrays.
check() {
    local name=$1
    shift
    run "$name.t1" --threads 1 "$@" && run "$name.t2" --threads 2 "$@" || return
    if same_arrays "$name.t1" "$name.t2"; then
        echo "ok threads 1 vs 2, $name ($*): $n_arrays arrays byte-identical"
    else
        fail "threads 1 vs 2, $name ($*): arrays differ"
    fi
}

check f32-chains2 --chains 2 --seed 3
check f32-chains1 --chains 1 --seed 3
check f32-chains3 --chains 3 --seed 4 --jitter 0.1
check f64-chains2 --chains 2 --seed 3 --precision float64
check f64-chains1 --chains 1 --seed 5 --precision float64

# Control: the comparison can see a difference (another seed changes the arrays).
if run control --threads 2 --chains 2 --seed 4; then
    if same_arrays f32-chains2.t2 control >/dev/null; then
        fail "control: --seed 3 and --seed 4 gave identical arrays"
    else
        echo "ok control: --seed 3 and --seed 4 give different arrays"
    fi
fi
finish
