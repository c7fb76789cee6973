#!/usr/bin/python3
"""Hostile input catalogue: malformed data files, absurd flags, broken run directories and
draws CSVs, an unwritable output directory and a full disk, each given to the real `bnnmc`.
Every entry must end with an error exit status (1..127, not a signal), no sanitizer report,
a message naming the offending file (and line / offset / field / flag where there is one), and
no run directory that claims to be complete. Controls check that the well-formed neighbours of
the malformed files are accepted, so that a message cannot come from an unrelated failure.

One line per entry ("ok ..." / "not ok ..."); the exit status is the verdict.
usage: hostile.py PATH/TO/bnnmc [ONLY_SUBSTRING]
"""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

BNNMC = os.path.abspath(sys.argv[1])
ONLY = sys.argv[2] if len(sys.argv) > 2 else ""
TIMEOUT = 120  # seconds per command: a hang is a failure
SANITIZER_MARKS = ("Sanitizer", "runtime error:", "LeakSanitizer", "AddressSanitizer")

failures = 0
counted = 0


def verdict(ok, name, detail):
    global failures, counted
    counted += 1
    failures += not ok
    print(("ok " if ok else "not ok ") + name + ": " + detail.replace("\n", " | ")[:300])


def run(args, env=None):
    """(exit status, stderr) of bnnmc ARGS; a signal is reported as 128 + its number."""
    try:
        p = subprocess.run([BNNMC, *args], capture_output=True, text=True, errors="replace",
                           timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {TIMEOUT} s"
    rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return rc, p.stderr


def run_json_complete(out_dir):
    """Whether out_dir holds a run.json that says the run is complete."""
    try:
        with open(os.path.join(out_dir, "run.json")) as f:
            return json.load(f).get("status") == "complete"
    except (OSError, ValueError, AttributeError):
        return False


def expect_error(name, needles, args, out_dir=None, sh=None, known_bug=None):
    """bnnmc ARGS (or the shell line SH) fails cleanly and stderr holds every needle.
    known_bug: a bug outside the catalogue's reach, described; the entry is reported but its
    failure does not fail the test, and its passing does (so that the mark is removed)."""
    if ONLY and ONLY not in name:
        return
    if sh is not None:
        p = subprocess.run(["sh", "-c", sh], capture_output=True, text=True, errors="replace",
                           timeout=TIMEOUT)
        rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
        err = p.stderr
    else:
        rc, err = run(args)
    first = err.strip().splitlines()[-1] if err.strip() else "(no message)"
    problems = []
    if rc == 0:
        problems.append("exit status 0")
    elif rc >= 128:
        problems.append(f"crashed (exit status {rc})")
    elif rc == 124:
        problems.append("hung")
    if any(m in err for m in SANITIZER_MARKS):
        problems.append("sanitizer report")
    missing = [n for n in needles if n not in err]
    if missing:
        problems.append("message lacks " + ", ".join(repr(n) for n in missing))
    if out_dir and run_json_complete(out_dir):
        problems.append(f"{out_dir}/run.json says complete")
    detail = "; ".join(problems) + ": " + err.strip()[:400] if problems else f"exit {rc}: {first}"
    if known_bug and problems:
        print(f"not ok {name} # TODO known bug: {known_bug}: {detail[:200]}")
        return
    if known_bug:
        detail = f"known bug fixed ({known_bug}): remove known_bug= from this entry"
        problems.append(detail)
    verdict(not problems, name, detail)


def expect_success(name, args):
    if ONLY and ONLY not in name:
        return
    rc, err = run(args)
    ok = rc == 0 and not any(m in err for m in SANITIZER_MARKS)
    verdict(ok, "control: " + name, f"exit {rc}" + ("" if ok else ": " + err.strip()[:400]))


# ---- file builders ---------------------------------------------------------------------------

def write(path, data):
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


def idx_images(n, h, w, data=None):
    hdr = struct.pack(">IIII", 0x803, n, h, w)
    return hdr + (bytes(n * h * w) if data is None else data)


def idx_labels(n, data=None):
    return struct.pack(">II", 0x801, n) + (bytes(i % 2 for i in range(n)) if data is None else data)


def npy_bytes(header_dict, data=b"", version=(1, 0)):
    """A .npy file with the header text exactly as given (padded to 64 bytes with spaces)."""
    text = header_dict.encode("latin1")
    len_size = 2 if version[0] == 1 else 4
    pad = (64 - (10 + (len_size - 2) + len(text) + 1) % 64) % 64
    text = text + b" " * pad + b"\n"
    fmt = "<H" if len_size == 2 else "<I"
    return b"\x93NUMPY" + bytes(version) + struct.pack(fmt, len(text)) + text + data


def npy_save(path, arr):
    np.save(path, arr, allow_pickle=False)
    return path


def main():
    tmp = tempfile.mkdtemp(prefix="bnnmc-hostile-")
    try:
        catalogue(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{counted - failures}/{counted} passed")
    if failures:
        print(f"FAILED ({failures})")
        sys.exit(1)
    print("PASSED")


def catalogue(d):
    P = lambda name: os.path.join(d, name)  # noqa: E731
    outs = iter(range(10**6))

    def sample_args(train, test, *extra):
        out = P(f"out{next(outs)}")
        return out, ["sample", "--train", train, "--test", test, "--arch", "mlp:3", "--warmup",
                     "2", "--samples", "2", "--chains", "1", "--quiet", "--out", out, *extra]

    def data_case(name, needles, train, test, *extra):
        out, args = sample_args(train, test, *extra)
        expect_error(name, needles, args, out_dir=out)

    # ---- CSV --------------------------------------------------------------------------------
    good = write(P("good.csv"), "a,b,t\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    good3 = write(P("good3.csv"), "a,b,c,t\n1,2,3,0\n3,4,5,1\n")
    expect_success("well-formed CSV train and test", sample_args(good, good)[1])
    data_case("CSV ragged row (extra column)", ["ragged.csv:3:"],
              write(P("ragged.csv"), "a,b,t\n1,2,0\n3,4,1,9\n5,6,0\n"), good)
    data_case("CSV short row", ["short.csv:3:"], write(P("short.csv"), "a,b,t\n1,2,0\n3,4\n"), good)
    data_case("CSV text in a number", ["text.csv:3:2", "'x'"],
              write(P("text.csv"), "a,b,t\n1,2,0\n3,x,1\n5,6,0\n"), good)
    data_case("CSV number with trailing junk", ["junk.csv:2:1"],
              write(P("junk.csv"), "a,b,t\n1.5e,2,0\n3,4,1\n"), good)
    data_case("CSV NaN", ["nan.csv:4:1"], write(P("nan.csv"), "a,b,t\n1,2,0\n3,4,1\nNaN,6,0\n"), good)
    data_case("CSV Inf", ["inf.csv:4:2"], write(P("inf.csv"), "a,b,t\n1,2,0\n3,4,1\n5,inf,0\n"), good)
    data_case("CSV overflowing number (1e999)", ["big.csv:3:1"],
              write(P("big.csv"), "a,b,t\n1,2,0\n1e999,4,1\n"), good)
    data_case("CSV empty cell", ["emptycell.csv:3:2"],
              write(P("emptycell.csv"), "a,b,t\n1,2,0\n3,,1\n"), good)
    data_case("CSV empty file", ["empty.csv"], write(P("empty.csv"), ""), good)
    data_case("CSV only blank lines", ["blank.csv"], write(P("blank.csv"), "\n  \n\n"), good)
    data_case("CSV header only", ["header-only.csv"], write(P("header-only.csv"), "a,b,t\n"), good)
    data_case("CSV one column", ["onecol.csv:1"], write(P("onecol.csv"), "1\n2\n3\n"), good)
    data_case("CSV binary junk with NUL bytes", ["binary.csv"],
              write(P("binary.csv"), bytes(range(256)) * 4), good)
    data_case("CSV NUL byte inside a number", ["nul.csv:3:1"],
              write(P("nul.csv"), b"a,b,t\n1,2,0\n3\x004,5,1\n"), good)
    data_case("CSV test file of another width", ["good3.csv", "good.csv"], good, good3)
    data_case("CSV test label >= classes", ["testlabel.csv", "row 2", "label 7"],
              good, write(P("testlabel.csv"), "a,b,t\n1,2,0\n3,4,7\n"))
    data_case("CSV label >= --classes", ["good.csv", "row 2"], good, good, "--classes", "1")
    data_case("CSV negative label", ["neg.csv", "row 2", "-1"],
              write(P("neg.csv"), "a,b,t\n1,2,0\n3,4,-1\n"), good)
    data_case("CSV non-integer label", ["frac.csv", "row 3", "0.5"],
              write(P("frac.csv"), "a,b,t\n1,2,0\n3,4,1\n5,6,0.5\n"), good)
    data_case("CSV absurdly large label", ["hugelabel.csv", "row 1"],
              write(P("hugelabel.csv"), "a,b,t\n1,2,1e300\n3,4,1\n"), good)
    data_case("CSV --target-col beyond the columns", ["good.csv", "target column 9"],
              good, good, "--target-col", "9")
    data_case("missing data file", ["missing.csv"], P("missing.csv"), good)
    data_case("data path is a directory", [d], d, good)

    # ---- IDX (raw and gzip) -----------------------------------------------------------------
    img = write(P("img.idx"), idx_images(4, 2, 2))
    lab = write(P("lab.idx"), idx_labels(4))
    img_gz = write(P("img.idx.gz"), gzip.compress(idx_images(4, 2, 2)))
    expect_success("well-formed IDX pair (raw)", sample_args(f"{img},{lab}", f"{img},{lab}")[1])
    expect_success("well-formed IDX pair (gzip)", sample_args(f"{img_gz},{lab}", f"{img},{lab}")[1])
    data_case("IDX truncated images", ["trunc-img.idx", "offset"],
              f"{write(P('trunc-img.idx'), idx_images(4, 2, 2)[:21])},{lab}", good)
    data_case("IDX truncated header", ["trunc-hdr.idx", "offset"],
              f"{write(P('trunc-hdr.idx'), idx_images(4, 2, 2)[:9])},{lab}", good)
    data_case("IDX truncated labels", ["trunc-lab.idx"],
              f"{img},{write(P('trunc-lab.idx'), idx_labels(4)[:10])}", good)
    bad_magic = bytearray(idx_images(4, 2, 2))
    bad_magic[3] = 0x0D  # float32 images
    data_case("IDX wrong images magic", ["badmagic.idx", "offset 0", "magic"],
              f"{write(P('badmagic.idx'), bytes(bad_magic))},{lab}", good)
    data_case("IDX labels file given as images", ["lab.idx", "magic"], f"{lab},{lab}", good)
    data_case("IDX images file given as labels", ["img.idx", "magic"], f"{img},{img}", good)
    data_case("IDX dimension overflow (raw)", ["overflow.idx", "overflow"],
              f"{write(P('overflow.idx'), struct.pack('>IIII', 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF))},{lab}",
              good)
    # 2^20 labels and images of 256 x 256 (64 GiB) in a few kilobytes of gzip: refused before
    # anything is allocated (deflate cannot expand more than 1032-fold).
    data_case("IDX huge dimensions in a small gzip file", ["huge.idx.gz", "gzip"],
              f"{write(P('huge.idx.gz'), gzip.compress(struct.pack('>IIII', 0x803, 1 << 20, 1 << 8, 1 << 8) + bytes(4096)))},"
              f"{write(P('huge-lab.idx.gz'), gzip.compress(idx_labels(1 << 20, bytes(1 << 20))))}", good)
    data_case("IDX huge dimensions (raw, file too short)", ["hugeraw.idx", "truncated"],
              f"{write(P('hugeraw.idx'), struct.pack('>IIII', 0x803, 1 << 20, 1 << 16, 1 << 12))},{lab}",
              good)
    data_case("IDX zero dimension", ["zerodim.idx", "dimension"],
              f"{write(P('zerodim.idx'), struct.pack('>IIII', 0x803, 4, 0, 2))},{lab}", good)
    data_case("IDX image/label count mismatch", ["img.idx", "lab5.idx", "5"],
              f"{img},{write(P('lab5.idx'), idx_labels(5))}", good)
    data_case("IDX trailing bytes", ["trailing.idx", "offset"],
              f"{write(P('trailing.idx'), idx_images(4, 2, 2) + b'xyz')},{lab}", good)
    data_case("IDX label >= classes", ["lab9.idx", "row"],
              f"{img},{lab}", f"{img},{write(P('lab9.idx'), idx_labels(4, bytes([0, 1, 9, 1])))}")
    corrupt = bytearray(gzip.compress(idx_images(64, 8, 8, bytes(range(256)) * 16)))
    for i in range(12, len(corrupt) - 8, 7):
        corrupt[i] ^= 0x5A
    data_case("gzip corrupt deflate stream", ["corrupt.idx.gz"],
              f"{write(P('corrupt.idx.gz'), bytes(corrupt))},{lab}", good)
    crc = bytearray(gzip.compress(idx_images(4, 2, 2)))
    crc[-8] ^= 0xFF  # CRC-32 of the uncompressed data
    data_case("gzip bad CRC", ["badcrc.idx.gz"], f"{write(P('badcrc.idx.gz'), bytes(crc))},{lab}", good)
    data_case("gzip stream cut short", ["cut.idx.gz"],
              f"{write(P('cut.idx.gz'), gzip.compress(idx_images(4, 2, 2))[:20])},{lab}", good)
    data_case("IDX file alone as a CSV spec", ["img.idx", "XFILE,YFILE"], img, good)

    # ---- .npy -------------------------------------------------------------------------------
    x = npy_save(P("x.npy"), np.arange(8, dtype="<f8").reshape(4, 2))
    y = npy_save(P("y.npy"), np.array([0, 1, 0, 1], dtype="<i8"))
    expect_success("well-formed .npy pair", sample_args(f"{x},{y}", good)[1])
    hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }"
    data8 = np.arange(8, dtype="<f8").tobytes()

    def npy_case(name, needles, content, as_targets=False):
        path = write(P("".join(c if c.isalnum() else "_" for c in name) + ".npy"), content)
        spec = f"{x},{path}" if as_targets else f"{path},{y}"
        data_case(".npy " + name, [os.path.basename(path), *needles], spec, good)

    npy_case("bad magic (targets)", ["magic"], b"\x93NUMPX\x01\x00" + npy_bytes(hdr, data8)[8:], True)
    npy_case("bad magic (features)", [], b"\x93NUMPX\x01\x00" + npy_bytes(hdr, data8)[8:])
    npy_case("header dict not Python syntax", ["header"],
             npy_bytes("{'descr': <f8, 'fortran_order': False, 'shape': (4, 2), }", data8))
    npy_case("header not a dict", ["header"], npy_bytes("['descr', '<f8']", data8))
    npy_case("header missing shape", ["'shape'"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, }", data8))
    npy_case("header unknown key", ["'extra'"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), 'extra': 1, }", data8))
    npy_case("fortran order", ["fortran_order"],
             npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (4, 2), }", data8))
    npy_case("unsupported dtype complex128", ["descr", "<c16"],
             npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (4, 2), }", data8 * 2))
    npy_case("unsupported dtype object", ["descr"],
             npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (4, 2), }", data8))
    npy_case("big-endian dtype", ["descr", ">f8"],
             npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (4, 2), }", data8))
    npy_case("truncated data", ["truncated", "offset"], npy_bytes(hdr, data8[:40]))
    npy_case("truncated header", ["offset"], npy_bytes(hdr, data8)[:40])
    npy_case("shape overflow", ["'shape'", "overflow"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': "
                       "(18446744073709551615, 18446744073709551615), }", data8))
    npy_case("dimension beyond 64 bits", ["'shape'", "overflow"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999, 2), }",
                       data8))
    npy_case("huge shape, small file", ["truncated"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000), }", data8))
    npy_case("nine dimensions", ["'shape'"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", data8))
    npy_case("negative dimension", ["'shape'"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (-4, 2), }", data8))
    npy_case("implausible header length (v2.0)", ["offset 8"],
             b"\x93NUMPY\x02\x00" + struct.pack("<I", 0xFFFFFFF0) + b"{}")
    npy_case("unsupported format version", ["version"], b"\x93NUMPY\x09\x00" + npy_bytes(hdr, data8)[8:])
    npy_case("1-D features", ["'shape'"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (8,), }", data8))
    npy_case("targets of shape (4, 2)", ["'shape'"], npy_bytes(hdr, data8), True)
    npy_case("targets count differs from rows", ["3"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data8[:24]), True)
    npy_case("NaN in features", ["row 2"],
             npy_bytes(hdr, np.array([0, 1, 2, np.nan, 4, 5, 6, 7], dtype="<f8").tobytes()))
    npy_case("non-integer float targets", ["row 2"],
             npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                       np.array([0, 0.5, 1, 0], dtype="<f8").tobytes()), True)

    # ---- absurd flags -----------------------------------------------------------------------
    base = ["sample", "--data", "digits", "--train-subset", "100", "--fs-points", "10", "--arch",
            "mlp:3", "--warmup", "2", "--samples", "2", "--chains", "1", "--quiet"]

    def flag_case(flag, value, needle=None):
        out = P(f"out{next(outs)}")
        expect_error(f"flag {flag} {value}", [needle or flag],
                     [*base, "--out", out, flag, value], out_dir=out)

    expect_success("the base flags run", [*base, "--out", P("flags-ok")])
    flag_case("--step-size", "-0.1")
    flag_case("--chains", "0")
    flag_case("--threads", "0")
    flag_case("--thin", "0")
    flag_case("--arch", "mlp:0")
    flag_case("--arch", "bogus")
    flag_case("--prior-var", "-1")
    flag_case("--precision", "float16")
    flag_case("--target-accept", "1.5")
    flag_case("--jitter", "2")
    flag_case("--data", "nosuch", "nosuch")
    flag_case("--samples", "18446744073709551616")
    flag_case("--warmup", "ten")
    flag_case("--seed", "-3")
    flag_case("--fs-points", "1e3")
    flag_case("--train-subset", "100000", "100000")
    flag_case("--arch", "mlp:99999999999999999999")
    flag_case("--block-rows", "0")
    expect_error("--train without --test", ["--test"],
                 ["sample", "--train", good, "--quiet", "--out", P("no-test")])
    expect_error("unknown option", ["--frobnicate"], [*base, "--frobnicate"])

    # ---- output directory -------------------------------------------------------------------
    plain_file = write(P("a-file"), "not a directory\n")
    expect_error("--out under a regular file", [plain_file], [*base, "--out", plain_file + "/run"])
    expect_error("--out is a regular file", [plain_file], [*base, "--out", plain_file, "--overwrite"])
    disk_full(d, base)

    # ---- run directories for predict and diagnose -------------------------------------------
    run_dir = P("run")
    expect_success("a short run for predict and diagnose",
                   [*base, "--chains", "2", "--out", run_dir])
    expect_success("predict on the good run", ["predict", run_dir])
    expect_success("diagnose on the good run", ["diagnose", run_dir])
    empty_dir = P("not-a-run")
    os.mkdir(empty_dir)
    expect_error("predict on a non-run directory", [empty_dir], ["predict", empty_dir])
    expect_error("predict on a missing directory", ["nosuch-run"], ["predict", P("nosuch-run")])
    expect_error("diagnose on a non-run directory", [empty_dir], ["diagnose", empty_dir])

    def broken_run(name, edit):
        dst = P(name)
        shutil.copytree(run_dir, dst)
        edit(dst)
        return dst

    bad_json = broken_run("run-badjson", lambda r: write(os.path.join(r, "run.json"),
                                                        '{"format": "bnnmc-run", "status": \n'))
    expect_error("predict on malformed run.json", ["run.json", "line"], ["predict", bad_json])
    expect_error("diagnose on malformed run.json", ["run.json"], ["diagnose", bad_json])
    wrong_types = broken_run("run-types", lambda r: write(
        os.path.join(r, "run.json"), '{"format": "bnnmc-run", "status": "complete", "config": 3}'))
    expect_error("predict on run.json with wrong fields", ["run.json"], ["predict", wrong_types])
    expect_error("diagnose on run.json with wrong fields", ["run.json"], ["diagnose", wrong_types])
    running = broken_run("run-running", lambda r: write(
        os.path.join(r, "run.json"),
        open(os.path.join(run_dir, "run.json")).read().replace('"complete"', '"running"')))
    expect_error("predict on a run not marked complete", ["run.json"], ["predict", running])

    def edit_json(name, change):
        def edit(r):
            path = os.path.join(r, "run.json")
            j = json.load(open(path))
            change(j)
            json.dump(j, open(path, "w"))
        return broken_run(name, edit)

    many = edit_json("run-chains", lambda j: j["config"].update(chains=10**15))
    expect_error("diagnose on run.json with 10^15 chains", ["run.json", "config.chains"],
                 ["diagnose", many])
    outside = edit_json("run-params", lambda j: j["model"]["params"][1].update(offset=2**62))
    expect_error("diagnose on run.json with a parameter block outside n_params",
                 ["run.json", "model.params[1]"], ["diagnose", outside])
    huge_block = edit_json("run-block", lambda j: j["model"]["params"][0].update(shape=[2**31] * 3))
    expect_error("diagnose on run.json with an overflowing parameter shape",
                 ["run.json", "model.params[0]"], ["diagnose", huge_block])
    fs_wrap = edit_json("run-fswrap", lambda j: j.update(fs_outputs=2**62))
    expect_error("diagnose on run.json with fs_points x fs_outputs overflowing",
                 ["run.json", "fs_outputs"], ["diagnose", fs_wrap])

    def wrap_outputs(r):
        # fs_outputs = 2^62 makes (test points) x outputs wrap to 0 when the test set has a
        # multiple of 4 points; empty bma_sum.npy files then match that count.
        path = os.path.join(r, "run.json")
        j = json.load(open(path))
        j["fs_outputs"] = 2**62
        json.dump(j, open(path, "w"))
        np.save(os.path.join(r, "test_targets.npy"), np.zeros(4))
        for c in range(2):
            np.save(os.path.join(r, f"chain_{c:03d}", "bma_sum.npy"), np.zeros(0))

    bma_wrap = broken_run("run-bmawrap", wrap_outputs)
    expect_error("predict on run.json whose fs_outputs wraps the BMA size", ["run.json", "fs_outputs"],
                 ["predict", bma_wrap])

    def truncate(path, keep):
        with open(path, "r+b") as f:
            f.truncate(keep)

    w_trunc = broken_run("run-wtrunc", lambda r: truncate(
        os.path.join(r, "chain_000", "weights.npy"), os.path.getsize(os.path.join(r, "chain_000", "weights.npy")) - 5))
    expect_error("diagnose on truncated weights.npy", ["chain_000/weights.npy"], ["diagnose", w_trunc])
    w_hdr = broken_run("run-whdr", lambda r: truncate(os.path.join(r, "chain_000", "weights.npy"), 30))
    expect_error("diagnose on weights.npy cut inside its header", ["chain_000/weights.npy"],
                 ["diagnose", w_hdr])
    bma_trunc = broken_run("run-bmatrunc", lambda r: truncate(
        os.path.join(r, "chain_001", "bma_sum.npy"), os.path.getsize(os.path.join(r, "chain_001", "bma_sum.npy")) - 8))
    expect_error("predict on truncated bma_sum.npy", ["chain_001/bma_sum.npy"], ["predict", bma_trunc])
    fs_trunc = broken_run("run-fstrunc", lambda r: truncate(os.path.join(r, "chain_001", "fs.npy"), 100))
    expect_error("diagnose on truncated fs.npy", ["chain_001/fs.npy"], ["diagnose", fs_trunc])
    stats_gone = broken_run("run-nostats", lambda r: os.remove(os.path.join(r, "chain_000", "stats.npy")))
    expect_error("predict on a run without stats.npy", ["stats.npy"], ["predict", stats_gone])
    expect_error("diagnose --threads 0", ["--threads"], ["diagnose", run_dir, "--threads", "0"])

    # ---- draws CSVs for summary -------------------------------------------------------------
    plain = write(P("draws.csv"), "a,b\n" + "".join(f"{i * 0.1},{i * 0.2 + 1}\n" for i in range(20)))
    stan_hdr = "lp__,accept_stat__,mu,tau\n"
    stan = lambda rows: "# Adaptation terminated\n" + stan_hdr + "".join(  # noqa: E731
        f"{-i},{0.9},{i * 0.3},{i * 0.1 + 1}\n" for i in range(rows))
    c1 = write(P("stan1.csv"), stan(20))
    c2 = write(P("stan2.csv"), stan(20))
    expect_success("summary on a plain CSV", ["summary", plain])
    expect_success("summary on two CmdStan CSVs", ["summary", c1, c2])
    expect_error("summary: text in a number", ["s-text.csv:3:3"],
                 ["summary", write(P("s-text.csv"), "a,b\n1,2\n3,abc\n")])
    expect_error("summary: ragged row", ["s-ragged.csv:3"],
                 ["summary", write(P("s-ragged.csv"), "a,b\n1,2\n3,4,5\n")])
    expect_error("summary: empty file", ["s-empty.csv"], ["summary", write(P("s-empty.csv"), "")])
    expect_error("summary: header only", ["s-hdr.csv"], ["summary", write(P("s-hdr.csv"), "a,b\n")])
    expect_error("summary: missing file", ["s-missing.csv"], ["summary", P("s-missing.csv")])
    expect_error("summary: CmdStan header differs between files", ["stan-other.csv", "stan1.csv"],
                 ["summary", c1, write(P("stan-other.csv"), stan(20).replace("tau", "sigma"))])
    expect_error("summary: CmdStan chains of different lengths", ["stan-short.csv"],
                 ["summary", c1, write(P("stan-short.csv"), stan(10))])
    expect_error("summary: CmdStan comments only", ["stan-comments.csv"],
                 ["summary", write(P("stan-comments.csv"), "# model = x\n# Adaptation terminated\n")])
    expect_error("summary: CmdStan only sampler columns", ["stan-sampler.csv"],
                 ["summary", write(P("stan-sampler.csv"), "# c\naccept_stat__,n_leapfrog__\n0.9,3\n")])
    expect_error("summary: CmdStan text in a draw", ["stan-text.csv:4:8", "field 3"],
                 ["summary", write(P("stan-text.csv"), stan(3).replace("0.3,", "zz,", 1))])
    expect_error("summary: binary junk", ["s-binary.csv"],
                 ["summary", write(P("s-binary.csv"), bytes(range(1, 256)) * 8)])


def disk_full(d, base):
    """A run into a 64 KiB tmpfs (in a private mount namespace, so nothing outlives the test);
    where mounting is not allowed, `diagnose` writing diagnostics.json into /dev/full instead."""
    name = "disk full"
    if ONLY and ONLY not in name:
        return
    mnt = os.path.join(d, "tiny")
    os.mkdir(mnt)
    out = os.path.join(mnt, "run")
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs '{mnt}'"],
                           capture_output=True)
    if probe.returncode != 0:
        probe = subprocess.run(["unshare", "-rm", "sh", "-c",
                                f"mount -t tmpfs -o size=64k tmpfs '{mnt}'"], capture_output=True)
        ns = "unshare -rm" if probe.returncode == 0 else None
    else:
        ns = "unshare -m"
    if ns:
        args = " ".join(f"'{a}'" for a in [BNNMC, *base, "--arch", "mlp:50", "--samples", "200",
                                           "--out", out])
        # The run fails; then the check that no run.json claims completion runs inside the same
        # namespace (the tmpfs vanishes with it).
        sh = (f"mount -t tmpfs -o size=64k tmpfs '{mnt}' && {{ {args}; rc=$?; "
              f"if grep -qs '\"status\": \"complete\"' '{out}/run.json'; then "
              f"echo 'run.json says complete' >&2; exit 0; fi; exit $rc; }}")
        expect_error(f"{name}: run into a 64 KiB tmpfs ({ns})", [out], None,
                     sh=f"{ns} sh -c {shlex_quote(sh)}")
    else:
        print(f"# {name}: cannot mount a tmpfs here ({probe.stderr.decode().strip()}); "
              "using /dev/full for diagnose's output instead")
    run_dir = os.path.join(d, "run-devfull")
    rc, err = run([*base, "--out", run_dir])
    if rc != 0:
        verdict(False, f"{name}: setup run for /dev/full", err.strip())
        return
    # diagnostics.json is written to a .tmp file and renamed; the arrays are written in place.
    os.symlink("/dev/full", os.path.join(run_dir, "diagnostics.json.tmp"))
    expect_error(f"{name}: diagnose writing diagnostics.json into /dev/full",
                 ["diagnostics.json"], ["diagnose", run_dir])
    os.remove(os.path.join(run_dir, "diagnostics.json.tmp"))
    os.symlink("/dev/full", os.path.join(run_dir, "diag_weight_rhat.npy"))
    expect_error(f"{name}: diagnose writing diag_weight_rhat.npy into /dev/full",
                 ["diag_weight_rhat.npy"], ["diagnose", run_dir])


def shlex_quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"


if __name__ == "__main__":
    main()
