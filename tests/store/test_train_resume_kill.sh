#!/usr/bin/env bash
# `bnnmc train` killed with SIGKILL again and again, at moments spread over the run, and resumed
# each time (the same command again, with --threads 1 or 2 and a checkpoint after every step or
# every 0.05 s), ends byte-identical to a run that was never interrupted: SGLD (burn-in, thin),
# SGHMC, cyclical SG-MCMC, VI (the fit and the draws from q) and a deep ensemble of 3 members.
# The uninterrupted runs with --threads 1 and 2 agree too. METHODS="sgld vi" runs a subset.
set -u
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/train_common.sh"

KILLS=6 # per method

# kill_and_resume METHOD: the checks above for one method.
kill_and_resume() {
    local m=$1 args ref=$WORK/$1-ref run=$WORK/$1 start timing
    read -r -a args <<< "$(method_args "$m")"
    args+=("${TRAIN_ARGS[@]}")
    "$BNNMC" train "${args[@]}" --out "$ref" || { not_ok "$m: reference run"; return; }
    "$BNNMC" train "${args[@]}" --out "$WORK/$m-t1" --threads 1 || not_ok "$m: --threads 1"
    same_train_run "$ref" "$WORK/$m-t1" && ok "$m: --threads 1 and 2 give the same bytes" ||
        not_ok "$m: --threads 1 and 2 differ"
    start=$(date +%s.%N)
    "$BNNMC" train "${args[@]}" --out "$WORK/$m-timing" --checkpoint-interval 0
    timing=$(echo "$(date +%s.%N) - $start" | bc)
    # Kill after 5 %..95 % of a whole run's time: with restarts, the kills land all over.
    local kills=0 early=0 late=0 resumed=0 try=0 interrupted=0 delay pid rc frac
    # (until KILLS kills, at least one in each half of the steps: on a loaded machine all the
    # kills of the cycle of delays can land late, and then a fresh run is killed early)
    while { [ "$kills" -lt "$KILLS" ] || [ "$early" -lt 1 ] || [ "$late" -lt 1 ]; } &&
        [ "$try" -lt 100 ]; do
        try=$((try + 1))
        delay=$(echo "$timing * (0.05 + 0.1 * $((try * 7 % 10)))" | bc -l)
        if [ "$kills" -ge "$KILLS" ] && [ "$early" -lt 1 ]; then
            [ "$interrupted" -eq 1 ] && rm -rf "$run" && interrupted=0
            delay=$(echo "$timing * 0.15" | bc -l)
        fi
        "$BNNMC" train "${args[@]}" --out "$run" --threads $((1 + try % 2)) \
            --checkpoint-interval "$([ $((try % 3)) -eq 0 ] && echo 0.05 || echo 0)" &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" 2> /dev/null
        wait "$pid" 2> /dev/null
        rc=$?
        if [ "$rc" -eq 137 ] && [ ! -f "$run/run.json" ]; then
            continue # killed before the run began: nothing to resume, the next try starts it
        elif [ "$rc" -eq 137 ] && ! grep -qs '"status": "complete"' "$run/run.json"; then
            kills=$((kills + 1))
            interrupted=1
            frac=$(progress "$run")
            awk -v f="$frac" 'BEGIN { exit !(f < 0.5) }' && early=$((early + 1)) ||
                late=$((late + 1))
        elif [ "$rc" -eq 0 ] || [ "$rc" -eq 137 ]; then # finished: check it, start anew
            [ "$interrupted" -eq 1 ] && { same_train_run "$ref" "$run" &&
                resumed=$((resumed + 1)) || not_ok "$m: a killed run finished (try $try) differs"; }
            rm -rf "$run"
            interrupted=0
        else
            not_ok "$m: exit status $rc (try $try)"
        fi
    done
    [ "$kills" -ge "$KILLS" ] && [ "$early" -ge 1 ] && [ "$late" -ge 1 ] &&
        ok "$m: $kills kills, $early in the first half of the steps, $late after ($resumed" \
            "earlier killed runs finished identical)" ||
        not_ok "$m: $kills kills ($early in the first half, $late after), want $KILLS spread"
    "$BNNMC" train --resume "$run" --quiet || not_ok "$m: final resume"
    grep -q '"status": "complete"' "$run/run.json" 2> /dev/null || not_ok "$m: status"
    same_train_run "$ref" "$run" && ok "$m: killed and resumed run is byte-identical" ||
        not_ok "$m: killed and resumed run differs from the uninterrupted one"
}

for m in ${METHODS:-sgld sghmc csgmcmc vi ensemble}; do kill_and_resume "$m"; done
finish
