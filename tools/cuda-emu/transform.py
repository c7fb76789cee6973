#!/usr/bin/env python3
"""Rewrites the kernel launches of a .cu file, `kernel<<<grid, block, shared, stream>>>(args)`,
as calls of the CPU emulator (emu.cpp): `emu::launcher(kernel, sync)(grid, block, ...)(args)`.
Kernels that call __syncthreads (SYNC) run one OS thread per CUDA thread with a barrier; the
others run their threads one after another.
usage: transform.py IN.cu OUT.cpp"""
import re
import sys

SYNC = {"cnn_bias_partial_kernel", "cnn_frn_forward_kernel", "cnn_frn_backward_kernel",
        "kick_drift_kernel",
        "block_sum_kernel", "fused_top_kernel", "conv_forward_kernel",
        "conv_weight_grad_kernel"}


def main(src_path, out_path):
    src = open(src_path).read()
    bounds = r"(?:__launch_bounds__\s*\([^)]*\)\s*(?:/\*.*?\*/\s*)?)?"
    for m in re.finditer(r"__global__\s+void\s+" + bounds + r"(\w+)\s*\([^)]*\)\s*\{", src,
                         flags=re.S):
        name, body = m.group(1), src[m.end():]
        body = body[:body.find("\n}\n")]
        if "__syncthreads" in body and name not in SYNC:
            sys.exit(f"{src_path}: kernel {name} calls __syncthreads; add it to SYNC")

    def launch(m):
        name = m.group(1)  # with its template arguments, if any: kernel<16, 8>
        sync = name.split("<")[0].strip() in SYNC
        return "emu::launcher(%s, %s)(%s)(" % (name, "true" if sync else "false", m.group(2))
    out, n = re.subn(r"(\w+(?:\s*<[^<>;(){}]*>)?)\s*<<<(.*?)>>>\s*\(", launch, src, flags=re.S)
    open(out_path, "w").write(out)
    print(f"{src_path}: {n} launches")


if __name__ == "__main__":
    main(*sys.argv[1:3])
