#!/bin/bash
# `bnnmc train` end to end on the bundled digits: a deep ensemble and SGLD of a small MLP beat
# 85 % test accuracy in seconds; their run directories pass predict, verify, diagnose (SGLD;
# refused with a reason for the ensemble), export and summary; `sample --init-from` starts HMC
# at the ensemble's members (and resumes); every method gives the same bytes for --threads 1
# and 2; settings that do not apply to a method are refused.
# usage: test_train_cli.sh BNNMC JSON_VALUE
set -u
bnnmc=${1:?usage: $0 BNNMC JSON_VALUE}
json_value=${2:?usage: $0 BNNMC JSON_VALUE}
here=$(dirname "$0")
. "$here/../cli/cli_lib.sh"
. "$here/../cli/run_checks.sh"

small=(--data digits --arch mlp:32 --fs-points 50 --quiet)

# accuracy_above RUN MIN WHAT: predict --json of RUN gives a test accuracy above MIN.
accuracy_above() {
    local acc
    expect_success "predict --json $3" "$bnnmc" predict "$1" --json || return
    acc=$(value "$tmp/out" accuracy)
    is_number_between "$acc" "$2" 1.0000001 && echo "ok $3: BMA test accuracy $acc > $2" ||
        fail "$3: BMA test accuracy '$acc', want > $2"
}

# timed NAME COMMAND...: expect_success, printing the seconds it took.
timed() {
    local name=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    expect_success "$name" "$@" || return
    t1=$(date +%s.%N)
    echo "# $name took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
}

check_ensemble() {
    local run=$tmp/ens
    timed "train --method ensemble (3 members, 40 epochs)" "$bnnmc" train --method ensemble \
        "${small[@]}" --chains 3 --epochs 40 --out "$run" || return
    [ "$(value "$run/run.json" status)" = complete ] && [ "$(value "$run/run.json" method)" = ensemble ] &&
        echo "ok ensemble run.json: status complete, method ensemble" ||
        fail "ensemble run.json: status '$(value "$run/run.json" status)', method '$(value "$run/run.json" method)'"
    check_manifest "$run"
    accuracy_above "$run" 0.85 "ensemble"
    [ "$(value "$tmp/out" draws)" = 3 ] && echo "ok ensemble: 3 draws (one per member)" ||
        fail "ensemble: $(value "$tmp/out" draws) draws, want 3"
    expect_success "verify the ensemble run" "$bnnmc" verify "$run"
    expect_error "diagnose refuses an ensemble, saying why" "do not apply" "method ensemble" -- \
        "$bnnmc" diagnose "$run"
    expect_success "export the ensemble as NetCDF" "$bnnmc" export "$run" --format netcdf \
        --out "$tmp/ens.nc"
}

check_sgld() {
    local run=$tmp/sgld
    timed "train --method sgld (2 chains, 25 + 20 epochs)" "$bnnmc" train --method sgld \
        "${small[@]}" --chains 2 --burn-in 300 --samples 20 --thin 12 --out "$run" || return
    check_manifest "$run"
    accuracy_above "$run" 0.85 "sgld"
    [ "$(value "$tmp/out" draws)" = 40 ] && echo "ok sgld: 40 draws" ||
        fail "sgld: $(value "$tmp/out" draws) draws, want 40"
    expect_success "diagnose the sgld run" "$bnnmc" diagnose "$run" &&
        { grep -q "^function space: 500 quantities, 2 chains x 20 draws" "$tmp/out" &&
              echo "ok diagnose reports the sgld draws in function space" ||
              fail "diagnose of sgld: no 'function space: 500 quantities, 2 chains x 20 draws'"; }
    expect_success "export the sgld run as CmdStan CSV" "$bnnmc" export "$run" --format stan-csv \
        --out "$tmp/sgld-csv" || return
    grep -q "^# bnnmc_method = sgld" "$tmp/sgld-csv/output_1.csv" &&
        echo "ok the CmdStan CSV names the method" || fail "CmdStan CSV lacks '# bnnmc_method = sgld'"
    expect_success "summary of the exported draws" "$bnnmc" summary "$tmp/sgld-csv"/output_*.csv &&
        { grep -q "^lp__ " "$tmp/out" && echo "ok summary reports lp__ of the sgld chains" ||
              fail "summary: no lp__ row"; }
}

check_init_from() {
    local ens=$tmp/ens run=$tmp/hmc-ens
    [ -f "$ens/run.json" ] || { fail "init-from: no ensemble run to start from"; return; }
    # No warm-up and 3 short trajectories: only a start at the trained members predicts well.
    local short=(--chains 3 --warmup 0 --samples 3 --step-size 0.002 --max-leapfrog 3)
    expect_success "sample --init-from the ensemble" "$bnnmc" sample "${small[@]}" "${short[@]}" \
        --init-from "$ens" --out "$run" || return
    accuracy_above "$run" 0.85 "HMC started at the ensemble"
    expect_success "control: the same without --init-from" "$bnnmc" sample "${small[@]}" \
        "${short[@]}" --out "$tmp/hmc-prior" &&
        expect_success "predict --json of the control" "$bnnmc" predict "$tmp/hmc-prior" --json &&
        { is_number_between "$(value "$tmp/out" accuracy)" 0 0.5 &&
              echo "ok control: a prior start predicts poorly ($(value "$tmp/out" accuracy))" ||
              fail "control: accuracy $(value "$tmp/out" accuracy) from a prior draw, want < 0.5"; }
    [ "$(value "$run/run.json" config init_from)" = "$ens" ] &&
        echo "ok run.json records config.init_from" ||
        fail "run.json config.init_from is '$(value "$run/run.json" config init_from)'"
    expect_success "resume the --init-from run with more samples" "$bnnmc" sample --resume "$run" \
        --samples 5 --quiet &&
        { [ "$(value "$run/run.json" bma_count 0)" = 5 ] &&
              [ "$(value "$run/run.json" config init_from)" = "$ens" ] &&
              echo "ok resumed: 5 draws per chain, init_from kept" ||
              fail "resumed run: bma_count[0] $(value "$run/run.json" bma_count 0), want 5"; }
    expect_error "--init-from a run of another architecture" "another architecture" "layer0.w" -- \
        "$bnnmc" sample "${small[@]}" --arch mlp:16 --init-from "$ens" --out "$tmp/wrong"
    expect_error "--init-from a directory without a run" "--init-from" -- \
        "$bnnmc" sample "${small[@]}" --init-from "$tmp/nothing" --out "$tmp/wrong2"
}

# Same seed, --threads 1 and 2: the same bytes in every array, for every method.
check_threads() {
    local m args a b f differ
    for m in sgld sghmc csgmcmc vi map ensemble; do
        case $m in
        sgld | sghmc) args=(--burn-in 20 --samples 5 --thin 3) ;;
        csgmcmc) args=(--cycles 2 --cycle-len 20 --samples 4 --thin 2) ;;
        vi) args=(--epochs 2 --samples 4) ;;
        *) args=(--epochs 2) ;;
        esac
        a=$tmp/t1-$m b=$tmp/t2-$m
        expect_success "$m --threads 1" "$bnnmc" train --method $m "${small[@]}" --chains 3 \
            --batch-size 100 --block-rows 30 --seed 9 "${args[@]}" --threads 1 --out "$a" || continue
        expect_success "$m --threads 2" "$bnnmc" train --method $m "${small[@]}" --chains 3 \
            --batch-size 100 --block-rows 30 --seed 9 "${args[@]}" --threads 2 --out "$b" || continue
        differ=()
        for f in $(cd "$a" && find . -name '*.npy' | sort); do
            cmp -s "$a/$f" "$b/$f" || differ+=("$f")
        done
        [ ${#differ[@]} -eq 0 ] && [ -n "$(cd "$a" && find . -name weights.npy)" ] &&
            echo "ok $m: --threads 1 and 2 give the same bytes in every array" ||
            fail "$m: --threads 1 and 2 differ in ${differ[*]}"
    done
    expect_success "control: sgld with another seed" "$bnnmc" train --method sgld "${small[@]}" \
        --chains 3 --batch-size 100 --block-rows 30 --seed 10 --burn-in 20 --samples 5 --thin 3 \
        --out "$tmp/t-control" &&
        { cmp -s "$tmp/t1-sgld/chain_000/weights.npy" "$tmp/t-control/chain_000/weights.npy" &&
              fail "control: seeds 9 and 10 gave the same weights" ||
              echo "ok control: another seed gives other weights"; }
}

check_regression() {
    make_regression_csv "$tmp/reg-train.csv" 60 1
    make_regression_csv "$tmp/reg-test.csv" 20 2
    expect_success "train --method vi on a regression CSV" "$bnnmc" train --method vi \
        --train "$tmp/reg-train.csv" --test "$tmp/reg-test.csv" --task regression --arch linear \
        --noise-sd 0.3 --batch-size 20 --epochs 300 --lr 0.02 --quiet --out "$tmp/reg" || return
    expect_success "predict --json of the VI regression" "$bnnmc" predict "$tmp/reg" --json &&
        { is_number_between "$(value "$tmp/out" rmse)" 0 1 &&
              echo "ok VI regression: predictive RMSE $(value "$tmp/out" rmse) < 1 (noise sd 0.3)" ||
              fail "VI regression: rmse '$(value "$tmp/out" rmse)', want < 1"; }
}

check_refusals() {
    expect_error "train without --method" "--method is required" -- "$bnnmc" train "${small[@]}" \
        --out "$tmp/x1"
    expect_error "an unknown method" "--method 'hmc'" -- "$bnnmc" train --method hmc \
        "${small[@]}" --out "$tmp/x2"
    expect_error "--burn-in with --method map" "--burn-in does not apply to --method map" -- \
        "$bnnmc" train --method map --burn-in 10 "${small[@]}" --out "$tmp/x3"
    expect_error "--samples 3 with --method ensemble" "one draw per chain" -- \
        "$bnnmc" train --method ensemble --samples 3 "${small[@]}" --out "$tmp/x4"
    expect_error "csgmcmc draws that do not fit the sampling phase" "do not fit" -- \
        "$bnnmc" train --method csgmcmc --cycles 2 --cycle-len 20 --samples 10 --thin 5 \
        "${small[@]}" --out "$tmp/x5"
    expect_error "--lr -1" "--lr must be positive" -- "$bnnmc" train --method map --lr -1 \
        "${small[@]}" --out "$tmp/x7"
    expect_error "--batch-size 0" "--batch-size must be" -- "$bnnmc" train --method map \
        --batch-size 0 "${small[@]}" --out "$tmp/x8"
    expect_error "--friction 2" "--friction must be in (0, 1]" -- "$bnnmc" train --method sghmc \
        --friction 2 "${small[@]}" --out "$tmp/x9"
    expect_error "--explore 1" "--explore must be in [0, 1)" -- "$bnnmc" train \
        --method csgmcmc --explore 1 "${small[@]}" --out "$tmp/x10"
    expect_error "a step size that diverges" "not finite" "--lr" -- "$bnnmc" train --method sgld \
        --lr 1e300 --burn-in 50 --samples 2 --thin 5 "${small[@]}" --out "$tmp/x6"
}

check_ensemble
check_sgld
check_init_from
check_threads
check_regression
check_refusals
finish
