# Shared by the tests of `bnnmc train`'s checkpoints (sourced after common.sh): short runs of
# each method on digits, and the comparison of two train runs.
TRAIN_ARGS=(--data digits --arch mlp:20 --fs-points 40 --quiet)

# method_args METHOD: the settings of a short run of METHOD (a second or two with a checkpoint
# after every step).
method_args() {
    case $1 in
    sgld | sghmc) echo --method "$1" --chains 2 --burn-in 200 --samples 20 --thin 10 ;;
    csgmcmc) echo --method csgmcmc --chains 2 --cycles 2 --cycle-len 200 --samples 4 --thin 10 ;;
    vi) echo --method vi --chains 2 --epochs 20 --samples 20 ;;
    ensemble) echo --method ensemble --chains 3 --epochs 20 ;;
    esac
}

# same_train_run A B: every .npy array and every records.log of run A is byte-identical in run
# B, and so is run.json but for the settings a resumed run may change (out, threads,
# checkpoint_interval).
same_train_run() {
    local f
    same_arrays "$1" "$2" 10 || return 1
    for f in $(cd "$1" && find . -name records.log | sort); do
        cmp -s "$1/$f" "$2/$f" || { echo "  differs: $f"; return 1; }
    done
    cmp -s <(grep -Ev '"(out|threads|checkpoint_interval)":' "$1/run.json") \
        <(grep -Ev '"(out|threads|checkpoint_interval)":' "$2/run.json") ||
        { echo "  differs: run.json"; return 1; }
}

# progress DIR: the fraction of all steps of all chains done at their newest checkpoints (the
# step count is bytes 96-103 of checkpoint.bin, docs/run-directory.md; no checkpoint: 0).
progress() {
    local total chains done=0 c s
    total=$(grep -o '"steps_per_chain": [0-9]*' "$1/run.json" 2> /dev/null | grep -o '[0-9]*$')
    chains=$(find "$1" -maxdepth 1 -name 'chain_*' | wc -l)
    [ -n "$total" ] && [ "$chains" -gt 0 ] || { echo 0; return; }
    for c in "$1"/chain_*; do
        s=$(od -An -tu8 -j 96 -N 8 "$c/checkpoint.bin" 2> /dev/null | tr -d ' ')
        done=$((done + ${s:-0}))
    done
    echo "$done $total $chains" | awk '{ printf "%.3f", $1 / ($2 * $3) }'
}
