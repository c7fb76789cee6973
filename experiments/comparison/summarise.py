#!/usr/bin/python3
"""The comparison tables from OUT/*.predict.json and OUT/*.eval.json (written by run.sh)."""
import json
import os
import sys

out = sys.argv[1]


def load(name, kind):
    path = os.path.join(out, f"{name}.{kind}.json")
    return json.load(open(path)) if os.path.exists(path) else None


def seconds(name):
    path = os.path.join(out, f"{name}.seconds")
    return open(path).read().strip() if os.path.exists(path) else "-"


def num(v, digits=4):
    return "-" if v is None else f"{v:.{digits}f}"


LABELS = {"hmc": "HMC (reference)", "sgld": "SGLD", "sghmc": "SGHMC", "csgmcmc": "cyclical SG-MCMC",
          "vi": "mean-field VI", "map": "MAP", "ensemble": "deep ensemble (5)",
          "hmc-from-ensemble": "HMC from the ensemble"}

print("## Digits, MLP 64-50-10: approximate methods against HMC\n")
print("| method | accuracy | NLL | agreement with HMC | total variation to HMC | seconds |")
print("|---|---|---|---|---|---|")
for m in LABELS:
    p, e = load(f"digits-{m}", "predict"), load(f"digits-{m}", "eval")
    if p is None:
        continue
    agree = 1.0 if m == "hmc" else e and e.get("agreement")
    tv = 0.0 if m == "hmc" else e and e.get("total_variation")
    print(f"| {LABELS[m]} | {num(p['accuracy'])} | {num(p['nll'])} | {num(agree)} | {num(tv)} | "
          f"{seconds('digits-' + m)} |")

print("\n## Digits, MLP 64-50-10: priors (HMC)\n")
print("| prior | chains | BMA accuracy | BMA NLL | agreement with the Gaussian-prior run | seconds |")
print("|---|---|---|---|---|---|")
for tag, name in (("gaussian", "digits-hmc"), ("laplace", "digits-prior-laplace"),
                  ("logistic", "digits-prior-logistic"), ("mixture", "digits-prior-mixture")):
    p, e = load(name, "predict"), load(name, "eval")
    if p is None:
        continue
    agree = 1.0 if tag == "gaussian" else e and e.get("agreement")
    print(f"| {tag} | {p['chains'] if isinstance(p['chains'], int) else len(p['chains'])} | "
          f"{num(p['accuracy'])} | {num(p['nll'])} | {num(agree)} | {seconds(name)} |")

print("\n## Boston housing, MLP 13-50-1 (standardised targets): approximate methods against HMC\n")
print("| method | RMSE | NLL | W1 to HMC (predictive, mean over inputs) | seconds |")
print("|---|---|---|---|---|")
for m in LABELS:
    p, e = load(f"boston-{m}", "predict"), load(f"boston-{m}", "eval")
    if p is None:
        continue
    w1 = 0.0 if m == "hmc" else e and e.get("w1")
    print(f"| {LABELS[m]} | {num(p['rmse'])} | {num(p['nll'])} | {num(w1)} | "
          f"{seconds('boston-' + m)} |")
