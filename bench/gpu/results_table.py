#!/usr/bin/env python3
"""The results table of the GPU check (bench/gpu/run.sh, step 4): RESULTS.md from the run's
bench.jsonl (one JSON line per measurement: tag, tool bnnmc / bnnmc-unfused / bnnmc-im2col /
bnnmc-cudnn / jax, math, result) and the Nsight Compute CSVs profile-NAME.csv in the run's
output folder.
usage: results_table.py BENCH.jsonl RESULTS.md GPU DATE NVCC TESTS_MD SECONDS OUT_DIR PROFILES
(TESTS_MD: the tests' table rows; PROFILES: the profile names, space-separated), as run.sh
calls it; or
       results_table.py --merge RESULTS.md OUT_DIR...
one table from several calls of run.sh (a session's device time comes in calls of at most 10
minutes), each OUT_DIR the $OUT of one (its bench.jsonl, profile-*.csv and meta.json, which
run.sh writes): their measurements in order, the tests of the first that ran them. It is checked
on made-up measurements by tests/cuda/test_results_table.py, so that a GPU session's last step
does not fail."""
import csv
import json
import re
import sys


def main(jsonl, path, gpu, date, nvcc, tests_md, seconds, out, profiles):
    rows = [json.loads(l) for l in open(jsonl) if l.strip()]
    table(rows, path, gpu, date, nvcc, tests_md, seconds,
          [(f"{out}/profile-{name}.csv", name) for name in profiles.split()])


def merge(path, outs):
    """One table from the $OUT folders of several run.sh calls (meta.json in each)."""
    rows, profiles, metas = [], [], []
    for out in outs:
        meta = json.load(open(f"{out}/meta.json"))
        metas.append(meta)
        rows += [json.loads(l) for l in open(f"{out}/bench.jsonl") if l.strip()]
        profiles += [(f"{out}/profile-{name}.csv", name) for name in meta["profiles"].split()]
    tests = next((m["tests_md"] for m in metas if m["tests_md"].strip()), "")
    dates = ", ".join(m["date"] for m in metas)
    seconds = " + ".join(str(m["seconds"]) for m in metas)
    table(rows, path, metas[0]["gpu"], dates, metas[0]["nvcc"], tests, seconds, profiles)


def table(rows, path, gpu, date, nvcc, tests_md, seconds, profiles):
    # float32 (non-tensor-core) peaks, FLOP/s, by product name
    peaks = [("H200", 67e12), ("H100 PCIe", 51e12), ("H100 NVL", 60e12), ("H100", 67e12)]
    peak = next((p for name, p in peaks if name in gpu), None)
    res = {}
    for r in rows:
        res[(r["tag"], r["math"], r["tool"])] = r["result"]
    lines = [
        "# GPU check: bnnmc (CUDA backend) against JAX, same GPU, same run", "",
        f"- GPU: {gpu or 'unknown'}", f"- date (UTC): {date}", f"- {nvcc}",
        "- JAX: " + next((r["result"].get("jax_version") for r in rows if r["tool"] == "jax"),
                         "not run"),
        f"- script: bench/gpu/run.sh, {seconds} s", "",
        "## Tests", "", "| test | verdict |", "|---|---|", tests_md.rstrip("\n"), "",
        "## Timings (median ms; ratio = bnnmc / JAX, target <= 0.8)", "",
        "Gradient: the full-batch gradient of every chain (bnnmc: log-likelihood gradient with θ "
        "on the device, K chains batched: the first layer one wide GEMM, later layers "
        "strided-batched, the last hidden layer's bias and activation, the output layer, head and "
        "their backward pass "
        "one fused kernel; CNNs: direct convolutions (conv.cu). Alternative: MLPs unfused "
        "(BNNMC_CUDA_FUSE=0), CNNs with im2col + cuBLAS convolutions (BNNMC_CUDA_CONV=im2col). "
        "cuDNN: CNNs with cuDNN's convolutions where it can pad them (BNNMC_CUDA_CONV=cudnn). "
        "JAX: jax.jit(jax.grad) of the "
        "log posterior, jax.vmap for K chains). Leapfrog: ms per step of a whole HMC iteration of "
        "20 steps of all K chains (bnnmc: bnn_cuda_hmc_iterate_chains, the K chains in lockstep, "
        "as `sample --device cuda` runs them; JAX: jit of a lax.scan trajectory, divided by its "
        "21 gradients).",
        "", "| workload | math | bnnmc grad | JAX grad | ratio | bnnmc alternative grad "
        "| bnnmc cuDNN grad | bnnmc leapfrog "
        "| JAX leapfrog | leapfrog / grad (bnnmc) | bnnmc % of fp32 peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    tags = []
    for r in rows:
        if (r["tag"], r["math"]) not in tags:
            tags.append((r["tag"], r["math"]))
    def fmt(v, spec=".4g"):
        return "—" if v is None else format(v, spec)
    for tag, math in tags:
        b = res.get((tag, math, "bnnmc"), {})
        j = res.get((tag, math, "jax"), {})
        ug = (res.get((tag, math, "bnnmc-unfused")) or
              res.get((tag, math, "bnnmc-im2col")) or {}).get("ms_per_grad")
        cg = res.get((tag, math, "bnnmc-cudnn"), {}).get("ms_per_grad")
        bg, jg = b.get("ms_per_grad"), j.get("ms_per_grad")
        bl, jl = b.get("ms_per_leapfrog"), j.get("ms_per_leapfrog")
        ratio = bg / jg if bg and jg else None
        if b.get("n_params") and j.get("n_params") and b["n_params"] != j["n_params"]:
            ratio = None  # not the same model: no ratio
            tag = f"{tag} (parameters differ: bnnmc {b['n_params']}, JAX {j['n_params']})"
        over = bl / bg if bl and bg else None
        frac = None
        if b.get("gflops") and peak:
            frac = 100 * b["gflops"] * 1e9 / peak
        lines.append(f"| {tag} | {math} | {fmt(bg)} | {fmt(jg)} | {fmt(ratio, '.3f')} | {fmt(ug)} "
                     f"| {fmt(cg)} | {fmt(bl)} | {fmt(jl)} | {fmt(over, '.3f')} "
                     f"| {fmt(frac, '.1f')} |")

    def profile_table(csv_path, name):
        """Per kernel (arguments cut off): calls, ms per gradient (the profile holds
        two gradients), share of the time, SM and DRAM throughput in % of peak (time-weighted)."""
        scale = {"nsecond": 1e-6, "usecond": 1e-3, "msecond": 1.0, "second": 1e3, "ns": 1e-6,
                 "us": 1e-3, "ms": 1.0, "s": 1e3}
        kernels = {}
        header = None
        for row in csv.reader(open(csv_path, errors="replace")):
            if "Kernel Name" in row and "Metric Name" in row:
                header = row
                continue
            if not header or len(row) != len(header):
                continue
            r = dict(zip(header, row))
            kname = re.sub(r"^void ", "", r["Kernel Name"]).split("(")[0].strip()[:70]
            launch = (r["ID"], kname)
            value = float(r["Metric Value"].replace(",", "") or 0)
            k = kernels.setdefault(kname, {"launches": {}, "ms": 0.0, "sm": 0.0, "dram": 0.0})
            m = k["launches"].setdefault(launch, {})
            if r["Metric Name"] == "gpu__time_duration.sum":
                m["ms"] = value * scale.get(r["Metric Unit"], 1e-6)
            elif r["Metric Name"].startswith("sm__throughput"):
                m["sm"] = value
            elif r["Metric Name"].startswith("dram__throughput"):
                m["dram"] = value
        rows, total = [], 0.0
        for kname, k in kernels.items():
            ms = sum(m.get("ms", 0) for m in k["launches"].values())
            sm = sum(m.get("ms", 0) * m.get("sm", 0) for m in k["launches"].values())
            dram = sum(m.get("ms", 0) * m.get("dram", 0) for m in k["launches"].values())
            rows.append((ms, kname, len(k["launches"]), sm / ms if ms else 0,
                         dram / ms if ms else 0))
            total += ms
        rows.sort(reverse=True)
        t = [f"### {name}", "", f"Kernel time per gradient: {total / 2:.4g} ms (Nsight Compute, "
             "kernels serialised; two gradients profiled).", "",
             "| kernel | launches per gradient | ms per gradient | % of kernel time | SM % of peak "
             "| DRAM % of peak |", "|---|---|---|---|---|---|"]
        for ms, kname, n, sm, dram in rows[:12]:
            share = 100 * ms / total if total else 0
            t.append(f"| `{kname}` | {n / 2:g} | {ms / 2:.4g} | {share:.1f} "
                     f"| {sm:.0f} | {dram:.0f} |")
        return t + [""]

    if profiles:
        lines += ["## Profiles", ""]
        for csv_path, name in profiles:
            try:
                lines += profile_table(csv_path, name)
            except (OSError, ValueError, KeyError) as e:
                lines += [f"### {name}", "", f"(profile unreadable: {e})", ""]
    lines += ["", "Raw measurements: bench.jsonl, profile-*.csv and gpu-check.log beside this file "
              "in the run's $OUT (not committed).", ""]
    open(path, "w").write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--merge"]:
        merge(sys.argv[2], sys.argv[3:])
    else:
        main(*sys.argv[1:10])
