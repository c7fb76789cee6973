#!/usr/bin/env bash
# bnnmc sample --config FILE.json: the keys are the long options; the command line overrides the
# file; unknown keys, bad values and malformed JSON are refused naming the file, key or line.
set -u
BNNMC=${1:?usage: $0 path/to/bnnmc}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
ok() { echo "ok $*"; }
not_ok() { echo "not ok $*"; failures=$((failures + 1)); }
cat > "$WORK/c.json" <<'JSON'
{"arch": "mlp:12", "chains": 2, "warmup": 10, "samples": 12, "max_leapfrog": 10,
 "fs-points": 20, "quiet": true, "prior-var": 0.5, "no-mh": false, "seed": 9}
JSON
"$BNNMC" sample --config "$WORK/c.json" --samples 13 --out "$WORK/run" &&
    ok "sample with a config file" || not_ok "sample with a config file"
grep -q '"arch": "mlp:12"' "$WORK/run/run.json" && grep -q '"samples": 13' "$WORK/run/run.json" &&
    grep -q '"seed": 9' "$WORK/run/run.json" && grep -q '"metropolis": true' "$WORK/run/run.json" &&
    ok "file settings applied, command line overrides" || not_ok "settings: $(grep -E 'arch|samples|seed|metropolis' "$WORK/run/run.json")"
expect_error() { # expect_error NAME JSON NEEDLE...
    local name=$1 json=$2
    shift 2
    printf '%s' "$json" > "$WORK/bad.json"
    "$BNNMC" sample --config "$WORK/bad.json" --out "$WORK/bad" 2> "$WORK/err"
    local rc=$? n
    [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || { not_ok "$name: exit $rc"; return; }
    for n in "$@"; do grep -q -- "$n" "$WORK/err" || { not_ok "$name: no '$n' in: $(cat "$WORK/err")"; return; }; done
    ok "$name"
}
expect_error "unknown key" '{"chanis": 2}' "bad.json" "chanis"
expect_error "bad value" '{"chains": -2}' "bad.json" "chains" "--chains"
expect_error "wrong type" '{"chains": [2]}' "bad.json" "chains"
expect_error "malformed JSON names the line" $'{"arch": "mlp:4",\n "chains" 2}' "bad.json:2:"
expect_error "not an object" '[1, 2]' "bad.json" "object"
expect_error "duplicate key" '{"chains": 2, "chains": 3}' "bad.json" "duplicate"
echo "$failures failed"
[ "$failures" -eq 0 ]
