#!/bin/sh
# Benchmark of `bnnmc diagnose` (issue 3 item 5): 4 chains x 1000 draws of an MLP 784-100-10
# (79 510 weights, float32) plus 16 test points x 10 classes, on 2 threads; must take < 60 s.
#
# usage: bench/diag_bench.sh [BNNMC] [RUN_DIR]
#   BNNMC    the bnnmc executable (default build/bnnmc)
#   RUN_DIR  where the synthetic run is written (default ${TMPDIR:-/tmp}/bnnmc_diag_bench,
#            about 1.3 GB; reused when it already holds a run.json)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bnnmc=${1:-$here/build/bnnmc}
run=${2:-${TMPDIR:-/tmp}/bnnmc_diag_bench}
limit=60

if [ ! -f "$run/run.json" ]; then
    echo "writing synthetic run to $run"
    /usr/bin/python3 "$here/scripts/diag_make_run.py" "$run" --widths 784,100,10 --chains 4 \
        --draws 1000 --points 16 --outputs 10 --dtype float32 --far 2 --far-block layer1.b
fi
# Read the arrays once so that the timing is of the diagnosis, not of a cold disk.
cat "$run"/chain_*/weights.npy > /dev/null

start=$(date +%s.%N)
"$bnnmc" diagnose "$run" --threads 2 > "$run/diagnose.txt"
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc)
head -5 "$run/diagnose.txt"
echo "diagnose: 4 chains x 1000 draws x 79510 weights + 160 outputs, 2 threads: $secs s (limit $limit s)"
if [ "$(echo "$secs < $limit" | bc)" -ne 1 ]; then
    echo "FAIL: slower than $limit s"
    exit 1
fi
