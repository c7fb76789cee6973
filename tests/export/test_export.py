#!/usr/bin/python3
"""End-to-end test of `bnnmc export` on a tiny digits run: the NetCDF file opened group by group
with xarray + netCDF4 (as ArviZ does) has the right dims, coords and values equal to the run's
arrays; the npy export and its arrays.json agree with the run; the Stan CSV's columns equal the
arrays; chains of unequal length are cut to the shortest; bad --vars fail with a message.

usage: test_export.py PATH/TO/bnnmc
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

try:
    import xarray as xr
    import netCDF4  # noqa: F401  (the engine xarray uses for groups)
except ImportError as e:
    print(f"SKIP: {e} (Debian: python3-xarray python3-netcdf4)")
    sys.exit(77)

bnnmc = sys.argv[1]
failures = 0


def check(ok, what):
    global failures
    print(("ok " if ok else "not ok ") + what)
    failures += not ok


def run(*args):
    return subprocess.run([bnnmc, *args], capture_output=True, text=True)


def sample(out, *extra):
    p = run("sample", "--data", "digits", "--arch", "mlp:8", "--chains", "2", "--warmup", "10",
            "--samples", "20", "--fs-points", "10", "--quiet", "--out", out, *extra)
    if p.returncode != 0:
        print("not ok sample: " + p.stderr)
        sys.exit(1)


def load_run(d):
    js = json.load(open(os.path.join(d, "run.json")))
    k = js["config"]["chains"]
    ch = lambda c, n: np.load(os.path.join(d, f"chain_{c:03d}", n))  # noqa: E731
    return js, [ch(c, "weights.npy") for c in range(k)], [ch(c, "fs.npy") for c in range(k)], \
        [ch(c, "stats.npy") for c in range(k)]


def check_netcdf(d, nc, label):
    js, weights, fs, stats = load_run(d)
    names = js["stat_names"]
    first = js["config"]["burn_in"] + js["config"]["warmup"]
    samp = [s[first:] for s in stats]
    n_w = min(len(w) for w in weights)
    n_f = min(min(len(f) for f in fs), min(len(s) for s in samp))
    k = len(weights)
    post = xr.open_dataset(nc, group="posterior")
    for blk in js["model"]["params"]:
        v = blk["name"].replace(".", "_")
        dims = ("chain", "draw") + tuple(f"{v}_dim_{i}" for i in range(len(blk["shape"])))
        check(post[v].dims == dims, f"{label}: posterior/{v} dims {post[v].dims}")
        want = np.stack([w[:n_w, blk["offset"]:blk["offset"] + int(np.prod(blk["shape"]))]
                         .reshape((n_w, *blk["shape"])) for w in weights])
        check(post[v].dtype == weights[0].dtype and np.array_equal(post[v].values, want),
              f"{label}: posterior/{v} values equal weights.npy ({want.shape}, {post[v].dtype})")
        check(all(np.array_equal(post[f"{v}_dim_{i}"].values, np.arange(s))
                  for i, s in enumerate(blk["shape"])), f"{label}: posterior/{v} dim coords")
    check(np.array_equal(post["chain"].values, np.arange(k)) and
          np.array_equal(post["draw"].values, np.arange(n_w) * js["config"]["thin"]),
          f"{label}: posterior chain, draw coords ({k} x {n_w})")
    check(post.attrs.get("inference_library") == "bnnmc" and "created_at" in post.attrs and
          json.loads(post.attrs["config"]) == js["config"], f"{label}: posterior attributes")
    pred = xr.open_dataset(nc, group="predictions")
    fs_index = np.load(os.path.join(d, "fs_index.npy"))
    check(pred["p"].dims == ("chain", "draw", "point", "output") and
          np.array_equal(pred["p"].values, np.stack([f[:n_f] for f in fs])),
          f"{label}: predictions/p {pred['p'].shape} equals fs.npy")
    check(np.array_equal(pred["point"].values, fs_index) and
          np.array_equal(pred["output"].values, np.arange(js["fs_outputs"])),
          f"{label}: predictions point coord = fs_index, output coord")
    ss = xr.open_dataset(nc, group="sample_stats")
    col = lambda n: np.stack([s[:n_f, names.index(n)] for s in samp])  # noqa: E731
    pairs = {"acceptance_rate": "accept_prob", "energy": "energy", "step_size": "step_size",
             "n_steps": "n_leapfrog", "log_lik": "log_lik", "log_prior": "log_prior",
             "tree_depth": "tree_depth"}
    check(all(np.array_equal(ss[a].values, col(b)) for a, b in pairs.items()),
          f"{label}: sample_stats columns equal stats.npy ({ss['energy'].shape})")
    check(ss["diverging"].dtype == bool and np.array_equal(ss["diverging"].values, col("divergent") != 0),
          f"{label}: sample_stats/diverging is bool and equals stats")
    lp = (col("log_lik") + col("log_prior")) / js["config"]["temperature"]
    check(np.array_equal(ss["lp"].values, lp), f"{label}: sample_stats/lp = log_lik + log_prior")
    obs = xr.open_dataset(nc, group="observed_data")
    targets = np.load(os.path.join(d, "test_targets.npy"))
    check(np.array_equal(obs["y"].values, targets[fs_index]) and
          np.array_equal(obs["point"].values, fs_index), f"{label}: observed_data/y = targets at fs points")
    return n_w, n_f


def truncate(path, rows):
    a = np.load(path)
    np.save(path, a[:rows])


def check_csv(d, out):
    js, weights, fs, stats = load_run(d)
    p = run("export", d, "--format", "stan-csv", "--out", out, "--vars", "layer1.b[2:4],p[1,*],layer0.w[3,5]")
    check(p.returncode == 0, "stan-csv export exits 0: " + p.stderr.strip())
    blk = {b["name"]: b for b in js["model"]["params"]}
    first = js["config"]["burn_in"] + js["config"]["warmup"]
    for c in range(len(weights)):
        lines = [l for l in open(os.path.join(out, f"output_{c + 1}.csv")) if not l.startswith("#")]
        head = lines[0].strip().split(",")
        rows = np.array([[float(x) for x in l.split(",")] for l in lines[1:]])
        want_names = ["lp__", "accept_stat__", "stepsize__", "treedepth__", "n_leapfrog__",
                      "divergent__", "energy__", "layer1_b.3", "layer1_b.4"] + \
                     [f"p.2.{k}" for k in range(1, 11)] + ["layer0_w.4.6"]
        check(head == want_names, f"chain {c}: CSV header {head[:9]}...")
        w1 = weights[c][:, blk["layer1.b"]["offset"] + 2: blk["layer1.b"]["offset"] + 4]
        w0 = weights[c][:, blk["layer0.w"]["offset"] + 3 * 8 + 5]
        want = np.column_stack([w1, fs[c][:, 1, :], w0]).astype(np.float64)
        s = stats[c][first:]
        lp = s[:, 8] + s[:, 9]
        check(rows.shape[0] == 20 and np.array_equal(rows[:, 7:], want) and np.array_equal(rows[:, 0], lp)
              and np.array_equal(rows[:, 4], s[:, 7]) and np.array_equal(rows[:, 3], s[:, 10]),
              f"chain {c}: CSV values equal the arrays exactly")


def check_npy(d, out):
    p = run("export", d, "--format", "npy", "--out", out)
    check(p.returncode == 0, "npy export exits 0: " + p.stderr.strip())
    side = json.load(open(os.path.join(out, "arrays.json")))
    ok = True
    for a in side["arrays"]:
        arr = np.load(os.path.join(out, a["path"]))
        src = np.load(os.path.join(d, a["path"]))
        ok &= list(arr.shape) == a["shape"] and str(arr.dtype) == a["dtype"] and \
            len(a["dims"]) == arr.ndim and np.array_equal(arr, src[:arr.shape[0]])
    check(ok and len(side["arrays"]) >= 2 + 2 * 5, f"npy: {len(side['arrays'])} arrays match arrays.json and the run")
    check(side["coords"]["param"]["size"] == 610 and side["draws"] == 17 and side["weight_draws"] == 15,
          f"npy: coords and common draws (draws {side['draws']}, weight draws {side['weight_draws']})")


with tempfile.TemporaryDirectory() as tmp:
    d = os.path.join(tmp, "run")
    sample(d)
    nc = os.path.join(tmp, "run.nc")
    p = run("export", d, "--format", "netcdf", "--out", nc, "--block-mb", "1")
    check(p.returncode == 0, "netcdf export exits 0: " + p.stderr.strip())
    check_netcdf(d, nc, "complete run")
    check_csv(d, os.path.join(tmp, "csv"))

    # A run written before the tree_depth column (10 stats columns) is still read, with tree
    # depth 0, but not resumed
    old = os.path.join(tmp, "old")
    shutil.copytree(d, old)
    js = json.load(open(os.path.join(old, "run.json")))
    js["stat_names"] = js["stat_names"][:10]
    del js["config"]["sampler"], js["config"]["max_depth"]
    json.dump(js, open(os.path.join(old, "run.json"), "w"))
    for c in range(2):
        path = os.path.join(old, f"chain_{c:03d}", "stats.npy")
        np.save(path, np.load(path)[:, :10])
    p = run("export", old, "--format", "netcdf", "--out", os.path.join(tmp, "old.nc"))
    check(p.returncode == 0, "netcdf export of a 10-column run exits 0: " + p.stderr.strip())
    if p.returncode == 0:
        a = xr.open_dataset(nc, group="sample_stats")
        b = xr.open_dataset(os.path.join(tmp, "old.nc"), group="sample_stats")
        check(all(np.array_equal(a[v].values, b[v].values) for v in a.data_vars if v != "tree_depth")
              and not b["tree_depth"].values.any(), "10-column run: same sample_stats, tree_depth 0")
    p = run("export", old, "--format", "npy", "--out", os.path.join(tmp, "old-npy"))
    check(p.returncode == 0 and json.load(open(os.path.join(tmp, "old-npy", "arrays.json")))
          ["coords"]["stat"] == js["stat_names"], "10-column run: npy export names its 10 columns")
    p1, p2 = run("predict", d, "--json"), run("predict", old, "--json")
    check(p2.returncode == 0 and json.loads(p1.stdout)["chains"][0]["accept_rate"] ==
          json.loads(p2.stdout)["chains"][0]["accept_rate"], "10-column run: predict reads it")
    p = run("diagnose", old)
    ok = p.returncode == 0
    ss = json.load(open(os.path.join(old, "diagnostics.json")))["sample_stats"] if ok else {}
    check(ok and ss["chains"][0]["tree_depth"] == 0 and ss["chains"][0]["n_leapfrog"] > 0,
          "10-column run: diagnose reads it (tree_depth 0) " + p.stderr.strip()[:200])
    p = run("sample", "--resume", old, "--samples", "30", "--quiet")
    check(p.returncode == 1 and "older bnnmc" in p.stderr, "10-column run: resume refused: " + p.stderr.strip())

    # NUTS: tree_depth in sample_stats and treedepth__ in the Stan CSV, engine = nuts
    dn = os.path.join(tmp, "nuts")
    sample(dn, "--sampler", "nuts", "--max-depth", "6")
    p = run("export", dn, "--format", "netcdf", "--out", os.path.join(tmp, "nuts.nc"))
    check(p.returncode == 0, "netcdf export of a NUTS run exits 0: " + p.stderr.strip())
    check_netcdf(dn, os.path.join(tmp, "nuts.nc"), "NUTS run")
    depth = xr.open_dataset(os.path.join(tmp, "nuts.nc"), group="sample_stats")["tree_depth"].values
    check(depth.dtype.kind == "i" and depth.min() >= 1 and depth.max() <= 6,
          f"NUTS run: sample_stats/tree_depth integers in [1, 6] ({depth.min()}..{depth.max()})")
    check_csv(dn, os.path.join(tmp, "nuts-csv"))
    pre = open(os.path.join(tmp, "nuts-csv", "output_1.csv")).read()
    check("#       engine = nuts\n#         max_depth = 6\n" in pre, "NUTS run: CSV says engine = nuts, max_depth = 6")

    # hierarchical prior: each precision is a posterior variable, at the weights' draws
    dh = os.path.join(tmp, "hyper")
    sample(dh, "--prior-hyper", "gamma:2,1", "--thin", "2")
    p = run("export", dh, "--format", "netcdf", "--out", os.path.join(tmp, "hyper.nc"))
    check(p.returncode == 0, "netcdf export of a hierarchical run exits 0: " + p.stderr.strip())
    js = json.load(open(os.path.join(dh, "run.json")))
    first = js["config"]["burn_in"] + js["config"]["warmup"]
    post = xr.open_dataset(os.path.join(tmp, "hyper.nc"), group="posterior")
    for k, name in enumerate(js["hyper_names"]):
        var = name.replace(".", "_")
        want = np.stack([np.load(os.path.join(dh, f"chain_{c:03d}", "hyper.npy"))[first::2, k]
                         for c in range(2)])
        got = post[var].values if var in post else None
        check(got is not None and got.shape == want.shape == (2, 10) and np.array_equal(got, want)
              and post[var].attrs.get("bnnmc_name") == name,
              f"hierarchical run: posterior/{var} = hyper.npy[{first} + 2d] "
              f"({None if got is None else got.shape})")
    check(list(post["draw"].values[:3]) == [0, 2, 4], "hierarchical run: draw coordinate 0, 2, 4, ...")
    p = run("export", dh, "--format", "stan-csv", "--out", os.path.join(tmp, "hyper-csv"))
    check(p.returncode == 0, "stan-csv export of a hierarchical run exits 0: " + p.stderr.strip())
    for c in range(2):
        lines = [x for x in open(os.path.join(tmp, "hyper-csv", f"output_{c + 1}.csv"))
                 if not x.startswith("#")]
        head = lines[0].strip().split(",")
        rows = np.array([[float(v) for v in x.split(",")] for x in lines[1:]])
        hyper = np.load(os.path.join(dh, f"chain_{c:03d}", "hyper.npy"))[first:]
        cols = [head.index(n.replace(".", "_")) if n.replace(".", "_") in head else -1
                for n in js["hyper_names"]]
        check(-1 not in cols and rows.shape[0] == 20 and np.array_equal(rows[:, cols], hyper),
              f"hierarchical run: Stan CSV chain {c + 1} has the precisions of every sampling "
              f"iteration ({rows.shape}, columns {cols})")

    cut = os.path.join(tmp, "cut")
    shutil.copytree(d, cut)
    truncate(os.path.join(cut, "chain_001", "fs.npy"), 17)
    truncate(os.path.join(cut, "chain_000", "weights.npy"), 15)
    p = run("export", cut, "--format", "netcdf", "--out", os.path.join(tmp, "cut.nc"))
    check(p.returncode == 0, "netcdf export of unequal chains exits 0: " + p.stderr.strip())
    n_w, n_f = check_netcdf(cut, os.path.join(tmp, "cut.nc"), "unequal chains")
    check((n_w, n_f) == (15, 17), f"unequal chains cut to the shortest: {n_w} weight draws, {n_f} draws")
    check_npy(cut, os.path.join(tmp, "npy"))

    for bad, needle in [("layer9.w", "not a quantity"), ("layer0.w[3]", "needs 2 indices"),
                        ("p[0:99,*]", "outside"), ("layer1.b[x]", "is not *"), ("p[0,*", "closing ]")]:
        p = run("export", d, "--format", "stan-csv", "--out", os.path.join(tmp, "bad"), "--vars", bad)
        check(p.returncode == 1 and needle in p.stderr, f"--vars {bad}: exit {p.returncode}: {p.stderr.strip()}")
    p = run("export", d, "--format", "xml")
    check(p.returncode == 2 and "--format" in p.stderr, "--format xml refused")
    p = run("export", os.path.join(tmp, "nothing"), "--format", "netcdf")
    check(p.returncode == 1 and "run.json" in p.stderr, "a missing run is refused naming run.json")

print("PASSED" if failures == 0 else f"FAILED ({failures})")
sys.exit(1 if failures else 0)
