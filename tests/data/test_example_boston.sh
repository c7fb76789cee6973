#!/bin/bash
# examples/boston.sh runs to the end with tiny settings (2 chains x 10 + 10 iterations) and
# prints its two W1 comparisons; keeps the example from going stale.
# usage: test_example_boston.sh BNNMC
set -u
bnnmc=${1:?usage: $0 BNNMC}
. "$BNNMC_SOURCE_DIR/tests/cli/cli_lib.sh"
BNNMC=$bnnmc CHAINS=2 WARMUP=10 SAMPLES=10 sh "$BNNMC_SOURCE_DIR/examples/boston.sh" \
    "$tmp/example" >"$tmp/example.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^W1 (mean over inputs)' "$tmp/example.log")" = 2 ]; then
    echo "ok examples/boston.sh runs and prints both W1 lines:"
    grep '^W1' "$tmp/example.log"
else
    fail "examples/boston.sh: exit $rc: $(tail -c 400 "$tmp/example.log")"
fi
finish
