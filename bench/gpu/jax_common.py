"""What the JAX sides of the GPU benchmark share (jax_bench.py for MLPs, jax_cnn_bench.py for
CNNs): one HMC iteration as a jit-able function (momentum draw, a lax.scan of leapfrog steps,
kinetic energy, Metropolis test) and the timing of a jitted call. JAX is imported inside the
functions, so that importing this module needs no JAX (the CPU tests import the CNN script)."""
import statistics
import time


def make_trajectory(value_and_grad, n_steps, eps):
    """One HMC iteration of the log posterior whose value_and_grad(params, x, y) is given:
    momentum draw, n_steps leapfrog steps (lax.scan, the gradient of the last step reused),
    kinetic energy and the Metropolis test."""
    import jax
    import jax.numpy as jnp
    tree_map = jax.tree_util.tree_map

    def iteration(params, key, x, y):
        k_mom, k_acc = jax.random.split(key)
        leaves, treedef = jax.tree_util.tree_flatten(params)
        keys = jax.random.split(k_mom, len(leaves))
        p = jax.tree_util.tree_unflatten(
            treedef, [jax.random.normal(k, l.shape, l.dtype) for k, l in zip(keys, leaves)])
        logp0, g0 = value_and_grad(params, x, y)
        kinetic0 = 0.5 * sum(jnp.sum(v * v) for v in jax.tree_util.tree_leaves(p))

        def step(carry, _):
            q, p, g = carry
            p = tree_map(lambda pi, gi: pi + 0.5 * eps * gi, p, g)
            q = tree_map(lambda qi, pi: qi + eps * pi, q, p)
            logp, g = value_and_grad(q, x, y)
            p = tree_map(lambda pi, gi: pi + 0.5 * eps * gi, p, g)
            return (q, p, g), logp

        (q, p, _), logps = jax.lax.scan(step, (params, p, g0), None, length=n_steps)
        kinetic1 = 0.5 * sum(jnp.sum(v * v) for v in jax.tree_util.tree_leaves(p))
        log_ratio = (logps[-1] - kinetic1) - (logp0 - kinetic0)
        accept = jnp.log(jax.random.uniform(k_acc)) < log_ratio
        new = tree_map(lambda a_, b_: jnp.where(accept, a_, b_), q, params)
        return new, accept
    return iteration


def median_ms(fn, args, reps):
    import jax
    jax.block_until_ready(fn(*args))  # compile and warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)
