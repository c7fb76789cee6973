#!/usr/bin/python3
"""Checks of jax_cnn_bench.py that need no JAX: its layer graph (Graph) and forward pass
(forward), run with PyTorch float64 primitives written like its JAX ones, against bnnmc.
  1. the parameter tensors (names, offsets in θ, shapes) equal bnnmc's (cnn_parity_helper
     tensors), and n_params / flops_per_grad equal `bnnmc bench --json`'s;
  2. the log-likelihood and its gradient at the same θ and rows equal bnnmc's float64 reference
     (cnn_parity_helper eval), to 1e-10 relative.
What this cannot check: the JAX primitives themselves (lax.conv_general_dilated padding, the
micro-batch scan), which only run where JAX is installed.
usage: test_jax_cnn_bench.py [BUILD_DIR]   (default: build; needs BUILD_DIR/bnnmc and
       BUILD_DIR/tests/cnn/cnn_parity_helper). Exits 77 (skip) without torch."""
import json
import math
import os
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "cnn"))
import jax_cnn_bench as jcb  # noqa: E402

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    print("skip: python3-torch (or numpy) is not installed")
    sys.exit(77)

from test_cnn_torch import tensor_table  # noqa: E402  (cnn_parity_helper's tensor list)

TOL = 1e-10


def torch_ops(act):
    """jax_ops with PyTorch: the same NHWC layouts, padding pairs, window reshapes."""
    acts = {"tanh": torch.tanh, "relu": lambda z: torch.clamp(z, min=0),
            "swish": lambda z: z * torch.sigmoid(z), "erf": torch.erf}

    def conv(x, w, b, stride, pads):
        (t, bt), (l, r) = pads
        xc = F.pad(x.permute(0, 3, 1, 2), (l, r, t, bt))
        return F.conv2d(xc, w.permute(3, 2, 0, 1), None, stride=stride).permute(0, 2, 3, 1) + b

    def frn(x, gamma, beta, tau):
        nu2 = torch.mean(x * x, dim=(1, 2), keepdim=True)
        return torch.maximum(gamma * (x * torch.rsqrt(nu2 + jcb.FRN_EPS)) + beta, tau)

    def windows(x, k):
        n, h, w, c = x.shape
        oh, ow = h // k, w // k
        return x[:, :oh * k, :ow * k, :].reshape(n, oh, k, ow, k, c)

    def dense(x, w, b):
        return x.reshape(x.shape[0], -1) @ w + b

    return types.SimpleNamespace(
        conv=conv, frn=frn, act=acts[act], dense=dense,
        maxpool=lambda x, k: torch.amax(windows(x, k), dim=(2, 4)),
        avgpool=lambda x, k: torch.mean(windows(x, k), dim=(2, 4)),
        gap=lambda x: torch.mean(x, dim=(1, 2)))


def check(helper, arch, act, shape, k, rows, seed):
    g = jcb.Graph(arch, shape, k)
    table = tensor_table(helper, arch, act, shape, k)
    ours, off = [], 0
    for name, s, _ in g.tensors:
        ours.append((name, off, s))
        off += math.prod(s)
    label = f"{arch} {act} {'x'.join(map(str, shape))} K={k}"
    if ours != table:
        print(f"not ok tensors {label}:\n  ours  {ours}\n  bnnmc {table}")
        return False
    rng = np.random.default_rng(seed)
    theta = np.empty(g.n_params)
    for (name, s, var), (_, o, _) in zip(g.tensors, table):
        theta[o:o + math.prod(s)] = rng.normal(0, math.sqrt(var), math.prod(s)) + \
            (1 if name.endswith("gamma") else 0)  # γ around 1 keeps FRN from flattening
    x = rng.normal(size=(rows, *shape))
    y = rng.integers(0, k, size=rows).astype(np.float64)
    with tempfile.TemporaryDirectory() as d:
        for name, a in (("theta", theta), ("x", x), ("y", y)):
            a.astype(np.float64).tofile(os.path.join(d, name + ".f64"))
        subprocess.run([helper, "eval", arch, act, *map(str, shape), str(k), "float64",
                        str(rows), d], check=True)
        out = np.fromfile(os.path.join(d, "out.f64"))
    params = {name: torch.tensor(theta[o:o + math.prod(s)].reshape(s), dtype=torch.float64,
                                 requires_grad=True) for name, o, s in table}
    logits = jcb.forward(g, params, torch.tensor(x, dtype=torch.float64), torch_ops(act))
    ll = torch.log_softmax(logits, dim=-1)[torch.arange(rows), torch.tensor(y).long()].sum()
    ll.backward()
    grad = np.concatenate([params[name].grad.numpy().ravel() for name, _, _ in table])
    e_ll = abs(ll.item() - out[0]) / abs(out[0])
    e_g = np.max(np.abs(grad - out[1:1 + g.n_params])) / np.max(np.abs(out[1:1 + g.n_params]))
    ok = e_ll <= TOL and e_g <= TOL
    print(f"{'ok' if ok else 'not ok'} {label}: {g.n_params} parameters as bnnmc's; loglik "
          f"{e_ll:.1e}, gradient {e_g:.1e} (tol {TOL:.0e})")
    return ok


def check_bench(bnnmc, arch, shape, k):
    """n_params and flops_per_grad of `bnnmc bench --json` against the graph's."""
    n = 7
    r = json.loads(subprocess.run(
        [bnnmc, "bench", "--arch", arch, "--image", "x".join(map(str, shape)), "--classes", str(k),
         "--n", str(n), "--reps", "1", "--leapfrog", "0", "--threads", "1", "--json"],
        check=True, capture_output=True, text=True).stdout)
    g = jcb.Graph(arch, shape, k)
    flops = g.flops_per_row() * n
    ok = r["n_params"] == g.n_params and abs(r["flops_per_grad"] - flops) <= 1e-5 * flops
    print(f"{'ok' if ok else 'not ok'} bnnmc bench {arch} {'x'.join(map(str, shape))}: n_params "
          f"{r['n_params']} (ours {g.n_params}), flops {r['flops_per_grad']:.6g} (ours {flops:.6g})")
    return ok


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    helper = os.path.join(build, "tests", "cnn", "cnn_parity_helper")
    bnnmc = os.path.join(build, "bnnmc")
    torch.set_num_threads(1)
    ok = check_bench(bnnmc, "lenet5", (28, 28, 1), 10)
    ok &= check_bench(bnnmc, "resnet20-frn", (32, 32, 3), 10)
    ok &= check_bench(bnnmc, "resnet20-frn", (32, 32, 3), 100)
    cases = [  # (arch, act, (H, W, C), classes, rows)
        ("cnn:c4k3s2", "tanh", (9, 8, 2), 3, 3),         # "same" stride 2, asymmetric padding
        ("cnn:c4k4s2", "relu", (9, 10, 2), 3, 3),        # even kernel, stride 2
        ("cnn:c4k5v,a2", "swish", (10, 9, 3), 4, 2),     # valid conv, average pooling (crop)
        ("cnn:c3f,m2", "tanh", (9, 6, 2), 3, 3),         # FRN (TLU), max pooling (crop)
        ("cnn:c5k1s2f,r4s2,g", "swish", (12, 12, 3), 5, 2),  # 1x1 conv, projected block, GAP
        ("cnn:c4,r4,r6,d5", "erf", (6, 5, 2), 3, 2),     # identity and channel-projected blocks
        ("lenet5", "tanh", (28, 28, 1), 10, 3),
        ("resnet20-frn", "swish", (32, 32, 3), 10, 2),
        ("resnet20-frn", "tanh", (32, 32, 3), 10, 2),
    ]
    for i, (arch, act, shape, k, rows) in enumerate(cases):
        ok &= check(helper, arch, act, shape, k, rows, seed=i)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
