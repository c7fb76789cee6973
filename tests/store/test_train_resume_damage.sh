#!/usr/bin/env bash
# Damage after a kill of `bnnmc train`: a corrupt newest checkpoint falls back to the previous
# one (with a warning naming it) and bytes after the last checkpoint's rows are cut away; the
# run still ends byte-identical. Both checkpoints corrupt, or those of another chain: a clear
# error naming the file. Extending a complete sgld or vi run with --resume --samples equals a
# longer run; another configuration is refused, naming the setting.
set -u
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/train_common.sh"

read -r -a SGLD <<< "$(method_args sgld)"
SGLD+=("${TRAIN_ARGS[@]}")
"$BNNMC" train "${SGLD[@]}" --out "$WORK/ref" || { not_ok "reference run"; finish; exit; }

# killed_run DIR: a run killed with checkpoints after some of its draws.
drawing() { awk -v f="$(progress "$1")" 'BEGIN { exit !(f > 0.6) }'; }
killed_run() {
    kill_when_ready "$1" drawing "$BNNMC" train "${SGLD[@]}" --out "$1" --checkpoint-interval 0
}

killed_run "$WORK/a"
flip_byte "$WORK/a/chain_000/checkpoint.bin" 100
printf 'garbage' >> "$WORK/a/chain_000/stats.npy"
printf 'garbage' >> "$WORK/a/chain_001/weights.npy"
printf 'garbage' >> "$WORK/a/chain_001/records.log"
"$BNNMC" train --resume "$WORK/a" 2> "$WORK/a.err" > /dev/null && ok "resume after damage" ||
    not_ok "resume after damage: $(cat "$WORK/a.err")"
grep -q "checksum mismatch" "$WORK/a.err" && grep -q "chain_000/checkpoint.bin" "$WORK/a.err" &&
    grep -q "resuming from .*chain_000/checkpoint.prev.bin" "$WORK/a.err" &&
    ok "damaged checkpoint reported, the previous one used" ||
    not_ok "damaged checkpoint not reported: $(cat "$WORK/a.err")"
same_train_run "$WORK/ref" "$WORK/a" && ok "byte-identical after damage" ||
    not_ok "differs after damage"

killed_run "$WORK/b"
flip_byte "$WORK/b/chain_001/checkpoint.bin" 0
truncate -s 20 "$WORK/b/chain_001/checkpoint.prev.bin"
"$BNNMC" train --resume "$WORK/b" --quiet 2> "$WORK/b.err"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -q "chain_001/checkpoint.prev.bin: truncated" \
    "$WORK/b.err" && ok "both checkpoints damaged: error naming the file" ||
    not_ok "both checkpoints damaged: rc $rc, $(cat "$WORK/b.err")"

killed_run "$WORK/c"
cp "$WORK/c/chain_000/checkpoint.bin" "$WORK/c/chain_001/checkpoint.bin"
cp "$WORK/c/chain_000/checkpoint.bin" "$WORK/c/chain_001/checkpoint.prev.bin"
"$BNNMC" train --resume "$WORK/c" --quiet 2> "$WORK/c.err"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] &&
    grep -q "chain_001/checkpoint.prev.bin: the checkpoint belongs to another run (chain 0" \
        "$WORK/c.err" &&
    ok "another chain's checkpoints refused, naming the file" ||
    not_ok "another chain's checkpoints: rc $rc, $(cat "$WORK/c.err")"

# Extending a complete run gives the same bytes as a run that was longer from the start.
for m in sgld vi; do
    read -r -a args <<< "$(method_args $m)"
    args+=("${TRAIN_ARGS[@]}")
    "$BNNMC" train "${args[@]}" --out "$WORK/$m-short" || not_ok "$m: short run"
    "$BNNMC" train "${args[@]}" --samples 30 --out "$WORK/$m-long" || not_ok "$m: long run"
    "$BNNMC" train --resume "$WORK/$m-short" --samples 30 --quiet || not_ok "$m: extend"
    same_train_run "$WORK/$m-long" "$WORK/$m-short" &&
        ok "$m: a complete run extended to 30 samples equals the longer run" ||
        not_ok "$m: extended run differs from the longer run"
done

# expect_refusal NAME NEEDLE COMMAND...: COMMAND fails with exit status 1 or 2 and NEEDLE in
# its messages, and changes nothing in the reference run.
expect_refusal() {
    local name=$1 needle=$2 rc
    shift 2
    "$@" 2> "$WORK/refusal.err" > /dev/null
    rc=$?
    { [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; } && grep -qF -- "$needle" "$WORK/refusal.err" &&
        ok "$name refused: $(head -n 1 "$WORK/refusal.err")" ||
        not_ok "$name: rc $rc, $(cat "$WORK/refusal.err")"
}

expect_refusal "another seed in the same directory" "config.seed differs" \
    "$BNNMC" train "${SGLD[@]}" --seed 7 --out "$WORK/ref"
expect_refusal "another learning rate in the same directory" "config.lr differs" \
    "$BNNMC" train "${SGLD[@]}" --lr 1e-5 --out "$WORK/ref"
expect_refusal "another method in the same directory" "config.method differs" \
    "$BNNMC" train "${SGLD[@]/sgld/sghmc}" --out "$WORK/ref"
expect_refusal "a model change on --resume" "--arch cannot be changed" \
    "$BNNMC" train --resume "$WORK/ref" --arch mlp:5
expect_refusal "a batch size change on --resume" "--batch-size cannot be changed" \
    "$BNNMC" train --resume "$WORK/ref" --batch-size 64
expect_refusal "shortening" "extend it but not shorten" \
    "$BNNMC" train --resume "$WORK/sgld-long" --samples 10
expect_refusal "the same command on a complete run" "holds a complete run" \
    "$BNNMC" train "${SGLD[@]}" --out "$WORK/ref"
read -r -a CSG <<< "$(method_args csgmcmc)"
CSG+=("${TRAIN_ARGS[@]}")
"$BNNMC" train "${CSG[@]}" --out "$WORK/csg" || not_ok "csgmcmc run"
expect_refusal "more csgmcmc samples" "config.samples differs" \
    "$BNNMC" train --resume "$WORK/csg" --samples 6
"$BNNMC" sample "${TRAIN_ARGS[@]}" --chains 1 --warmup 5 --samples 5 --out "$WORK/hmc" ||
    not_ok "sample run"
expect_refusal "--resume of a sample run" "not a run of \`bnnmc train\`" \
    "$BNNMC" train --resume "$WORK/hmc"
expect_refusal "--resume of nothing" "--resume" "$BNNMC" train --resume "$WORK/nothing"
expect_refusal "sample --resume of a train run" "bnnmc train --resume $WORK/ref" \
    "$BNNMC" sample --resume "$WORK/ref"
same_train_run "$WORK/ref" "$WORK/a" && ok "the refusals left the reference run as it was" ||
    not_ok "a refusal changed the reference run"
finish
