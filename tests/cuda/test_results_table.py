#!/usr/bin/env python3
"""bench/gpu/results_table.py, the GPU check's last step, on made-up measurements and a made-up
Nsight Compute CSV (no GPU needed): the ratios, the alternative columns (unfused, im2col;
cuDNN), a pair whose parameter counts differ (no ratio), a workload JAX did not measure, the
per-kernel profile table (times in ms per gradient from two profiled gradients, shares,
throughputs), and one table merged from two calls' folders (--merge)."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "bench", "gpu", "results_table.py")

BENCH = [
    ("8 chains of 784-100-10", "bnnmc", "float32", {"ms_per_grad": 4.0, "ms_per_leapfrog": 4.1,
                                                    "gflops": 33500.0, "n_params": 79510}),
    ("8 chains of 784-100-10", "bnnmc-unfused", "float32", {"ms_per_grad": 6.5,
                                                            "ms_per_leapfrog": 6.6,
                                                            "n_params": 79510}),
    ("8 chains of 784-100-10", "jax", "float32", {"ms_per_grad": 5.0, "ms_per_leapfrog": 4.5,
                                                  "n_params": 79510, "jax_version": "9.9.9"}),
    ("MLP 784-1000-1000-10, N=60000", "bnnmc", "tf32", {"ms_per_grad": 3.5, "n_params": 1},
     ),
    ("MLP 784-1000-1000-10, N=60000", "jax", "tf32", {"ms_per_grad": 3.0, "n_params": 2}),
    ("LeNet-5, N=60000 (28x28x1)", "bnnmc", "float32", {"ms_per_grad": 30.0}),
    ("LeNet-5, N=60000 (28x28x1)", "bnnmc-im2col", "float32", {"ms_per_grad": 45.0}),
    ("LeNet-5, N=60000 (28x28x1)", "bnnmc-cudnn", "float32", {"ms_per_grad": 25.0}),
]

HEADER = ["ID", "Process ID", "Process Name", "Host Name", "Kernel Name", "Context", "Stream",
          "Block Size", "Grid Size", "Device", "CC", "Section Name", "Metric Name",
          "Metric Unit", "Metric Value"]


def ncu_rows():
    """Two gradients of two kernels, as `ncu --csv --metrics ...` prints them."""
    rows = []
    for launch, (kernel, usecond) in enumerate([("fused_top_kernel(const float *, int)", 100),
                                                ("void sgemm_kernel<float>(params)", 300),
                                                ("fused_top_kernel(const float *, int)", 100),
                                                ("void sgemm_kernel<float>(params)", 300)]):
        for metric, unit, value in [("gpu__time_duration.sum", "usecond", usecond),
                                    ("sm__throughput.avg.pct_of_peak_sustained_elapsed", "%",
                                     40),
                                    ("dram__throughput.avg.pct_of_peak_sustained_elapsed", "%",
                                     80)]:
            rows.append([str(launch), "1", "bnnmc", "h", kernel, "1", "7", "(256, 1, 1)",
                         "(10, 1, 1)", "0", "9.0", "Command line profiler metrics", metric,
                         unit, f"{value:,}"])
    return rows


def main():
    import csv
    import json
    with tempfile.TemporaryDirectory() as out:
        with open(os.path.join(out, "bench.jsonl"), "w") as f:
            for tag, tool, math, result in BENCH:
                f.write(json.dumps({"tag": tag, "tool": tool, "math": math, "result": result})
                        + "\n")
        with open(os.path.join(out, "profile-mlp100.csv"), "w", newline="") as f:
            f.write("==PROF== Connected to process 1\n")
            w = csv.writer(f, quoting=csv.QUOTE_ALL)
            w.writerow(HEADER)
            w.writerows(ncu_rows())
        results = os.path.join(out, "RESULTS.md")
        subprocess.run([sys.executable, SCRIPT, os.path.join(out, "bench.jsonl"), results,
                        "NVIDIA H200, 580.1, 143771 MiB", "2026-11-26T00:00Z", "nvcc 13.0",
                        "| test_cuda_grad | passed |\n", "42", out, "mlp100"],
                       check=True, stdout=subprocess.DEVNULL)
        text = open(results).read()
    failures = []

    def expect(fragment, what):
        if fragment not in text:
            failures.append(f"{what}: {fragment!r} not in the table")
    mlp_row = ("| 8 chains of 784-100-10 | float32 | 4 | 5 | 0.800 | 6.5 | — | 4.1 | 4.5 | 1.025 "
               "| 50.0 |")
    expect(mlp_row, "ratio, unfused column, leapfrog / grad, % of the H200's peak")
    expect("(parameters differ: bnnmc 1, JAX 2) | tf32 | 3.5 | 3 | — |", "no ratio across models")
    lenet_row = "| LeNet-5, N=60000 (28x28x1) | float32 | 30 | — | — | 45 | 25 |"
    expect(lenet_row,
           "JAX missing; the im2col and cuDNN columns")
    expect("- JAX: 9.9.9", "JAX version")
    expect("| test_cuda_grad | passed |", "the tests' rows")
    expect("Kernel time per gradient: 0.4 ms", "profile total over two gradients")
    expect("| `sgemm_kernel<float>` | 1 | 0.3 | 75.0 | 40 | 80 |", "profile row")
    expect("| `fused_top_kernel` | 1 | 0.1 | 25.0 | 40 | 80 |", "profile row")
    text = merged_table()
    expect(mlp_row, "merged: the first call's MLP row")
    lenet_row = "| LeNet-5, N=60000 (28x28x1) | float32 | 30 | — | — | 45 | 25 |"
    expect(lenet_row, "merged: the second's")
    expect("| test_cuda_grad | passed |", "merged: the first call's tests")
    expect("2026-11-26T00:00Z, 2026-11-26T00:09Z", "merged: both dates")
    expect("run.sh, 300 + 400 s", "merged: both durations")
    expect("| `fused_top_kernel` | 1 | 0.1 | 25.0 | 40 | 80 |", "merged: the second's profile")
    for f in failures:
        print("not ok", f)
    if failures:
        print(text)
        return 1
    print("ok: the results table holds every figure, also merged from two calls")
    return 0


def merged_table():
    """results_table.py --merge of two calls' $OUT folders (MLPs and tests; CNNs and profile)."""
    import csv
    import json
    with tempfile.TemporaryDirectory() as top:
        calls = [("2026-11-26T00:00Z", 300, "| test_cuda_grad | passed |\n", "", BENCH[:3]),
                 ("2026-11-26T00:09Z", 400, "", "mlp100", BENCH[5:])]
        outs = []
        for i, (date, seconds, tests, profiles, bench) in enumerate(calls):
            out = os.path.join(top, f"call{i}")
            os.mkdir(out)
            outs.append(out)
            with open(os.path.join(out, "bench.jsonl"), "w") as f:
                for tag, tool, math, result in bench:
                    f.write(json.dumps({"tag": tag, "tool": tool, "math": math,
                                        "result": result}) + "\n")
            with open(os.path.join(out, "meta.json"), "w") as f:
                json.dump({"gpu": "NVIDIA H200, 580.1, 143771 MiB", "date": date,
                           "nvcc": "nvcc 13.0", "tests_md": tests, "seconds": str(seconds),
                           "profiles": profiles}, f)
            if profiles:
                with open(os.path.join(out, f"profile-{profiles}.csv"), "w", newline="") as f:
                    w = csv.writer(f, quoting=csv.QUOTE_ALL)
                    w.writerow(HEADER)
                    w.writerows(ncu_rows())
        results = os.path.join(top, "RESULTS.md")
        subprocess.run([sys.executable, SCRIPT, "--merge", results] + outs, check=True,
                       stdout=subprocess.DEVNULL)
        return open(results).read()


if __name__ == "__main__":
    sys.exit(main())
