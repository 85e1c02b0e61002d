"""End-to-end PCA training throughput: smalgo vs scikit-learn, same file, same run.

For each feature_dim (16, taxi-like; 316, Arvato-like width) the script writes
one recordIO-protobuf file with the real SageMaker SDK writer, then times, each
--repeats times and reports the median:

  smalgo File  `smalgo train` reading the file from input/data/train/
  smalgo Pipe  the same, the file streamed into the FIFO train_0 by
               `smalgo pipe` (page cache to pipe with splice(), as a Pipe-mode
               agent streams; no user-space copy)
  smalgo Pipe (cat)  the same with `cat` as the writer, for comparison: cat
               copies every byte through user space in 128 KiB writes, which
               on this 2-core machine takes CPU from the decoder
  sklearn      PCA(svd_solver="full") and IncrementalPCA(batch_size=5000),
               each timed with its load from the same file (a numpy view
               of the fixed-stride dense records; shown separately too)

and prints records/s and GB/s of input (file bytes / wall seconds), smalgo's
CPU seconds (user + system of the train process), plus each one's largest
relative error in the top singular values against a float64 two-pass
reference (the accuracy check), and the load average before and after each
size (the machine is shared: compare rows of the same run).

    python benchmarks/bench_pca.py [--rows16 N] [--rows316 N] [--repeats 5] [--sk-repeats 3]

SMALGO_BIN selects the binary (default build/runtime/smalgo). Needs numpy,
scikit-learn and sagemaker (the test venv). Writes into a temporary folder.
"""
import argparse
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import common  # noqa: F401  (puts tests/kit on sys.path)
from smgkit import ndarray, paths
from smgkit.mlroot import MLRoot, setup_job
from smgkit.payloads import decode_dense, sdk_dense

SMALGO = paths.smalgo_bin()


def taxi_like(n, d, rng):
    """Coordinates around NYC, trip distance, fares; extra columns are mixes of those."""
    base = np.empty((n, 6), np.float64)
    z = rng.standard_normal((n, 6))
    base[:, 0] = -73.98 + 0.04 * z[:, 0]
    base[:, 1] = 40.75 + 0.03 * z[:, 1]
    base[:, 2] = base[:, 0] + 0.02 * z[:, 2]
    base[:, 3] = base[:, 1] + 0.015 * z[:, 3]
    base[:, 4] = 3.0 + 2.0 * np.abs(z[:, 4])
    base[:, 5] = 2.5 + 2.5 * base[:, 4] + z[:, 5]
    if d <= 6:
        return base[:, :d].astype(np.float32)
    mix = rng.standard_normal((6, d - 6)) * 0.3
    extra = base @ mix + 0.1 * rng.standard_normal((n, d - 6))
    return np.hstack([base, extra]).astype(np.float32)


def write_file(path, n, d, seed=1, chunk=200000):
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        for start in range(0, n, chunk):
            f.write(sdk_dense(taxi_like(min(chunk, n - start), d, rng)))


def load_recordio(path, d):
    """The dense float32 rows of an SDK-written file (fixed-stride records)."""
    return decode_dense(np.fromfile(path, np.uint8), d)


def reference_s(data, d, k, chunk=50000):
    """Top-k singular values of the centred rows: float64 two-pass, chunked."""
    x = load_recordio(data, d)
    mean = np.zeros(d)
    for i in range(0, len(x), chunk):
        mean += x[i:i + chunk].astype(np.float64).sum(0)
    mean /= len(x)
    m2 = np.zeros((d, d))
    for i in range(0, len(x), chunk):
        c = x[i:i + chunk].astype(np.float64) - mean
        m2 += c.T @ c
    return np.sqrt(np.maximum(np.linalg.eigvalsh(m2)[::-1][:k], 0.0))


def ml_tree(root, d, k, mode):
    ml = MLRoot(root)
    setup_job(ml, {"feature_dim": d, "num_components": k, "mini_batch_size": 5000}, mode=mode)
    ml.channel_dir("train")
    return ml


def run_smalgo(tmp, data, d, k, mode):
    """One `smalgo train`; mode File, Pipe (smalgo pipe writes) or Pipe-cat."""
    root = pathlib.Path(tempfile.mkdtemp(dir=tmp))
    ml_tree(root, d, k, "File" if mode == "File" else "Pipe")
    feeder = None
    if mode == "File":
        os.link(data, root / "input/data/train/part-0.pbr")
    else:
        (root / "input/data/train").rmdir()
        if mode == "Pipe-cat":
            fifo = root / "input/data/train_0"
            os.mkfifo(fifo)
            feeder = subprocess.Popen("cat %s > %s" % (data, fifo), shell=True)
        else:
            src = root / "src"
            src.mkdir()
            os.link(data, src / "part-0.pbr")
            feeder = subprocess.Popen([str(SMALGO), "pipe", "--dir", str(root / "input/data"),
                                       "--channel", "train=%s" % src, "--epochs", "1", "--quiet"])
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([str(SMALGO), "train", "--ml-root", str(root), "--algorithm", "pca"],
                          capture_output=True, text=True)
    secs = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if feeder:
        if feeder.wait(timeout=60) != 0:
            sys.exit("the Pipe-mode writer failed")
    if proc.returncode != 0:
        sys.exit("smalgo failed:\n" + proc.stdout + proc.stderr)
    cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    s = ndarray.read_named(root / "model/model_algo-1", dtype=np.float64)["s"][::-1]
    shutil.rmtree(root, ignore_errors=True)
    return secs, cpu, s


def run_sklearn(data, d, k, which):
    from sklearn.decomposition import PCA, IncrementalPCA
    t0 = time.perf_counter()
    x = load_recordio(data, d)
    t_load = time.perf_counter() - t0
    model = PCA(k, svd_solver="full") if which == "PCA" else IncrementalPCA(k, batch_size=5000)
    model.fit(x)
    return time.perf_counter() - t0, t_load, model.singular_values_


def load_average():
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def bench(tmp, d, rows, repeats, sk_repeats):
    k = 10 if d > 10 else 3
    data = pathlib.Path(tmp) / ("taxi_d%d.pbr" % d)
    write_file(data, rows, d)
    size = data.stat().st_size
    print("\nfeature_dim %d, %d rows, %.1f MB recordIO-protobuf, num_components %d"
          % (d, rows, size / 1e6, k))
    print("before: " + load_average())
    results = {}
    runs = {mode: [] for mode in ("File", "Pipe", "Pipe-cat")}
    for _ in range(repeats):  # interleaved, so a load burst hits every mode alike
        for mode in runs:
            runs[mode].append(run_smalgo(tmp, data, d, k, mode))
    for mode, label in (("File", "File"), ("Pipe", "Pipe"), ("Pipe-cat", "Pipe (cat)")):
        r = runs[mode]
        results["smalgo " + label] = (statistics.median(x[0] for x in r), None,
                                      statistics.median(x[1] for x in r), r[0][2])
    for which in ("PCA", "IncrementalPCA"):
        r = [run_sklearn(data, d, k, which) for _ in range(sk_repeats)]
        results["sklearn " + which] = (statistics.median(x[0] for x in r),
                                       statistics.median(x[1] for x in r), None, r[0][2])
    print("after:  " + load_average())
    ref = reference_s(data, d, k)
    print("%-24s %10s %12s %8s %8s %10s %14s" % ("", "seconds", "records/s", "GB/s", "cpu s",
                                               "load s", "s rel err"))
    for name, (secs, load, cpu, s) in results.items():
        print("%-24s %10.3f %12.0f %8.3f %8s %10s %14.2e" % (
            name, secs, rows / secs, size / secs / 1e9, "-" if cpu is None else "%.3f" % cpu,
            "-" if load is None else "%.3f" % load, np.max(np.abs(s - ref) / ref)))
    ipca = results["sklearn IncrementalPCA"][0]
    for mode in ("File", "Pipe"):
        print("smalgo %s is %.1fx faster than IncrementalPCA end to end"
              % (mode, ipca / results["smalgo " + mode][0]))
    print("(medians: smalgo of %d runs, scikit-learn of %d)" % (repeats, sk_repeats))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows16", type=int, default=4000000)
    ap.add_argument("--rows316", type=int, default=200000)
    ap.add_argument("--repeats", type=int, default=5, help="smalgo runs per mode")
    ap.add_argument("--sk-repeats", type=int, default=3, help="scikit-learn runs per model")
    args = ap.parse_args()
    if not SMALGO.exists():
        sys.exit("no smalgo binary at %s (set SMALGO_BIN)" % SMALGO)
    with tempfile.TemporaryDirectory() as tmp:
        bench(tmp, 16, args.rows16, args.repeats, args.sk_repeats)
        bench(tmp, 316, args.rows316, args.repeats, args.sk_repeats)


if __name__ == "__main__":
    main()
