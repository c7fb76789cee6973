#!/usr/bin/python3
"""The Stan CSV export read by R's posterior (read.csv + as_draws_array, tests/export/
read_stan_csv.R): rhat, ess_bulk and ess_tail of every exported quantity equal `bnnmc summary
--json` on the same files and `bnnmc diagnose`'s per-quantity arrays of the run, to 1e-9 relative.

usage: test_export_posterior.py PATH/TO/bnnmc
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

if not shutil.which("Rscript") or subprocess.run(
        ["Rscript", "-e", "library(posterior)"], capture_output=True).returncode != 0:
    print("SKIP: Rscript with posterior not found (Debian: r-cran-posterior)")
    sys.exit(77)

bnnmc = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
failures = 0
TOL = 1e-9


def check(ok, what):
    global failures
    print(("ok " if ok else "not ok ") + what)
    failures += not ok


def run(*args):
    p = subprocess.run([bnnmc, *args], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"not ok bnnmc {args[0]}: {p.stderr}")
        sys.exit(1)
    return p.stdout


def rel_err(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    both_nan = np.isnan(a) & np.isnan(b)
    err = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
    return float(np.max(np.where(both_nan, 0, np.where(np.isnan(a) | np.isnan(b), np.inf, err))))


with tempfile.TemporaryDirectory() as tmp:
    d, out = os.path.join(tmp, "run"), os.path.join(tmp, "csv")
    run("sample", "--data", "digits", "--arch", "mlp:8", "--chains", "2", "--warmup", "10",
        "--samples", "20", "--fs-points", "10", "--quiet", "--out", d)
    run("diagnose", d)
    run("export", d, "--format", "stan-csv", "--out", out, "--vars", "p[0:3,*],layer1.b,layer0.w[3,*]")
    files = [os.path.join(out, f"output_{c}.csv") for c in (1, 2)]
    r_out = os.path.join(tmp, "r.csv")
    p = subprocess.run(["Rscript", os.path.join(here, "read_stan_csv.R"), r_out, *files],
                       capture_output=True, text=True)
    check(p.returncode == 0, "R posterior reads the exported CSVs: " + p.stderr.strip()[-300:])
    if p.returncode != 0:
        sys.exit(1)
    r = {row["variable"]: row for row in csv.DictReader(open(r_out))}
    num = lambda row, k: float("nan") if row[k] in ("NA", "") else float(row[k])  # noqa: E731
    summ = {v["variable"]: v for v in json.loads(run("summary", "--json", *files))["variables"]}
    check(set(summ) == set(r) and len(r) == 1 + 30 + 10 + 8,
          f"bnnmc summary and posterior see the same {len(r)} variables")
    for key in ("rhat", "ess_bulk", "ess_tail"):
        e = rel_err([summ[v][key] if summ[v][key] is not None else np.nan for v in r],
                    [num(r[v], key) for v in r])
        check(e <= TOL, f"{key}: bnnmc summary vs posterior, max relative error {e:.2e} <= {TOL}")
    js = json.load(open(os.path.join(d, "run.json")))
    blocks = {b["name"].replace(".", "_"): b for b in js["model"]["params"]}
    for key in ("rhat", "ess_bulk", "ess_tail"):
        fn = np.load(os.path.join(d, f"diag_function_{key}.npy"))
        wt = np.load(os.path.join(d, f"diag_weight_{key}.npy"))
        ours, theirs = [], []
        for v in r:
            if v == "lp__":
                continue
            name, *idx = v.split(".")
            idx = [int(i) - 1 for i in idx]
            if name == "p":
                ours.append(fn[idx[0], idx[1]])
            else:
                b = blocks[name]
                flat = idx[0] * b["shape"][1] + idx[1] if len(idx) == 2 else idx[0]
                ours.append(wt[b["offset"] + flat])
            theirs.append(num(r[v], key))
        e = rel_err(ours, theirs)
        check(e <= TOL and len(ours) == 48,
              f"{key}: bnnmc diagnose vs posterior on {len(ours)} exported quantities, "
              f"max relative error {e:.2e} <= {TOL}")

print("PASSED" if failures == 0 else f"FAILED ({failures})")
sys.exit(1 if failures else 0)
