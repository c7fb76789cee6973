#!/usr/bin/python3
"""End-to-end test of `bnnmc diagnose` on synthetic run directories (scripts/diag_make_run.py):
a run with one chain far away in one parameter block must be flagged (R-hat max > 1.1, that
block's parameters and the displaced test point the worst), a clean run must not be, and broken
run directories must fail with a message naming the file.

usage: test_diagnose.py PATH/TO/bnnmc SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

bnnmc, src = sys.argv[1], sys.argv[2]
failures = 0


def check(ok, what):
    global failures
    print(("ok " if ok else "not ok ") + what)
    failures += not ok


def make_run(d, *extra):
    subprocess.run([sys.executable, os.path.join(src, "scripts", "diag_make_run.py"), d,
                    "--widths", "8,5,3", "--draws", "200", "--points", "6", "--outputs", "3",
                    *extra], check=True)


def diagnose(d, *extra):
    return subprocess.run([bnnmc, "diagnose", d, *extra], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    far = os.path.join(tmp, "far")
    make_run(far, "--far", "2", "--short", "3")
    p = diagnose(far, "--threads", "3")
    check(p.returncode == 0, "diagnose exits 0 on a run with a far chain: " + p.stderr.strip())
    js = json.load(open(os.path.join(far, "diagnostics.json")))
    w, f = js["weight"], js["function"]
    check(w["rhat"]["max"] > 1.1, f"weight rhat max {w['rhat']['max']:.3f} > 1.1")
    top = {e["name"] for e in w["worst"][:3]}
    check(top == {"layer1.b[0]", "layer1.b[1]", "layer1.b[2]"},
          f"the far chain's block is the worst: {sorted(top)}")
    check(f["rhat"]["max"] > 1.1, f"function rhat max {f['rhat']['max']:.3f} > 1.1")
    ftop = {e["name"] for e in f["worst"][:3]}
    check(ftop == {"p[0,0]", "p[0,1]", "p[0,2]"}, f"the displaced test point is worst: {sorted(ftop)}")
    check(w["draws_per_chain"] == 180 and f["draws_per_chain"] == 180,
          "chains cut to the shortest (180 draws)")
    check(w["n_quantities"] == 63 and f["n_quantities"] == 18, "every weight and output diagnosed")
    rh = np.load(os.path.join(far, "diag_weight_rhat.npy"))
    fr = np.load(os.path.join(far, "diag_function_rhat.npy"))
    check(rh.shape == (63,) and fr.shape == (6, 3), f"arrays shaped {rh.shape}, {fr.shape}")
    check(abs(rh[w["worst"][0]["index"]] - w["rhat"]["max"]) == 0, "array and json agree")
    check(abs(np.quantile(rh, 0.9) - w["rhat"]["q90"]) < 1e-12, "rhat q90 is the type-7 quantile")
    # streaming and threads change nothing: one weight's numbers equal `bnnmc summary` on its
    # draws (which the parity tests hold to posterior)
    for q in (17, 61):
        x = np.stack([np.load(os.path.join(far, f"chain_{c:03d}", "weights.npy"))[:180, q]
                      for c in range(4)], axis=1).astype(np.float64)
        csv = os.path.join(tmp, f"w{q}.csv")
        np.savetxt(csv, x, delimiter=",", fmt="%.17g")
        s = json.loads(subprocess.run([bnnmc, "summary", csv, "--json"], capture_output=True,
                                      text=True, check=True).stdout)
        e = [np.load(os.path.join(far, f"diag_weight_{k}.npy"))[q] for k in ("rhat", "ess_bulk", "ess_tail")]
        check(e == [s["rhat"], s["ess_bulk"], s["ess_tail"]], f"weight {q} equals bnnmc summary")
    expect_div = sum(int(np.load(os.path.join(far, f"chain_{c:03d}", "stats.npy"))[:, 3].sum())
                     for c in range(4))
    ss = js["sample_stats"]
    check(ss["divergences"] == expect_div and len(ss["chains"]) == 4,
          f"divergences {ss['divergences']} == {expect_div}")
    check(all(0 < c["ebfmi"] for c in ss["chains"]), "E-BFMI reported per chain")
    check("layer1.b[" in p.stdout and "function space" in p.stdout, "report printed")

    clean = os.path.join(tmp, "clean")
    make_run(clean, "--dtype", "float64")
    p = diagnose(clean)
    cj = json.load(open(os.path.join(clean, "diagnostics.json")))
    check(p.returncode == 0 and cj["weight"]["rhat"]["max"] < 1.1 and cj["function"]["rhat"]["max"] < 1.1,
          "a clean float64 run is not flagged")

    p = diagnose(os.path.join(tmp, "nowhere"))
    check(p.returncode != 0 and "run.json" in p.stderr, "missing run: " + p.stderr.strip())
    np.save(os.path.join(clean, "chain_001", "weights.npy"), np.zeros((200, 62)))
    p = diagnose(clean)
    check(p.returncode != 0 and "chain_001/weights.npy" in p.stderr,
          "wrong weight count: " + p.stderr.strip())

print("all ok" if not failures else f"{failures} failures")
sys.exit(1 if failures else 0)
