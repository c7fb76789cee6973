#!/usr/bin/env python3
"""JAX side of the GPU benchmark (bench/gpu/run.sh): the same MLP log posterior as
`bnnmc bench --device cuda` (tanh hidden layers, categorical likelihood, Gaussian prior with
variance 1/fan-in on the weights and 1 on the biases, synthetic standard-normal inputs), its
gradient under jax.jit, a whole HMC trajectory as a jit-compiled lax.scan of leapfrog steps, and
jax.vmap over K chains. Prints one JSON object.

Times: median over --reps calls after compilation, each call ended by block_until_ready.
--precision highest: float32 matmuls (jax.lax.Precision.HIGHEST); default: JAX's default on the
GPU (TF32 tensor cores on Ampere and later).
"""
import argparse
import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from jax_common import make_trajectory, median_ms


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--widths", default="784,100,10",
                   help="layer widths, inputs first and classes last (default 784,100,10)")
    p.add_argument("--n", type=int, default=60000, help="synthetic training rows")
    p.add_argument("--chains", type=int, default=1, help="K chains under jax.vmap (1: no vmap)")
    p.add_argument("--precision", choices=["highest", "default"], default="highest")
    p.add_argument("--reps", type=int, default=20, help="timed calls")
    p.add_argument("--leapfrog", type=int, default=10,
                   help="leapfrog steps per timed trajectory (0: none)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    a.widths = [int(w) for w in a.widths.split(",")]
    if len(a.widths) < 2 or min(a.widths) < 1 or a.n < 1 or a.chains < 1 or a.reps < 1:
        p.error("widths, --n, --chains and --reps must be positive (two widths at least)")
    return a


def make_problem(a):
    """Synthetic data and a prior draw of the parameters (a list of (w, b) per layer)."""
    rng = np.random.default_rng(a.seed)
    x = jnp.asarray(rng.standard_normal((a.n, a.widths[0]), dtype=np.float32))
    y = jnp.asarray(rng.integers(0, a.widths[-1], size=a.n, dtype=np.int32))
    params = []
    for i, o in zip(a.widths[:-1], a.widths[1:]):
        w = rng.standard_normal((i, o), dtype=np.float32) / np.float32(np.sqrt(i))
        b = rng.standard_normal((o,), dtype=np.float32)
        params.append((jnp.asarray(w), jnp.asarray(b)))
    prior_var = [(1.0 / i, 1.0) for i in a.widths[:-1]]
    return x, y, params, prior_var


def make_log_posterior(prior_var, precision):
    """log p(params | x, y); the data are arguments, not closed-over constants, so that XLA does
    not fold 190 MB of inputs into the compiled program."""
    def log_posterior(params, x, y):
        h = x
        for layer, (w, b) in enumerate(params):
            h = jnp.dot(h, w, precision=precision) + b
            if layer + 1 < len(params):
                h = jnp.tanh(h)
        logp = jax.nn.log_softmax(h, axis=-1)
        log_lik = jnp.sum(jnp.take_along_axis(logp, y[:, None], axis=1))
        log_prior = 0.0
        for (w, b), (vw, vb) in zip(params, prior_var):
            log_prior = log_prior - 0.5 * jnp.sum(w * w) / vw - 0.5 * jnp.sum(b * b) / vb
        return log_lik + log_prior
    return log_posterior


def main(argv):
    a = parse_args(argv)
    precision = jax.lax.Precision.HIGHEST if a.precision == "highest" else None
    x, y, params, prior_var = make_problem(a)
    log_posterior = make_log_posterior(prior_var, precision)
    grad = jax.grad(log_posterior)
    key = jax.random.PRNGKey(a.seed)
    if a.chains > 1:
        params = jax.tree_util.tree_map(lambda v: jnp.stack([v] * a.chains), params)
        grad = jax.vmap(grad, in_axes=(0, None, None))
    ms, ms_min = median_ms(jax.jit(grad), (params, x, y), a.reps)
    result = {"widths": a.widths, "n": a.n, "chains": a.chains, "precision": a.precision,
              "ms_per_grad": ms, "ms_per_grad_min": ms_min, "ms_per_leapfrog": None,
              "jax_version": jax.__version__, "device": str(jax.devices()[0].device_kind)}
    if a.leapfrog > 0:
        iteration = make_trajectory(jax.value_and_grad(log_posterior), a.leapfrog, 1e-5)
        if a.chains > 1:
            iteration = jax.vmap(iteration, in_axes=(0, 0, None, None))
            key = jax.random.split(key, a.chains)
        ms_iter, _ = median_ms(jax.jit(iteration), (params, key, x, y),
                               max(2, a.reps // a.leapfrog))
        # the iteration also takes the gradient at the start (bnnmc caches it): L + 1 gradients
        result["ms_per_leapfrog"] = ms_iter / (a.leapfrog + 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
