#!/usr/bin/python3
"""Time per full-batch gradient of lenet5 (N = 10 000, 28x28x1, tanh) and resnet20-frn
(N = 1 000, 32x32x3, swish), float32, at 1 and 2 threads: `bnnmc bench` beside PyTorch on the
same machine in the same run (PyTorch with OMP_WAIT_POLICY=PASSIVE, in chunks of 256 rows as
bnnmc's blocks; the model is the one of test_cnn_torch.py). Not a test: prints a table.

usage: OMP_WAIT_POLICY=PASSIVE bench_cnn.py PATH/TO/bnnmc [REPS]"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_cnn_torch import Net, SPECS  # noqa: E402

WORKLOADS = [("lenet5", "tanh", (28, 28, 1), 10000), ("resnet20-frn", "swish", (32, 32, 3), 1000)]


def bnnmc_ms(bnnmc, arch, act, shape, n, threads, reps):
    cmd = [bnnmc, "bench", "--arch", arch, "--act", act, "--image", "x".join(map(str, shape)),
           "--classes", "10", "--n", str(n), "--threads", str(threads), "--reps", str(reps),
           "--leapfrog", "1", "--no-blas", "--json"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def torch_ms(arch, act, shape, n, threads, reps, table):
    torch.set_num_threads(threads)
    rng = np.random.default_rng(1)
    params = {name: torch.tensor(rng.normal(0, 0.1, s), dtype=torch.float32, requires_grad=True)
              for name, s in table}
    x = torch.tensor(rng.normal(size=(n, *shape)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 10, n))
    times = []
    for _ in range(reps + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        for p in params.values():
            p.grad = None
        for r0 in range(0, n, 256):
            logits = Net(SPECS[arch], params, act)(x[r0:r0 + 256], 10)
            ll = torch.log_softmax(logits, 1)[torch.arange(len(logits)), y[r0:r0 + 256]].sum()
            ll.backward()
        times.append(1e3 * (time.perf_counter() - t0))
    return float(np.median(times[1:]))


def shapes(bnnmc, arch, shape):
    helper = os.path.join(os.path.dirname(bnnmc), "tests", "cnn", "cnn_parity_helper")
    out = subprocess.run([helper, "tensors", arch, "tanh", *map(str, shape), "10"], check=True,
                         capture_output=True, text=True).stdout
    return [(l.split()[0], tuple(int(d) for d in l.split()[2:])) for l in out.splitlines()]


def main():
    bnnmc = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(f"{'workload':<30} {'threads':>7} {'bnnmc ms':>10} {'pytorch ms':>11}")
    for arch, act, shape, n in WORKLOADS:
        table = shapes(bnnmc, arch, shape)
        for threads in (1, 2):
            b = bnnmc_ms(bnnmc, arch, act, shape, n, threads, reps)["ms_per_grad"]
            t = torch_ms(arch, act, shape, n, threads, reps, table)
            print(f"{arch + ' N=' + str(n):<30} {threads:>7} {b:>10.0f} {t:>11.0f}", flush=True)


if __name__ == "__main__":
    main()
