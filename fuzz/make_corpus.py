#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets (small valid and near-valid files) into
fuzz/corpus/<kind>/. The output is committed; rerun after changing a target's input layout.
Files named regress-* are inputs that once crashed a target, kept by hand (this script leaves
them alone) so that every fuzz run replays them.

usage: fuzz/make_corpus.py
"""
import gzip
import io
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def emit(kind, name, data):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def npy(arr):
    b = io.BytesIO()
    np.save(b, arr, allow_pickle=False)
    return b.getvalue()


def main():
    # csv: the first byte selects the reader options (fuzz_csv.c).
    emit("csv", "header", b"\x00a,b,t\n1,2,0\n3,4,1\n5.5,-6e2,0\n")
    emit("csv", "noheader", b"\x01" + b"1,2,0\r\n3,4,1\r\n")
    emit("csv", "quoted-first-target", b"\x06" + b'"t","x"\n1," 2.5 "\n0,3\n')
    emit("csv", "bom-blank-lines", b"\x00\xef\xbb\xbfx,y\n\n1,2\n \n3,4\n")
    # bit 3 of the first byte: the matrix reader of prediction files (bnnmc eval)
    emit("csv", "matrix-blanks", b"\x09" + b"# c0 c1\n0.25 0.75\n\t1e-3   9.99e-1\n")
    emit("csv", "matrix-commas", b"\x0a" + b"0.5,0.5\r\n1,0\n")
    # idx: a flags byte (1: gzip the images, 2: gzip the labels), images, separator, labels.
    images = struct.pack(">IIII", 0x803, 3, 2, 2) + bytes(range(12))
    labels = struct.pack(">II", 0x801, 3) + bytes([0, 1, 2])
    sep = b"\n--LABELS--\n"
    emit("idx", "raw", b"\x00" + images + sep + labels)
    emit("idx", "gz-by-harness", b"\x03" + images + sep + labels)
    emit("idx", "gz-in-input", b"\x00" + gzip.compress(images, mtime=0) + sep + labels)
    # npy: features, separator, targets.
    sep = b"\n--Y--\n"
    y3 = npy(np.array([0, 1, 0], dtype="<i8"))
    emit("npy", "f8-2d", npy(np.arange(6, dtype="<f8").reshape(3, 2)) + sep + y3)
    emit("npy", "f4-3d", npy(np.arange(12, dtype="<f4").reshape(3, 2, 2)) + sep +
         npy(np.array([1.0, 0.0, 1.0], dtype="<f4")))
    emit("npy", "u1-4d", npy(np.arange(12, dtype="|u1").reshape(3, 2, 2, 1)) + sep +
         npy(np.array([[0], [1], [1]], dtype="<i4")))
    v2 = bytearray(npy(np.arange(4, dtype="<i8").reshape(2, 2)))
    emit("npy", "i8-v1", bytes(v2) + sep + npy(np.array([0, 1], dtype="|u1")))
    # draws: plain (chains in columns) or CmdStan, optionally two chain files.
    emit("draws", "plain-header", "a,b\n" + "".join(f"{i * 0.5},{(i * 7) % 5}\n" for i in range(12)))
    emit("draws", "plain-numbers", "1,2,3\n2,3,1\n3,1,2\n4,4,NA\n")
    stan = ("# model = m\n# Adaptation terminated\n# Step size = 0.5\n"
            "lp__,accept_stat__,mu,theta.1,theta.2\n" +
            "".join(f"{-i},0.9,{i * 0.3},{i % 3},{(i * 5) % 7}\n" for i in range(10)) +
            "# Elapsed Time: 0.1 seconds\n")
    emit("draws", "cmdstan-one", stan)
    emit("draws", "cmdstan-two", stan + "\n--CHAIN--\n" + stan.replace("0.9", "0.8"))
    emit("draws", "cmdstan-warmup", "lp__,mu\n1,2\n3,4\n# Adaptation terminated\n5,6\n7,8\n")


if __name__ == "__main__":
    main()
