#!/usr/bin/env bash
# Damage after a kill: a corrupt newest checkpoint falls back to the previous one (with a
# warning naming it), torn or extra bytes at the end of arrays are cut away, a kill inside a
# checkpoint's rotation leaves a resumable run; the run still ends byte-identical. Both
# checkpoints corrupt: a clear error naming the file. Extending a complete run with --resume
# --samples equals a longer run; changing the configuration is refused.
set -u
. "$(dirname "$0")/common.sh"

"$BNNMC" sample "${RUN_ARGS[@]}" --out "$WORK/ref" || { not_ok "reference run"; finish; exit; }

# killed_run DIR: a run killed with checkpoints past warm-up.
past_warmup() { [ "$(iterations "$1")" -gt 100 ]; }
killed_run() {
    kill_when_ready "$1" past_warmup "$BNNMC" sample "${RUN_ARGS[@]}" --out "$1" \
        --checkpoint-interval 0
}

killed_run "$WORK/a"
# A kill between a checkpoint's steps (store/checkpoint.c): the newest checkpoint.bin already
# hard-linked as checkpoint.prev.bin, the new one still a torn checkpoint.bin.tmp.
cp -r "$WORK/a" "$WORK/w"
ln -f "$WORK/w/chain_000/checkpoint.bin" "$WORK/w/chain_000/checkpoint.prev.bin"
head -c 40 "$WORK/w/chain_000/checkpoint.bin" > "$WORK/w/chain_000/checkpoint.bin.tmp"
"$BNNMC" sample --resume "$WORK/w" 2> "$WORK/w.err" > /dev/null && same_run "$WORK/ref" "$WORK/w" &&
    ok "killed between a checkpoint's link and rename: byte-identical" ||
    not_ok "killed between a checkpoint's link and rename: $(cat "$WORK/w.err")"
flip_byte "$WORK/a/chain_000/checkpoint.bin" 100
truncate -s -7 "$WORK/a/chain_001/fs.npy"
printf 'garbage' >> "$WORK/a/chain_000/stats.npy"
"$BNNMC" sample --resume "$WORK/a" 2> "$WORK/a.err" > /dev/null && ok "resume after damage" ||
    not_ok "resume after damage: $(cat "$WORK/a.err")"
grep -q "checksum mismatch" "$WORK/a.err" && grep -q "chain_000/checkpoint.bin" "$WORK/a.err" &&
    ok "damaged checkpoint reported" || not_ok "damaged checkpoint not reported: $(cat "$WORK/a.err")"
same_run "$WORK/ref" "$WORK/a" && ok "byte-identical after damage" || not_ok "differs after damage"

killed_run "$WORK/b"
flip_byte "$WORK/b/chain_001/checkpoint.bin" 0
truncate -s 20 "$WORK/b/chain_001/checkpoint.prev.bin"
"$BNNMC" sample --resume "$WORK/b" --quiet 2> "$WORK/b.err"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -q "chain_001/checkpoint" "$WORK/b.err" &&
    ok "both checkpoints damaged: error naming the file" ||
    not_ok "both checkpoints damaged: rc $rc, $(cat "$WORK/b.err")"

# Extending a complete run gives the same arrays as a run that was longer from the start.
long_args=("${RUN_ARGS[@]/160/220}")
"$BNNMC" sample "${long_args[@]}" --out "$WORK/long" || not_ok "long run"
cp -r "$WORK/ref" "$WORK/ext"
"$BNNMC" sample --resume "$WORK/ext" --samples 220 --quiet && ok "extend" || not_ok "extend"
same_run "$WORK/long" "$WORK/ext" && ok "extended run equals the longer run" ||
    not_ok "extended run differs from the longer run"

# Refusals: another configuration in the same directory, shortening, changing the model.
"$BNNMC" sample "${RUN_ARGS[@]}" --seed 7 --out "$WORK/ref" 2> "$WORK/c.err"
[ $? -eq 1 ] && grep -q "config.seed differs" "$WORK/c.err" && ok "other configuration refused" ||
    not_ok "other configuration: $(cat "$WORK/c.err")"
"$BNNMC" sample --resume "$WORK/ext" --samples 100 2> "$WORK/d.err"
[ $? -eq 1 ] && grep -q "extend it but not shorten" "$WORK/d.err" && ok "shortening refused" ||
    not_ok "shortening: $(cat "$WORK/d.err")"
"$BNNMC" sample --resume "$WORK/ext" --arch mlp:5 2> "$WORK/e.err"
[ $? -ne 0 ] && grep -q -- "--arch cannot be changed" "$WORK/e.err" && ok "model change refused" ||
    not_ok "model change: $(cat "$WORK/e.err")"
finish
