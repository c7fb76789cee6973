#!/usr/bin/python3
"""The study's table from every OUT/*/diagnostics.json (per-draw alignment) and
diagnostics_per_chain.json: R-hat quantiles, counts above 1.01/1.05/1.1 against the null, the
share of the weight-space excess that alignment removes, islands, prior-like weights; and the
figures fig_<space>.svg cut from the digits-w32 report, and its PNG figures."""
import json, os, re, shutil, sys

out = sys.argv[1]

def excess(space):
    t = space["null"]["thresholds"][0]
    return t["observed"] - t["expected"]

def above(space):
    return space["null"]["thresholds"][0]["observed"]

def row(name, label, sp):
    r, t = sp["rhat"], sp["null"]["thresholds"]
    cnt = " / ".join(f"{x['observed']:.0f} ({x['expected']:.0f})" for x in t)
    fr = " / ".join(f"{100*r[k]:.1f}" for k in ("frac_gt_1.01", "frac_gt_1.05", "frac_gt_1.1"))
    nest = sp.get("rhat_nested")
    nest = f"{nest['q50']:.4f} / {nest['q99']:.4f}" if nest else "-"
    return (f"| {name} | {label} | {sp['n_quantities']} | {sp['draws_per_chain']} | {r['q50']:.4f} | "
            f"{r['q90']:.4f} | {r['q99']:.4f} | {fr} | {cnt} | {nest} |")

print("| run | space | quantities | draws/chain | q50 | q90 | q99 | % > 1.01 / 1.05 / 1.1 | "
      "count > 1.01 / 1.05 / 1.1 (null) | nested q50 / q99 |")
print("|---|---|---|---|---|---|---|---|---|---|")
summary = []
for name in sorted(os.listdir(out)):
    path = os.path.join(out, name, "diagnostics.json")
    if not os.path.exists(path):
        continue
    d = json.load(open(path))
    pc_path = os.path.join(out, name, "diagnostics_per_chain.json")
    pc = json.load(open(pc_path)) if os.path.exists(pc_path) else None
    print(row(name, "weight raw", d["weight"]))
    if pc and pc.get("weight_aligned"):
        print(row(name, "weight aligned per chain", pc["weight_aligned"]))
    print(row(name, "weight aligned per draw", d["weight_aligned"]))
    print(row(name, "function", d["function"]))
    raw, al, fn = above(d["weight"]), above(d["weight_aligned"]), above(d["function"])
    alc = above(pc["weight_aligned"]) if pc and pc.get("weight_aligned") else float("nan")
    ex = (excess(d["weight"]), excess(d["weight_aligned"]), excess(d["function"]))
    mg, isl = d.get("marginals") or {}, d.get("islands") or {}
    n = mg.get("n_prior_like", 0) + mg.get("n_data_informed", 0)
    secs = open(os.path.join(out, name, "sample_seconds.txt")).read().strip() \
        if os.path.exists(os.path.join(out, name, "sample_seconds.txt")) else "-"
    summary.append((name, raw, alc, al, fn, ex, isl.get("n_islands"), isl.get("island_of_chain"),
                    mg.get("n_prior_like", 0) / n if n else float("nan"),
                    mg.get("rhat", {}).get("raw", {}), secs))

print("\nShare removed = 1 - (weights with R-hat > 1.01 after alignment) / (before). "
      "Observed - null: count above 1.01 minus the count expected under the ESS-matched null "
      "(weight raw / aligned per draw / function).\n")
print("| run | weights > 1.01: raw | aligned per chain | aligned per draw | "
      "share removed per chain / per draw | observed - null | islands | prior-like weights | "
      "R-hat q90 raw: prior-like / informed | sample s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, raw, alc, al, fn, ex, ni, ic, pl, rr, secs in summary:
    share = lambda a: f"{100*(raw-a)/raw:.0f} %" if raw > 0 else "-"
    exs = " / ".join(f"{e:+.0f}" for e in ex)
    q = f"{rr.get('prior_like', {}).get('q90', float('nan')):.4f} / {rr.get('data_informed', {}).get('q90', float('nan')):.4f}"
    print(f"| {name} | {raw:.0f} | {alc:.0f} | {al:.0f} | {share(alc)} / {share(al)} | {exs} | {ni} {ic} | "
          f"{100*pl:.0f} % | {q} | {secs} |")

rep = os.path.join(out, "digits-w32", "report.html")
if os.path.exists(rep):
    svgs = re.findall(r"<svg.*?</svg>", open(rep).read(), re.S)
    for svg, tag in zip(svgs[:3], ("weight_raw", "weight_aligned", "function")):
        open(os.path.join(out, f"fig_{tag}.svg"), "w").write(svg)
# The same figures as PNG (bnnmc report draws them with cairo), and the worst test inputs.
figs = os.path.join(out, "digits-w32", "figures")
for src, tag in (("rhat_hist_weight", "weight_raw"), ("rhat_hist_weight_aligned", "weight_aligned"),
                 ("rhat_hist_function", "function"), ("worst_inputs", "worst_inputs")):
    if os.path.exists(os.path.join(figs, src + ".png")):
        shutil.copyfile(os.path.join(figs, src + ".png"), os.path.join(out, f"fig_{tag}.png"))
