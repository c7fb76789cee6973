#!/usr/bin/env python3
"""Do two bnnmc runs of the same model (CPU and GPU, same settings) agree in distribution?
Compares the mean training log-likelihood over the sampling iterations, with its standard error
from the spread of the chain means (chains are independent): the runs agree when the difference
is within 4 combined standard errors. Also prints each run's model-average test accuracy.
usage: compare_runs.py RUN_A RUN_B    (exit status 0: agree, 1: differ)
"""
import json
import sys

import numpy as np


def summarise(run):
    meta = json.load(open(f"{run}/run.json"))
    names = meta["stat_names"]
    phase, log_lik = names.index("phase"), names.index("log_lik")
    means = []
    for a in meta["arrays"]:
        if a["name"] == "stats":
            s = np.load(f"{run}/{a['path']}")
            means.append(s[s[:, phase] == 2, log_lik].mean())
    means = np.array(means)
    acc = []
    targets = np.load(f"{run}/test_targets.npy")
    for a in meta["arrays"]:
        if a["name"] == "bma_sum":
            acc.append(np.load(f"{run}/{a['path']}"))
    accuracy = float((sum(acc).argmax(axis=1) == targets).mean()) if acc else float("nan")
    return means.mean(), means.std(ddof=1) / np.sqrt(len(means)), len(means), accuracy


def main(a, b):
    (ma, sa, ka, acc_a), (mb, sb, kb, acc_b) = summarise(a), summarise(b)
    z = abs(ma - mb) / np.sqrt(sa * sa + sb * sb)
    print(f"mean log-likelihood: {ma:.3f} ± {sa:.3f} ({ka} chains) vs {mb:.3f} ± {sb:.3f} "
          f"({kb} chains): {z:.2f} standard errors apart (agree within 4)")
    print(f"model-average test accuracy: {acc_a:.4f} vs {acc_b:.4f}")
    return 0 if z <= 4 else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
