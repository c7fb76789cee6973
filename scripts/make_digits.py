#!/usr/bin/python3
"""Writes the bundled digits data set (data/digits/{train,test}.csv) from scikit-learn.

Source: sklearn.datasets.load_digits (Debian python3-sklearn; UCI optical recognition of
handwritten digits, 1797 images of 8x8 pixels with values 0..16, 10 classes).
Split: numpy.random.RandomState(0).permutation(1797); its first 1437 indices are the training
rows and the last 360 the test rows, each kept in permutation order.
Columns: f0..f63 (pixels, row-major), then label. Run from anywhere; rerunning gives the same
bytes.
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits

N_TRAIN = 1437


def write_csv(path, x, y):
    with open(path, "w", newline="\n") as f:
        f.write(",".join([f"f{j}" for j in range(x.shape[1])] + ["label"]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(str(int(v)) for v in row) + f",{int(label)}\n")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "data", "digits")
    digits = load_digits()
    x, y = digits.data, digits.target
    assert x.shape == (1797, 64) and np.all(x == np.round(x))
    perm = np.random.RandomState(0).permutation(len(y))
    train, test = perm[:N_TRAIN], perm[N_TRAIN:]
    os.makedirs(out, exist_ok=True)
    write_csv(os.path.join(out, "train.csv"), x[train], y[train])
    write_csv(os.path.join(out, "test.csv"), x[test], y[test])
    print(f"wrote {out}/train.csv ({len(train)} rows) and test.csv ({len(test)} rows)")


if __name__ == "__main__":
    main()
