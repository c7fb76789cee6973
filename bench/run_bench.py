#!/usr/bin/python3
# Runs `bnnmc bench` and the same workloads in PyTorch alternately, round after round in one
# process, and prints a Markdown table of times and ratios (median over rounds). See README.md.
import argparse
import ctypes
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

# PyTorch's OpenMP threads spin by default, which makes small models 10-20x slower when two
# threads share two cores; this must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models  # noqa: E402

# reps: gradients timed per round by each tool; lf: leapfrog steps per HMC iteration;
# target: the issue-6 bound on bnnmc / PyTorch (None: no bound).
WORKLOADS = [
    dict(name="MLP 784-100-10 tanh", arch="mlp:100", act="tanh", **{"in": 784}, classes=10,
         lik="categorical", n=60000, reps=5, lf=5, target=0.6, quick=True),
    dict(name="MLP 784-1000-1000-10 tanh", arch="mlp:1000,1000", act="tanh", **{"in": 784},
         classes=10, lik="categorical", n=60000, reps=2, lf=1, target=0.6, quick=False,
         rounds=1),
    dict(name="MLP 64-100-10 tanh", arch="mlp:100", act="tanh", **{"in": 64}, classes=10,
         lik="categorical", n=1797, reps=100, lf=20, target=0.6, quick=True),
    dict(name="MLP 13-50-1 regression", arch="mlp:50", act="tanh", **{"in": 13}, classes=1,
         lik="gaussian", n=506, reps=300, lf=50, target=0.1, quick=True),
    dict(name="LeNet-5", arch="lenet5", act="relu", image=(28, 28, 1), classes=10,
         lik="categorical", n=10000, reps=2, lf=1, target=0.5, quick=True, rounds=2),
    dict(name="ResNet-20-FRN swish", arch="resnet20-frn", act="swish", image=(32, 32, 3),
         classes=10, lik="categorical", n=1000, reps=2, lf=1, target=0.5, quick=False, rounds=1),
]


def bnnmc_args(w, threads, precision, reps, blas):
    shape = ["--image", "x".join(map(str, w["image"]))] if w.get("image") else ["--in",
                                                                                  str(w["in"])]
    args = ["bench", "--arch", w["arch"], "--act", w["act"], *shape, "--classes",
            str(w["classes"]), "--likelihood", w["lik"], "--n", str(w["n"]), "--threads",
            str(threads), "--precision", precision, "--reps", str(reps), "--leapfrog",
            str(w["lf"]), "--json"]
    return args + ([] if blas else ["--no-blas"])


def run_bnnmc(exe, args):
    """The JSON of one `bnnmc bench` run, or (None, message) when it fails."""
    p = subprocess.run([exe, *args], capture_output=True, text=True)
    if p.returncode != 0:
        return None, (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
    return json.loads(p.stdout), None


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def time_torch(grad, reps):
    """Median and fastest time (ms) of reps gradients after a warm-up one."""
    grad()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        grad()
        ms.append((time.perf_counter() - t0) * 1e3)
    return median(ms), min(ms)


def memory_budget_mb(w, threads, precision, block_rows):
    """Issue 6's bound on memory beyond the data: 4 × parameters plus one block's activations
    (block_rows rows, per thread), for MLPs; None for other nets."""
    if not w["arch"].startswith("mlp:"):
        return None
    widths = [w["in"]] + [int(h) for h in w["arch"][4:].split(",")] + [w["classes"]]
    params = sum(widths[i] * widths[i + 1] + widths[i + 1] for i in range(len(widths) - 1))
    block = block_rows * (2 * sum(widths[1:-1]) + widths[-1] + 2 * max(widths[1:]))
    size = 4 if precision == "float32" else 8
    return (4 * params + threads * block) * size / 2**20


def set_torch_threads(threads):
    """PyTorch's intra-op threads and the BLAS it calls. Debian's torch calls OpenBLAS (the
    pthread build, through libblas.so.3), whose own thread pool torch.set_num_threads does not
    touch: without this a "1-thread" PyTorch gradient runs its products on every core."""
    torch.set_num_threads(threads)
    try:
        ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(threads)
    except (OSError, AttributeError):
        pass  # another BLAS: it follows OpenMP (torch's threads) or its own variables


def measure(exe, w, threads, precision, rounds, base_rss):
    """Alternates bnnmc and PyTorch for `rounds` rounds; returns a result row (dict)."""
    row = dict(workload=w["name"], threads=threads, precision=precision, target=w["target"])
    first, err = run_bnnmc(exe, bnnmc_args(w, 1, precision, 1, False) + ["--n", "1"])
    if first is None:
        row["note"] = "bnnmc: " + err
        return row
    set_torch_threads(threads)
    dtype = torch.float32 if precision == "float32" else torch.float64
    net, x, y = torch_models.build(w, dtype)
    grad = torch_models.log_posterior_grad(net, x, y, w["lik"])
    b_ms, t_ms, ratios, min_ratios, lf, blas, rss = [], [], [], [], [], None, []
    for r in range(rounds):
        # the BLAS reference is timed in the first round only, the leapfrog step in every one
        args = bnnmc_args(w, threads, precision, w["reps"], r == 0)
        out, err = run_bnnmc(exe, args)
        if out is None:
            row["note"] = "bnnmc: " + err
            return row
        tt, t_min = time_torch(grad, w["reps"])
        b_ms.append(out["ms_per_grad"])
        t_ms.append(tt)
        ratios.append(out["ms_per_grad"] / tt)
        min_ratios.append(out["ms_per_grad_min"] / t_min)
        if out["ms_per_leapfrog"]:
            lf.append(out["ms_per_leapfrog"] / out["ms_per_grad"] - 1)
        rss.append(out["max_rss_mb"] - out["data_mb"] - base_rss)
        if r == 0:
            blas, row["gflops"], row["n_params"] = out["ms_blas"], out["gflops"], out["n_params"]
            row["block_rows"] = out["block_rows"]
    row.update(bnnmc_ms=median(b_ms), torch_ms=median(t_ms), ratio=median(ratios),
               ratio_fastest=min(min_ratios),
               leapfrog_over=median(lf), ms_blas=blas, rss_beyond_data=median(rss),
               rounds=rounds,
               rss_budget=memory_budget_mb(w, threads, precision, row["block_rows"]))
    if blas:
        row["ratio_blas"] = row["bnnmc_ms"] / blas
    return row


def stan_env():
    """The environment for Rscript with rstan, or None (and why) when it can't compile models.
    Debian's r-cran-bh is an empty package (Boost lives in /usr/include) while rstan looks for
    the headers in BH/include: a private library with that link stands in front of it."""
    try:
        ok = subprocess.run(["Rscript", "-e", "library(rstan)"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    if not ok:
        return None, "Rscript with rstan not found (apt-get install r-cran-rstan r-cran-bh)"
    env = dict(os.environ)
    probe = subprocess.run(["Rscript", "-e", "cat(system.file('include', package = 'BH'))"],
                           capture_output=True, text=True).stdout.strip()
    if not probe and os.path.isdir("/usr/include/boost"):
        lib = os.path.join(os.environ.get("TMPDIR", "/tmp"), "bnnmc-bench-rlib")
        bh = os.path.join(lib, "BH")
        if not os.path.isdir(bh):
            shutil.copytree("/usr/lib/R/site-library/BH", bh)
        if not os.path.exists(os.path.join(bh, "include")):
            os.symlink("/usr/include", os.path.join(bh, "include"))
        env["R_LIBS"] = lib
    return env, None


STAN_WORKLOADS = [w for w in WORKLOADS if w["name"].startswith(("MLP 64-100-10", "MLP 13-50-1"))]


def stan_rows(exe, rounds):
    """Stan's gradient (double, one thread) against bnnmc's float64 one-thread gradient for the
    small MLPs, alternating bnnmc, Stan, bnnmc; target: bnnmc ≤ 0.05 × Stan."""
    env, why = stan_env()
    if env is None:
        return [dict(workload=w["name"], note=why) for w in STAN_WORKLOADS]
    here = os.path.dirname(os.path.abspath(__file__))
    rows = []
    for w in STAN_WORKLOADS:
        row = dict(workload=w["name"])
        b = []
        for _ in range(2):
            out, err = run_bnnmc(exe, bnnmc_args(w, 1, "float64", w["reps"], False))
            if out is None:
                row["note"] = "bnnmc: " + err
                break
            b.append(out["ms_per_grad"])
            if len(b) == 2:
                break
            p = subprocess.run(["Rscript", os.path.join(here, "stan_grad.R"), str(w["in"]),
                                w["arch"][4:], str(w["classes"]), w["lik"], str(w["n"]),
                                str(w["reps"]), str(rounds)], capture_output=True, text=True,
                               env=env)
            if p.returncode != 0:
                row["note"] = "stan: " + (p.stderr.strip().splitlines() or ["failed"])[-1]
                break
            row.update(json.loads(p.stdout.strip().splitlines()[-1]))
        if "note" not in row:
            row.update(bnnmc_ms=median(b), ratio=median(b) / row["ms_per_grad"])
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def stan_table(rows):
    lines = ["| workload | bnnmc ms (float64, 1 thread) | Stan ms (grad_log_prob) | bnnmc/Stan (target ≤ 0.05) | met |",
             "|---|---|---|---|---|"]
    for r in rows:
        if "note" in r:
            lines.append("| %s | — | — | — | skipped: %s |" % (r["workload"], r["note"]))
        else:
            lines.append("| %s | %s | %s | %s | %s |" % (
                r["workload"], fmt(r["bnnmc_ms"], 4), fmt(r["ms_per_grad"], 4), fmt(r["ratio"], 3),
                "yes" if r["ratio"] <= 0.05 else "no"))
    return "\n".join(lines)


def fmt(v, digits=3):
    if v is None:
        return "—"
    return "%.*g" % (digits, v)


def verdict(row):
    """'yes'/'no' for each target that applies to the row."""
    out = []
    if "ratio" in row:
        out.append("torch %s" % ("yes" if row["ratio"] <= row["target"] else "no"))
        out.append("leapfrog %s" % ("yes" if row["leapfrog_over"] <= 0.03 else "no"))
    if row["workload"].startswith("MLP 784-100-10") and row.get("ratio_blas"):
        out.append("BLAS %s" % ("yes" if row["ratio_blas"] <= 1.15 else "no"))
    if row.get("rss_budget"):
        out.append("memory %s" % ("yes" if row["rss_beyond_data"] <= row["rss_budget"] else "no"))
    return ", ".join(out)


def table(rows):
    lines = ["| workload | thr | precision | bnnmc ms | PyTorch ms | bnnmc/PyTorch (target) | fastest/fastest | "
             "leapfrog over grad | GFLOP/s | BLAS ms | bnnmc/BLAS | memory MiB (bound) | met |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "note" in r:
            lines.append("| %s | %d | %s | — | — | — | — | — | — | — | — | — | skipped: %s |" % (
                r["workload"], r["threads"], r["precision"], r["note"]))
            continue
        lines.append("| %s | %d | %s | %s | %s | %s (≤ %s) | %s | %+.1f %% | %s | %s | %s | %s | %s |"
                     % (r["workload"], r["threads"], r["precision"], fmt(r["bnnmc_ms"], 4),
                        fmt(r["torch_ms"], 4), fmt(r["ratio"], 3), r["target"],
                        fmt(r["ratio_fastest"], 3), 100 * r["leapfrog_over"], fmt(r.get("gflops")), fmt(r.get("ms_blas"), 4),
                        fmt(r.get("ratio_blas")),
                        "%s (%s)" % (fmt(r["rss_beyond_data"], 3), fmt(r["rss_budget"], 2)),
                        verdict(r)))
    return "\n".join(lines)


def sgemm_lines(exe, threads_list):
    """The BLAS rate for the GEMM shapes of MLP 784-100-10 (N=60000): the hardware line; and
    for one large square product in float32 and float64, the machine's practical peak."""
    shapes = [(60000, 100, 784, "forward x·W1", "float32"),
              (784, 100, 60000, "weight gradient shape", "float32"),
              (60000, 10, 100, "forward a·W2", "float32"),
              (2048, 2048, 2048, "square: practical peak", "float32"),
              (2048, 2048, 2048, "square: practical peak", "float64")]
    out = []
    for t in threads_list:
        for m, n, k, what, precision in shapes:
            res, err = run_bnnmc(exe, ["bench", "--sgemm", "%d,%d,%d" % (m, n, k), "--threads",
                                       str(t), "--precision", precision, "--reps", "5", "--json"])
            if res:
                out.append("- %s %d×%d×%d (%s), %d thread%s: %.3g ms, %.3g GFLOP/s" % (
                    "sgemm" if precision == "float32" else "dgemm", m, n, k, what, t,
                    "s" if t > 1 else "", res["ms"], res["gflops"]))
    return out


def machine():
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "%s, %d cores online, %s; PyTorch %s; %s" % (
        model, os.cpu_count(), platform.platform(), torch.__version__,
        datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--bnnmc", default=os.path.join(here, "..", "build", "bnnmc"))
    ap.add_argument("--quick", action="store_true",
                    help="MLPs 784-100-10, 64-100-10 and 13-50-1 (+ LeNet-5), float32, 3 rounds")
    ap.add_argument("--rounds", type=int, default=5, help="alternations per configuration")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--precision", default=None, help="float32,float64 (quick: float32)")
    ap.add_argument("--only", help="workloads whose name contains this text")
    ap.add_argument("--json-out", help="also write the rows as JSON to this file")
    ap.add_argument("--no-stan", action="store_true",
                    help="skip the Stan comparison (it compiles two models: about 2 minutes)")
    a = ap.parse_args()
    threads = [int(t) for t in a.threads.split(",")]
    precisions = (a.precision or ("float32" if a.quick else "float32,float64")).split(",")
    rounds = 3 if a.quick and a.rounds == 5 else a.rounds
    torch.set_num_interop_threads(1)
    print("machine: " + machine())
    print("OMP_WAIT_POLICY=%s, OPENBLAS_CORETYPE=%s, load average before: %s" % (
        os.environ.get("OMP_WAIT_POLICY"), os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        " ".join("%.2f" % v for v in os.getloadavg())), flush=True)
    # resident memory of a trivial run (libraries, BLAS buffers), left out of the memory column
    base, _ = run_bnnmc(a.bnnmc, ["bench", "--arch", "linear", "--in", "1", "--classes", "2",
                                  "--n", "1", "--reps", "1", "--leapfrog", "0", "--no-blas",
                                  "--json"])
    base_rss = base["max_rss_mb"] if base else 0
    rows = []
    for w in WORKLOADS:
        if (a.quick and not w["quick"]) or (a.only and a.only not in w["name"]):
            continue
        for p in precisions:
            for t in threads:
                row = measure(a.bnnmc, w, t, p, min(rounds, w.get("rounds", rounds)), base_rss)
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
    print()
    print(table(rows))
    print()
    if not a.no_stan and not a.quick:
        print("Stan comparison (bnnmc float64, one thread; Stan %s rounds of the same reps):" % rounds)
        print(stan_table(stan_rows(a.bnnmc, rounds)))
        print()
    print("\n".join(sgemm_lines(a.bnnmc, threads)))
    print("load average after: " + " ".join("%.2f" % v for v in os.getloadavg()))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
