#!/usr/bin/python3
"""CNN layers and architectures against PyTorch on the same weights: the log-likelihood, its
gradient and the class probabilities of bnnmc (through cnn_parity_helper) and of a PyTorch
model built from the same spec, PyTorch in float64 as the reference for both precisions.
Tolerance: max |difference| / max |PyTorch| per tensor, 1e-5 for bnnmc's float32 and 1e-10 for
its float64 (PyTorch's own float32 error is printed beside). Exits 77 (skip) without torch.

usage: test_cnn_torch.py PATH/TO/cnn_parity_helper"""
import math
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    print("skip: python3-torch (or numpy) is not installed")
    sys.exit(77)

SPECS = {"lenet5": "c6k5,m2,c16k5v,m2,d120,d84",
         "resnet20-frn": "c16f,r16,r16,r16,r32s2,r32,r32,r64s2,r64,r64,g"}
EPS = 1e-6
TOL = {"float32": 1e-5, "float64": 1e-10}
ACTS = {"tanh": torch.tanh, "swish": F.silu, "relu": F.relu, "erf": torch.erf}


def same_padding(h, k, s):
    """TensorFlow "SAME": output ceil(h/s); the extra padding row goes after the image."""
    out = (h + s - 1) // s
    need = max((out - 1) * s + k - h, 0)
    return need // 2, need - need // 2


class Net:
    """The graph of src/nn/cnn.c in PyTorch (NCHW inside, parameters in bnnmc's layouts)."""

    def __init__(self, spec, params, act):
        self.spec, self.p, self.act = spec, params, ACTS[act]
        self.n = {"conv": 0, "frn": 0, "dense": 0}

    def take(self, kind, *parts):
        i = self.n[kind]
        self.n[kind] += 1
        return [self.p[f"{kind}{i}.{q}"] for q in parts]

    def conv(self, x, o, k, s, same):
        w, b = self.take("conv", "w", "b")  # w (K, K, C, O)
        if same:
            t, bt = same_padding(x.shape[2], k, s)
            l, r = same_padding(x.shape[3], k, s)
            x = F.pad(x, (l, r, t, bt))
        return F.conv2d(x, w.permute(3, 2, 0, 1), b, stride=s)

    def frn(self, x):
        g, b, t = (v.view(1, -1, 1, 1) for v in self.take("frn", "gamma", "beta", "tau"))
        nu2 = torch.mean(x * x, dim=(2, 3), keepdim=True)
        return torch.maximum(g * (x / torch.sqrt(nu2 + EPS)) + b, t)

    def dense(self, x, o):
        if x.dim() == 4:  # flatten in HWC order
            x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        w, b = self.take("dense", "w", "b")
        return x @ w + b

    def res_block(self, x, o, s):
        y = self.frn(self.conv(self.act(self.frn(self.conv(x, o, 3, s, True))), o, 3, 1, True))
        if s != 1 or x.shape[1] != o:
            x = self.frn(self.conv(x, o, 1, s, True))
        return self.act(x + y)

    def layer(self, x, tok):
        kind, rest = tok[0], tok[1:]
        if kind == "c":
            num = lambda key, dflt: int(rest.split(key)[1].rstrip("vf").split("s")[0]) \
                if key in rest else dflt
            o = int("".join(ch for ch in rest.split("k")[0].split("s")[0].rstrip("vf")))
            k = num("k", 3)
            s = int(rest.split("s")[1].rstrip("vf")) if "s" in rest else 1
            x = self.conv(x, o, k, s, "v" not in rest)
            return self.act(self.frn(x) if rest.endswith("f") else x)
        if kind == "r":
            o, _, s = rest.partition("s")
            return self.res_block(x, int(o), int(s) if s else 1)
        if kind in "ma":
            k = int(rest)
            return (F.max_pool2d if kind == "m" else F.avg_pool2d)(x, k, k)
        if kind == "g":
            return torch.mean(x, dim=(2, 3))
        if kind == "d":
            return self.act(self.dense(x, int(rest)))
        raise ValueError(tok)

    def __call__(self, x_nhwc, classes):
        x = x_nhwc.permute(0, 3, 1, 2)
        for tok in self.spec.split(","):
            x = self.layer(x, tok)
        return self.dense(x, classes)


def tensor_table(helper, arch, act, shape, k):
    out = subprocess.run([helper, "tensors", arch, act, *map(str, shape), str(k)], check=True,
                         capture_output=True, text=True).stdout
    table = []
    for line in out.splitlines():
        name, off, *dims = line.split()
        table.append((name, int(off), tuple(int(d) for d in dims)))
    return table


def torch_side(arch, act, table, theta, x, y, k, dtype):
    """[loglik, gradient (P), probabilities (rows, k)] from PyTorch in dtype."""
    params = {name: torch.tensor(theta[off:off + math.prod(s)].reshape(s), dtype=dtype,
                                 requires_grad=True) for name, off, s in table}
    logits = Net(SPECS.get(arch, arch[4:]), params, act)(torch.tensor(x, dtype=dtype), k)
    ll = torch.log_softmax(logits, dim=1)[torch.arange(len(y)),
                                          torch.tensor(y, dtype=torch.long)].sum()
    ll.backward()
    grad = np.concatenate([params[name].grad.double().numpy().ravel() for name, _, _ in table])
    probs = torch.softmax(logits, dim=1).detach().double().numpy().ravel()
    return np.array([ll.item()]), grad, probs


def compare(out, ref, table, n_params):
    """Relative errors of bnnmc's out against ref: loglik, probabilities, each tensor."""
    ll, grad, probs = ref
    errs = {"loglik": abs(out[0] - ll[0]) / abs(ll[0]),
            "probs": np.max(np.abs(out[1 + n_params:] - probs)) / np.max(np.abs(probs))}
    for name, off, s in table:
        g = grad[off:off + math.prod(s)]
        c = out[1 + off:1 + off + g.size]
        errs[name] = np.max(np.abs(c - g)) / max(np.max(np.abs(g)), 1e-300)
    return errs


def check(helper, arch, act, shape, k, rows, prec, seed, ref=False):
    rng = np.random.default_rng(seed)
    table = tensor_table(helper, arch, act, shape, k)
    n_params = sum(math.prod(s) for _, _, s in table)
    theta = np.empty(n_params)
    for name, off, s in table:  # weights N(0, 1/fan_in), offsets N(0, 0.1²), γ around 1
        size = math.prod(s)
        fan_in = math.prod(s[:-1]) if len(s) > 1 else 1
        sd = 0.1 if name.endswith((".b", ".beta", ".tau")) else 1 / math.sqrt(fan_in)
        theta[off:off + size] = rng.normal(0, sd, size) + (1 if name.endswith("gamma") else 0)
    x = rng.normal(size=(rows, *shape))
    y = rng.integers(0, k, size=rows).astype(np.float64)
    with tempfile.TemporaryDirectory() as d:
        for name, a in (("theta", theta), ("x", x), ("y", y)):
            a.astype(np.float64).tofile(os.path.join(d, name + ".f64"))
        cmd = [helper, "eval", arch, act, *map(str, shape), str(k), prec, str(rows), d]
        subprocess.run(cmd + (["ref"] if ref else []), check=True)
        out = np.fromfile(os.path.join(d, "out.f64"))
    truth = torch_side(arch, act, table, theta, x, y, k, torch.float64)
    errs = compare(out, truth, table, n_params)
    info = ""
    if prec == "float32":  # PyTorch's own float32 rounding, for scale
        e32 = compare(np.concatenate(torch_side(arch, act, table, theta, x, y, k,
                                                torch.float32)), truth, table, n_params)
        info = f" [torch float32: {max(e32.values()):.1e}]"
    worst = max(errs, key=errs.get)
    ok = errs[worst] <= TOL[prec]
    label = f"{arch} {act} {prec} {'x'.join(map(str, shape))}{' reference' if ref else ''}"
    print(f"{'ok' if ok else 'not ok'} torch {label}: loglik {errs['loglik']:.1e}, probs "
          f"{errs['probs']:.1e}, worst tensor {worst} {errs[worst]:.1e} (tol {TOL[prec]:.0e})"
          f"{info}")
    return ok


def main():
    helper = sys.argv[1]
    torch.set_num_threads(1)
    cases = [  # (arch, act, H, W, C, classes, rows)
        ("cnn:c4k3s2", "tanh", (9, 8, 2), 3, 3),        # conv stride 2 "same" (asymmetric pad)
        ("cnn:c4k5v,a2", "swish", (10, 9, 3), 4, 2),    # valid conv, average pooling
        ("cnn:c3f,m2", "tanh", (8, 6, 2), 3, 3),        # FRN (TLU), max pooling
        ("cnn:c5k1s2f,r4s2,g", "swish", (12, 12, 3), 5, 2),  # 1x1 conv, residual block, GAP
        ("cnn:d5,d4", "erf", (3, 4, 2), 3, 4),          # flatten + dense
        ("lenet5", "tanh", (28, 28, 1), 10, 3),
        ("resnet20-frn", "swish", (32, 32, 3), 10, 2),
    ]
    ok = True
    for i, (arch, act, shape, k, rows) in enumerate(cases):
        for prec in ("float64", "float32"):
            ok &= check(helper, arch, act, shape, k, rows, prec, seed=i)
    ok &= check(helper, "resnet20-frn", "swish", (32, 32, 3), 10, 2, "float32", 6, ref=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
