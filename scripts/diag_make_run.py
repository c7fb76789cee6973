#!/usr/bin/python3
"""Writes a synthetic run directory in the layout `bnnmc sample` writes (run.json, chain_NNN/
{weights,fs,stats}.npy), for testing and benchmarking `bnnmc diagnose`.

Weights and function-space outputs are AR(1) chains (rho 0.5); with --far C, chain C's
parameters of the block named by --far-block and its outputs at test point 0 sit 3 sd away, like
a chain initialised far off that never came back. --short C makes chain C end 10 % early (an
interrupted run).

usage: diag_make_run.py DIR [--widths 784,100,10] [--chains 4] [--draws 1000] [--points 16]
                            [--outputs 10] [--dtype float32] [--far 2] [--far-block layer1.b]
                            [--short 3] [--seed 1]
"""
import argparse
import json
import os

import numpy as np


def ar1(rng, shape, rho, dtype):
    """AR(1) draws along axis 0 with unit stationary variance, generated in place."""
    dtype = np.dtype(dtype)
    x = rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)
    scale = dtype.type(np.sqrt(1 - rho * rho))
    for t in range(1, shape[0]):
        x[t] *= scale
        x[t] += rho * x[t - 1]
    return x


def param_blocks(widths):
    blocks, off = [], 0
    for l in range(len(widths) - 1):
        blocks.append({"name": f"layer{l}.w", "offset": off, "shape": [widths[l], widths[l + 1]]})
        off += widths[l] * widths[l + 1]
        blocks.append({"name": f"layer{l}.b", "offset": off, "shape": [widths[l + 1]]})
        off += widths[l + 1]
    return blocks, off


def stats_rows(rng, burn, warm, draws, divergent_every):
    n = burn + warm + draws
    s = np.zeros((n, 11))
    s[:, 0] = np.r_[np.zeros(burn), np.ones(warm), 2 * np.ones(draws)]
    s[:, 1] = rng.uniform(0.5, 1.0, n)                        # accept_prob
    s[:, 2] = rng.uniform(size=n) < s[:, 1]                   # accepted
    s[burn + warm::divergent_every, 3] = 1                     # divergent
    s[:, 4] = 100 + np.cumsum(rng.standard_normal(n)) * 0.3 + rng.standard_normal(n)  # energy
    s[:, 5] = rng.standard_normal(n) * 0.1                     # energy_error
    s[:, 6] = 0.01                                             # step_size
    s[:, 7] = 50                                               # n_leapfrog
    s[:, 8] = -1000 + rng.standard_normal(n)                   # log_lik
    s[:, 9] = -50 + rng.standard_normal(n)                     # log_prior
    s[:, 10] = 0                                               # tree_depth (static HMC)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--widths", default="784,100,10")
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--points", type=int, default=16)
    ap.add_argument("--outputs", type=int, default=10)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--far", type=int, default=-1)
    ap.add_argument("--far-block", default="layer1.b")
    ap.add_argument("--short", type=int, default=-1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    widths = [int(w) for w in a.widths.split(",")]
    blocks, n_params = param_blocks(widths)
    dtype = np.dtype(a.dtype)
    os.makedirs(a.dir, exist_ok=True)
    run = {"format": "bnnmc-run", "format_version": 1, "status": "finished",
           "config": {"chains": a.chains, "samples": a.draws, "thin": 1, "seed": a.seed},
           "model": {"type": "mlp", "widths": widths, "n_params": n_params, "params": blocks},
           "fs_points": a.points, "fs_outputs": a.outputs}
    with open(os.path.join(a.dir, "run.json"), "w") as f:
        json.dump(run, f, indent=2)
    far = next((b for b in blocks if b["name"] == a.far_block), None)
    for c in range(a.chains):
        rng = np.random.default_rng([a.seed, c])
        draws = a.draws - (a.draws // 10 if c == a.short else 0)
        d = os.path.join(a.dir, f"chain_{c:03d}")
        os.makedirs(d, exist_ok=True)
        w = ar1(rng, (draws, n_params), 0.5, dtype)
        fs = ar1(rng, (draws, a.points, a.outputs), 0.5, dtype)
        if c == a.far and far is not None:
            size = int(np.prod(far["shape"]))
            w[:, far["offset"]:far["offset"] + size] += 3
            fs[:, 0, :] += 3
        np.save(os.path.join(d, "weights.npy"), w)
        np.save(os.path.join(d, "fs.npy"), fs)
        np.save(os.path.join(d, "stats.npy"), stats_rows(rng, 10, 20, draws, 50 + c))


if __name__ == "__main__":
    main()
