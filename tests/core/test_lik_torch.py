#!/usr/bin/python3
"""The hetero-gaussian head (mean mu, sd = softplus(s) + 1e-6) against PyTorch: per row, the
log-likelihood against torch.distributions.Normal(mu, softplus(s) + 1e-6).log_prob(y) and its
gradient against autograd, both in float64, over rows from sd ~ 1e-6 (s = -40) to s = 60 and
targets up to 1e4 sds away; bnnmc's float32 head against PyTorch at the float32-rounded inputs;
the predicted sd against the same formula; and the float64 gradient against central finite
differences of bnnmc's own log-likelihood. Tolerances: relative 1e-12 (float64 values and
gradients), 1e-6 (float32 gradients, stored as float), 1e-6 (finite differences).
Exits 77 (skip) without torch.

usage: test_lik_torch.py PATH/TO/lik_parity_helper"""
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    print("skip: python3-torch (or numpy) is not installed")
    sys.exit(77)

FLOOR = 1e-6


def rows():
    rng = np.random.default_rng(20240601)
    out = []
    for s in [-40.0, -12.0, -3.0, -0.5, 0.0, 0.7, 2.5, 15.0, 60.0]:
        for mu in [-3.0, 0.0, 1.7]:
            sd = np.logaddexp(0, s) + FLOOR
            for z in [0.0, 0.3, -1.9, 7.0]:
                out.append((mu, s, mu + z * sd))
    for _ in range(40):
        out.append((rng.normal() * 3, rng.normal() * 4, rng.normal() * 3))
    return np.array(out)


def helper(exe, r):
    text = "".join(f"{a!r} {b!r} {c!r}\n" for a, b, c in r)
    res = subprocess.run([exe], input=text, capture_output=True, text=True, check=True)
    return np.array([[float(v) for v in line.split()] for line in res.stdout.splitlines()])


def torch_ref(r):
    mu = torch.tensor(r[:, 0], dtype=torch.float64, requires_grad=True)
    s = torch.tensor(r[:, 1], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(r[:, 2], dtype=torch.float64)
    sd = F.softplus(s) + FLOOR
    ll = torch.distributions.Normal(mu, sd).log_prob(y)
    ll.sum().backward()
    return (ll.detach().numpy(), mu.grad.numpy(), s.grad.numpy(), sd.detach().numpy())


def rel(a, b, floor):
    return np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor))


def main():
    exe = sys.argv[1]
    failures = 0

    def check(name, err, tol):
        nonlocal failures
        ok = err < tol
        failures += not ok
        print(f"{'ok' if ok else 'not ok'} {name}: max rel err {err:.2e} (tol {tol:.0e})")

    r = rows()
    got = helper(exe, r)
    ll, gmu, gs, sd = torch_ref(r)
    check("float64 log-likelihood vs torch Normal.log_prob", rel(got[:, 0], ll, 1e-300), 1e-12)
    check("float64 d/dmu vs torch autograd", rel(got[:, 1], gmu, 1e-300), 1e-12)
    check("float64 d/ds vs torch autograd", rel(got[:, 2], gs, 1e-300), 1e-12)
    check("predicted mean and sd", max(rel(got[:, 6], r[:, 0], 1e-300), rel(got[:, 7], sd, 1e-300)),
          1e-14)
    r32 = r.astype(np.float32).astype(np.float64)
    r32[:, 2] = r[:, 2]  # the head reads y in float64
    ll32, gmu32, gs32, _ = torch_ref(r32)
    check("float32 log-likelihood vs torch at the rounded inputs", rel(got[:, 3], ll32, 1e-300),
          1e-12)
    check("float32 gradient vs torch at the rounded inputs",
          max(rel(got[:, 4], gmu32, 1e-30), rel(got[:, 5], gs32, 1e-30)), 1e-6)
    # five-point central differences of bnnmc's float64 log-likelihood, in mu and in s, with
    # steps 1e-3 of the row's scale in that direction (sd for mu, max(1, |s|) for s); the
    # relative error's floor is 1e-3 / scale (a gradient of 0 is compared on that scale)
    worst = 0.0
    for col, g in [(0, got[:, 1]), (1, got[:, 2])]:
        scale = sd if col == 0 else np.maximum(1.0, np.abs(r[:, 1]))
        h = 1e-3 * scale
        fd = 0.0
        for k, w in [(-2, 1), (-1, -8), (1, 8), (2, -1)]:
            x = r.copy()
            x[:, col] += k * h
            fd = fd + w * helper(exe, x)[:, 0]
        fd = fd / (12 * h)
        worst = max(worst, np.max(np.abs(fd - g) / np.maximum(np.maximum(np.abs(fd), np.abs(g)),
                                                              1e-3 / scale)))
    check("float64 gradient vs five-point finite differences", worst, 1e-6)
    print("PASSED" if failures == 0 else f"FAILED ({failures})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
