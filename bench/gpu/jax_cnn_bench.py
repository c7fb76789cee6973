#!/usr/bin/env python3
"""JAX side of the GPU benchmark for bnnmc's convolutional nets (lenet5, resnet20-frn, cnn:SPEC):
the same log posterior as `bnnmc bench --device cuda --arch ARCH --image HxWxC` (the layer graph
of src/nn/cnn.c, categorical likelihood, Gaussian prior with variance 1/fan-in on the weights and
1 on biases and FRN parameters, synthetic standard-normal images), its gradient under jax.jit and
a whole HMC trajectory as a jit-compiled lax.scan of leapfrog steps. Prints one JSON object, with
the keys of jax_bench.py plus arch, image, act, n_params (counted from the parameter pytree; it
equals bnnmc's), micro and flops_per_grad / gflops (bnnmc bench's counting rule).

Times: median over --reps calls after compilation, each call ended by block_until_ready.
--precision highest: float32 convolutions and matmuls (jax.lax.Precision.HIGHEST on every conv
and dot); default: JAX's default on the GPU (TF32 tensor cores on Ampere and later).

--micro M: the full-batch gradient as a lax.scan over micro-batches of M rows, summing their
gradients (for when all N rows' activations do not fit; the last, shorter micro-batch, if any, is
done after the scan). Without it, all rows go through the net at once. JAX lets XLA take 75 % of
the GPU memory by default; set XLA_PYTHON_CLIENT_MEM_FRACTION=0.95 for more (with it, ResNet-20-FRN
on all N = 50 000 CIFAR-sized rows, gradient and trajectory, ran without --micro on an H200).

The network is built by the same rules as cnn.c (layer spec grammar, parameter names conv<i>.w
(K,K,C,O) / conv<i>.b, frn<i>.gamma/.beta/.tau, dense<i>.w (I,O) / dense<i>.b, TensorFlow "SAME"
padding with the extra row after, residual blocks with a 1x1 conv + FRN projection when the shape
changes); the forward pass is written against a small table of primitives so that
test_jax_cnn_bench.py can run the same graph in PyTorch against bnnmc without JAX.
JAX is imported only after the arguments are read (--help works without it).
"""
import argparse
import json
import math
import re
import sys

from jax_common import make_trajectory, median_ms

LENET5_SPEC = "c6k5,m2,c16k5v,m2,d120,d84"
RESNET20_FRN_SPEC = "c16f,r16,r16,r16,r32s2,r32,r32,r64s2,r64,r64,g"
FRN_EPS = 1e-6  # BNN_FRN_EPS (src/nn/layers/layers.h)
ACTS = ("tanh", "relu", "swish", "erf")


# ----------------------------------------------------------------------------------------------
# The layer graph, in plain Python (no JAX, no numpy): a transcription of src/nn/cnn.c.

def expand_arch(arch):
    if arch == "lenet5":
        return LENET5_SPEC
    if arch == "resnet20-frn":
        return RESNET20_FRN_SPEC
    if arch.startswith("cnn:"):
        return arch[4:]
    raise ValueError(f"--arch '{arch}': not a CNN (lenet5, resnet20-frn or cnn:SPEC)")


def default_activation(arch):
    """bnn_cnn_default_activation: swish for resnet20-frn (the paper's model), else tanh."""
    return "swish" if arch == "resnet20-frn" else "tanh"


def conv_shape(h, w, k, stride, same):
    """bnn_conv_shape_init: (oh, ow, ((top, bottom), (left, right))). "same" is TensorFlow's:
    output ceil(h/stride), padding (oh-1)*stride + k - h split with the extra row after; a negative
    'after' (input rows the strided window never reaches) is clamped to 0, which leaves the output
    size unchanged."""
    def one(n):
        if same:
            o = (n + stride - 1) // stride
            need = (o - 1) * stride + k
            before = (need - n) // 2 if need > n else 0
            after = max(need - n - before, 0)
            return o, (before, after)
        o = (n - k) // stride + 1 if n >= k else 0
        return o, (0, 0)
    oh, ph = one(h)
    ow, pw = one(w)
    return oh, ow, (ph, pw)


class Graph:
    """Nodes (dicts with op, in, in2, out and the op's fields) over activations 0..n_acts-1 (0:
    the input images), and the parameter tensors (name, shape, prior variance) in bnnmc's order
    (bnnmc's flat θ is these tensors concatenated, each in C order)."""

    def __init__(self, arch, image, classes):
        self.arch = arch
        self.nodes, self.tensors = [], []
        self.shape = [tuple(image)]  # (h, w, c) of each activation
        self.cur = 0
        self.n = {"conv": 0, "frn": 0, "dense": 0}
        for tok in expand_arch(arch).split(","):
            self._token(tok)
        self._dense(classes)
        self.n_params = sum(math.prod(s) for _, s, _ in self.tensors)

    def _fail(self, msg):
        raise ValueError(f"--arch '{self.arch}': {msg}")

    def _node(self, op, shape, **fields):
        nd = dict(op=op, inp=self.cur, out=len(self.shape), **fields)
        self.shape.append(tuple(shape))
        self.nodes.append(nd)
        self.cur = nd["out"]
        return nd

    def _tensor(self, kind, part, shape, var):
        name = f"{kind}{self.n[kind]}.{part}"
        self.tensors.append((name, tuple(shape), var))
        return name

    def _act(self):
        self._node("act", self.shape[self.cur])

    def _conv(self, o, k, stride, same):
        h, w, c = self.shape[self.cur]
        oh, ow, pads = conv_shape(h, w, k, stride, same)
        if not oh or not ow:
            self._fail(f"a {k}x{k} valid convolution does not fit a {h}x{w} input")
        fan_in = k * k * c
        wn = self._tensor("conv", "w", (k, k, c, o), 1.0 / fan_in)
        bn = self._tensor("conv", "b", (o,), 1.0)
        self.n["conv"] += 1
        self._node("conv", (oh, ow, o), w=wn, b=bn, stride=stride, pads=pads,
                   macs=oh * ow * o * fan_in)

    def _frn(self):
        c = self.shape[self.cur][2]
        names = [self._tensor("frn", part, (c,), 1.0) for part in ("gamma", "beta", "tau")]
        self.n["frn"] += 1
        self._node("frn", self.shape[self.cur], gamma=names[0], beta=names[1], tau=names[2])

    def _pool(self, op, k):
        h, w, c = self.shape[self.cur]
        if k > h or k > w:
            self._fail(f"pooling window {k} larger than the {h}x{w} input")
        self._node(op, ((h - k) // k + 1, (w - k) // k + 1, c), k=k)

    def _gap(self):
        self._node("gap", (1, 1, self.shape[self.cur][2]))

    def _dense(self, o):
        n_in = math.prod(self.shape[self.cur])
        wn = self._tensor("dense", "w", (n_in, o), 1.0 / n_in)
        bn = self._tensor("dense", "b", (o,), 1.0)
        self.n["dense"] += 1
        self._node("dense", (1, 1, o), w=wn, b=bn, macs=n_in * o)

    def _res_block(self, o, stride):
        x = self.cur
        self._conv(o, 3, stride, True)
        self._frn()
        self._act()
        self._conv(o, 3, 1, True)
        self._frn()
        y, shortcut = self.cur, x
        if stride != 1 or self.shape[x][2] != o:
            self.cur = x
            self._conv(o, 1, stride, True)
            self._frn()
            shortcut = self.cur
        self.cur = shortcut
        if self.shape[shortcut] != self.shape[y]:
            self._fail(f"residual block r{o}s{stride}: shapes {self.shape[shortcut]} and "
                       f"{self.shape[y]} differ")
        self._node("add", self.shape[y], in2=y)
        self._act()

    def _token(self, tok):
        size = r"([1-9][0-9]*)"
        m = re.fullmatch(rf"c{size}(?:k{size})?(?:s{size})?(v?)(f?)", tok)
        if m:
            self._conv(int(m[1]), int(m[2] or 3), int(m[3] or 1), not m[4])
            if m[5]:
                self._frn()
            return self._act()
        m = re.fullmatch(rf"r{size}(?:s{size})?", tok)
        if m:
            return self._res_block(int(m[1]), int(m[2] or 1))
        m = re.fullmatch(rf"([ma]){size}", tok)
        if m:
            return self._pool("maxpool" if m[1] == "m" else "avgpool", int(m[2]))
        if tok == "g":
            return self._gap()
        m = re.fullmatch(rf"d{size}", tok)
        if m:
            self._dense(int(m[1]))
            return self._act()
        self._fail(f"cannot read layer '{tok}'")

    def flops_per_row(self):
        """bnn_bench_cnn_flops / rows: 2 products (forward, weight gradient) for a layer reading
        the images, 3 for the others, 2 flops per multiply-add; other ops not counted."""
        return sum((2 if nd["inp"] == 0 else 3) * 2 * nd["macs"]
                   for nd in self.nodes if nd["op"] in ("conv", "dense"))


def forward(graph, params, x, ops):
    """Logits (n, classes) of images x (n, h, w, c) NHWC; params maps tensor names to arrays;
    ops is the table of primitives (jax_ops below, or the test's PyTorch one)."""
    a = [x] + [None] * len(graph.nodes)
    for nd in graph.nodes:
        v, op = a[nd["inp"]], nd["op"]
        if op == "conv":
            out = ops.conv(v, params[nd["w"]], params[nd["b"]], nd["stride"], nd["pads"])
        elif op == "frn":
            out = ops.frn(v, params[nd["gamma"]], params[nd["beta"]], params[nd["tau"]])
        elif op == "act":
            out = ops.act(v)
        elif op == "maxpool":
            out = ops.maxpool(v, nd["k"])
        elif op == "avgpool":
            out = ops.avgpool(v, nd["k"])
        elif op == "gap":
            out = ops.gap(v)
        elif op == "add":
            out = v + a[nd["in2"]]
        else:  # dense on the flattened (HWC order) input
            out = ops.dense(v, params[nd["w"]], params[nd["b"]])
        want = graph.shape[nd["out"]]
        got = tuple(out.shape[1:])
        if len(got) == 1:  # (n, c) after a GAP or dense layer: shape (1, 1, c) in bnnmc
            got = (1, 1) + got
        if got != want:
            raise AssertionError(f"node {nd}: output {got}, bnnmc's {want}")
        a[nd["out"]] = out
    return a[-1]


# ----------------------------------------------------------------------------------------------
# JAX.

def jax_ops(act, precision):
    import types
    import jax
    import jax.numpy as jnp
    from jax import lax

    acts = {"tanh": jnp.tanh, "relu": lambda z: jnp.maximum(z, 0),
            "swish": lambda z: z * jax.nn.sigmoid(z), "erf": lax.erf}

    def conv(x, w, b, stride, pads):
        y = lax.conv_general_dilated(x, w, window_strides=(stride, stride), padding=pads,
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                     precision=precision)
        return y + b

    def frn(x, gamma, beta, tau):
        nu2 = jnp.mean(x * x, axis=(1, 2), keepdims=True)
        return jnp.maximum(gamma * (x * lax.rsqrt(nu2 + FRN_EPS)) + beta, tau)

    def windows(x, k):  # (n, oh, k, ow, k, c): window = stride = k, no padding
        n, h, w, c = x.shape
        oh, ow = h // k, w // k
        return x[:, :oh * k, :ow * k, :].reshape(n, oh, k, ow, k, c)

    def dense(x, w, b):
        return jnp.dot(x.reshape(x.shape[0], -1), w, precision=precision) + b

    return types.SimpleNamespace(
        conv=conv, frn=frn, act=acts[act], dense=dense,
        maxpool=lambda x, k: jnp.max(windows(x, k), axis=(2, 4)),
        avgpool=lambda x, k: jnp.mean(windows(x, k), axis=(2, 4)),
        gap=lambda x: jnp.mean(x, axis=(1, 2)))


def make_problem(a, graph):
    """Synthetic images and labels, and a prior draw of the parameters (a dict name -> array):
    weights N(0, 1/fan-in), biases and FRN parameters N(0, 1), as bnnmc's prior."""
    import jax.numpy as jnp
    import numpy as np
    rng = np.random.default_rng(a.seed)
    x = jnp.asarray(rng.standard_normal((a.n, *a.image), dtype=np.float32))
    y = jnp.asarray(rng.integers(0, a.classes, size=a.n, dtype=np.int32))
    params = {}
    for name, shape, var in graph.tensors:
        v = rng.standard_normal(shape, dtype=np.float32) * np.float32(math.sqrt(var))
        params[name] = jnp.asarray(v)
    prior_var = {name: var for name, _, var in graph.tensors}
    return x, y, params, prior_var


def make_functions(graph, ops, prior_var, micro, n):
    """log_posterior(params, x, y) and value_and_grad(params, x, y) -> (log posterior, gradient),
    the latter over micro-batches of `micro` rows when micro is set."""
    import jax
    import jax.numpy as jnp
    tree_map = jax.tree_util.tree_map

    def log_lik(params, x, y):
        logp = jax.nn.log_softmax(forward(graph, params, x, ops), axis=-1)
        return jnp.sum(jnp.take_along_axis(logp, y[:, None], axis=1))

    def log_prior(params):
        lp = 0.0
        for name, v in params.items():
            lp = lp - 0.5 * jnp.sum(v * v) / prior_var[name]
        return lp

    def log_posterior(params, x, y):
        return log_lik(params, x, y) + log_prior(params)

    if not micro or micro >= n:
        return log_posterior, jax.value_and_grad(log_posterior), jax.grad(log_posterior)

    vg_lik, vg_prior = jax.value_and_grad(log_lik), jax.value_and_grad(log_prior)
    n_full = n // micro

    def value_and_grad(params, x, y):
        def body(carry, xy):
            v, g = carry
            vi, gi = vg_lik(params, xy[0], xy[1])
            return (v + vi, tree_map(jnp.add, g, gi)), None

        head = slice(0, n_full * micro)
        xs = (x if n % micro == 0 else x[head]).reshape((n_full, micro) + x.shape[1:])
        ys = (y if n % micro == 0 else y[head]).reshape((n_full, micro))
        init = (jnp.zeros((), x.dtype), tree_map(jnp.zeros_like, params))
        (v, g), _ = jax.lax.scan(body, init, (xs, ys))
        if n % micro:
            vi, gi = vg_lik(params, x[n_full * micro:], y[n_full * micro:])
            v, g = v + vi, tree_map(jnp.add, g, gi)
        vp, gp = vg_prior(params)
        return v + vp, tree_map(jnp.add, g, gp)

    return log_posterior, value_and_grad, lambda params, x, y: value_and_grad(params, x, y)[1]


# ----------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="examples:\n  jax_cnn_bench.py --arch lenet5 --image 28x28x1 --classes 10 --n 60000\n"
               "  jax_cnn_bench.py --arch resnet20-frn --image 32x32x3 --classes 10 --n 50000 "
               "--micro 10000",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="lenet5",
                   help="lenet5 | resnet20-frn | cnn:SPEC, as bnnmc (default lenet5)")
    p.add_argument("--image", default=None,
                   help="HxWxC (default 28x28x1 for lenet5, 32x32x3 otherwise)")
    p.add_argument("--classes", type=int, default=10, help="classes (default 10)")
    p.add_argument("--n", type=int, default=None,
                   help="synthetic training rows (default 60000 for lenet5, 50000 otherwise)")
    p.add_argument("--act", choices=ACTS, default=None,
                   help="activation (default: swish for resnet20-frn, tanh otherwise, as "
                        "bnn_cnn_default_activation; NB bnnmc bench itself defaults to tanh "
                        "for every arch, so pass --act to both)")
    p.add_argument("--precision", choices=["highest", "default"], default="highest")
    p.add_argument("--reps", type=int, default=10, help="timed gradients (default 10)")
    p.add_argument("--leapfrog", type=int, default=10,
                   help="leapfrog steps per timed trajectory (default 10; 0: none)")
    p.add_argument("--micro", type=int, default=0,
                   help="rows per micro-batch of the gradient (default 0: all rows at once)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--shapes", action="store_true",
                   help="print the layer graph and parameter tensors and exit (no JAX needed)")
    a = p.parse_args(argv)
    if a.image is None:
        a.image = "28x28x1" if a.arch == "lenet5" else "32x32x3"
    try:
        a.image = tuple(int(v) for v in a.image.lower().split("x"))
    except ValueError:
        a.image = ()
    if len(a.image) != 3 or min(a.image) < 1:
        p.error("--image must be HxWxC with positive sizes")
    if a.n is None:
        a.n = 60000 if a.arch == "lenet5" else 50000
    if a.act is None:
        a.act = default_activation(a.arch)
    if a.n < 1 or a.reps < 1 or a.classes < 1 or a.leapfrog < 0 or a.micro < 0:
        p.error("--n, --reps and --classes must be positive, --leapfrog and --micro >= 0")
    try:
        a.graph = Graph(a.arch, a.image, a.classes)
    except ValueError as e:
        p.error(str(e))
    return a


def print_shapes(g):
    for nd in g.nodes:
        extra = {k: v for k, v in nd.items() if k not in ("op", "inp", "out", "macs")}
        print(f"{nd['op']:8s} a{nd['inp']} -> a{nd['out']} {g.shape[nd['out']]} {extra}")
    for name, shape, var in g.tensors:
        print(f"{name} {shape} var {var:.6g}")
    print(f"n_params {g.n_params}")


def main(argv):
    a = parse_args(argv)
    g = a.graph
    if a.shapes:
        print_shapes(g)
        return 0
    import jax  # deferred: --help and --shapes work without JAX
    precision = jax.lax.Precision.HIGHEST if a.precision == "highest" else None
    micro = a.micro if 0 < a.micro < a.n else 0
    x, y, params, prior_var = make_problem(a, g)
    n_params = sum(int(v.size) for v in jax.tree_util.tree_leaves(params))
    if n_params != g.n_params:
        raise AssertionError(f"pytree has {n_params} parameters, the graph {g.n_params}")
    ops = jax_ops(a.act, precision)
    _, value_and_grad, grad = make_functions(g, ops, prior_var, micro, a.n)
    new_key = getattr(jax.random, "key", None) or jax.random.PRNGKey
    key = new_key(a.seed)
    ms, ms_min = median_ms(jax.jit(grad), (params, x, y), a.reps)
    flops = g.flops_per_row() * a.n
    result = {"arch": a.arch, "image": "x".join(map(str, a.image)), "classes": a.classes,
              "act": a.act, "n": a.n, "n_params": n_params, "micro": micro or None,
              "chains": 1, "precision": a.precision,
              "ms_per_grad": ms, "ms_per_grad_min": ms_min, "ms_per_leapfrog": None,
              "flops_per_grad": flops, "gflops": flops / (ms * 1e6),
              "jax_version": jax.__version__, "device": str(jax.devices()[0].device_kind)}
    if a.leapfrog > 0:
        iteration = make_trajectory(value_and_grad, a.leapfrog, 1e-5)
        ms_iter, _ = median_ms(jax.jit(iteration), (params, key, x, y),
                               max(2, a.reps // a.leapfrog))
        # the iteration also takes the gradient at the start (bnnmc caches it): L + 1 gradients
        result["ms_per_leapfrog"] = ms_iter / (a.leapfrog + 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
