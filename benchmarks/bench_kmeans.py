"""Benchmark: end-to-end k-means training on taxi-like data (feature_dim 16, k=10).

Data: the first --dim columns of taxi_gen.py's NYC-taxi-like trips (seed 0).

What it measures, on one file of N rows written with the real SDK
(write_numpy_to_dense_tensor):
  - smalgo train, File and Pipe mode, 1 and 2 MPI ranks (File mode for 2 ranks:
    a Pipe-mode FIFO has one reader), and File mode on 1 rank with
    SMALGO_KMEANS_POLISH=0 (SageMaker's documented stream + shrink only):
    wall time of the whole process (config, read, decode, train, shrink,
    polish, model write), records/s and GB/s of input, and peak RSS (max over
    ranks, from GNU time when available);
  - peers on the same recordIO file, load included (the SDK's reader
    read_records -> numpy): scikit-learn KMeans(lloyd, n_init=1),
    MiniBatchKMeans, faiss.Kmeans (faiss-cpu, if installed);
  - the msd of every model over all rows (float64), and whether it is within
    2% of the best msd seen. "time to a model within 2% of the best" is each
    method's wall time when its msd qualifies, else "-".

Usage: python benchmarks/bench_kmeans.py [--rows N] [--repeats R] [--bin PATH]
Environment: SMALGO_BIN (default build/runtime/smalgo). Prints a table of
medians over the repeats. Keeps its data in a temporary folder it removes.
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import common  # noqa: F401  (puts tests/kit on sys.path)
import taxi_gen
from smgkit import ndarray, paths
from smgkit.kmeans import msd
from smgkit.mlroot import MLRoot, setup_job
from smgkit.mpi import MPI_ENV, mpirun
from smgkit.payloads import write_parts
from smgkit.pipe import PipeFeeder

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
from sagemaker.amazon.common import read_records  # noqa: E402


def taxi_like(n, d):
    """The first d columns of benchmarks/taxi_gen.py's trips (seed 0)."""
    if not 1 <= d <= taxi_gen.FEATURE_DIM:
        sys.exit("--dim must be 1..%d (taxi_gen.py's columns)" % taxi_gen.FEATURE_DIM)
    return np.ascontiguousarray(taxi_gen.generate(0, n)[:, :d])


def setup(root, hp, mode, data):
    ml = MLRoot(root)
    setup_job(ml, hp, mode=mode)
    if mode == "File":
        for i, part in enumerate(data):
            os.link(part, ml.channel_dir("train") / ("part-%02d.pbr" % i))
    return ml


def run_smalgo(binary, tmp, parts, k, d, mode, ranks, polish=True):
    root = tmp / ("ml-%s-%d" % (mode, ranks))
    shutil.rmtree(root, ignore_errors=True)
    ml = setup(root, {"k": k, "feature_dim": d}, mode, parts)
    feeder = PipeFeeder(ml.fifo("train"), parts, timeout=60) if mode == "Pipe" else None
    cmd = [str(binary), "train", "--ml-root", str(root), "--algorithm", "kmeans"]
    timer = shutil.which("time") or (os.path.exists("/usr/bin/time") and "/usr/bin/time")
    if ranks > 1:
        cmd = mpirun(ranks, cmd, "--bind-to", "none")
    if timer:
        cmd = [timer, "-f", "MAXRSS_KB=%M"] + cmd
    env = dict(os.environ, **MPI_ENV, OPENBLAS_NUM_THREADS="1",
               SMALGO_KMEANS_POLISH="1" if polish else "0")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if feeder:
        feeder.join(timeout=10)
    if proc.returncode != 0:
        sys.exit("smalgo failed:\n" + proc.stdout[-3000:] + proc.stderr[-3000:])
    rss = [int(l.split("=")[1]) for l in proc.stderr.splitlines() if l.startswith("MAXRSS_KB=")]
    return wall, ndarray.read(ml.model_file())[0][0], (max(rss) / 1024 if rss else None)


def check_sdk_reader(part, x_head):
    """The SDK's reader gives back what the peers' .npy holds (first rows)."""
    with open(part, "rb") as f:
        for i, r in enumerate(read_records(f)):
            assert np.array_equal(np.asarray(r.features["values"].float32_tensor.values,
                                             np.float32), x_head[i])
            if i == 99:
                break


def peer(name, npy, k):
    # Peers load the same rows from a .npy copy (np.load): far faster than the
    # SDK's per-record protobuf reader, so this favours them.
    t0 = time.perf_counter()
    x = np.load(npy)
    t_load = time.perf_counter() - t0
    if name == "sklearn KMeans":
        from sklearn.cluster import KMeans
        c = KMeans(k, n_init=1, algorithm="lloyd", random_state=0).fit(x).cluster_centers_
    elif name == "MiniBatchKMeans":
        from sklearn.cluster import MiniBatchKMeans
        c = MiniBatchKMeans(k, random_state=0, n_init=1).fit(x).cluster_centers_
    else:
        import faiss
        km = faiss.Kmeans(x.shape[1], k, niter=25, seed=1234)
        km.train(np.ascontiguousarray(x))
        c = km.centroids
    return time.perf_counter() - t0, t_load, c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--bin", default=paths.smalgo_bin())
    ap.add_argument("--no-peers", action="store_true")
    a = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench_kmeans_"))
    try:
        x = taxi_like(a.rows, a.dim)
        parts = write_parts(tmp, x, 4)
        nbytes = sum(p.stat().st_size for p in parts)
        npy = tmp / "x.npy"
        np.save(npy, x)
        check_sdk_reader(parts[0], x[:100])
        print("data: %d rows x %d, %.1f MB recordIO-protobuf in 4 files"
              % (a.rows, a.dim, nbytes / 1e6))
        results = []
        for mode, ranks, polish in (("File", 1, True), ("Pipe", 1, True), ("File", 2, True),
                                    ("File", 1, False)):
            runs = [run_smalgo(a.bin, tmp, parts, a.k, a.dim, mode, ranks, polish)
                    for _ in range(a.repeats)]
            wall = float(np.median([r[0] for r in runs]))
            rss = [r[2] for r in runs if r[2] is not None]
            results.append(("smalgo %s %d rank%s%s" % (mode, ranks, "s" if ranks > 1 else "",
                                                       "" if polish else " no polish"),
                            wall, None, msd(x, runs[-1][1]), max(rss) if rss else None))
        if not a.no_peers:
            peers = ["sklearn KMeans", "MiniBatchKMeans"]
            try:
                import faiss  # noqa: F401
                peers.append("faiss.Kmeans")
            except ImportError:
                print("faiss-cpu not installed: skipped")
            for name in peers:
                runs = [peer(name, npy, a.k) for _ in range(a.repeats)]
                results.append((name, float(np.median([r[0] for r in runs])),
                                float(np.median([r[1] for r in runs])), msd(x, runs[-1][2]),
                                None))
        best = min(r[3] for r in results)
        print("%-24s %9s %9s %12s %8s %10s %9s %9s" % ("method", "wall s", "load s", "msd",
                                                        "vs best", "within 2%", "rec/s",
                                                        "RSS MB"))
        for name, wall, load, m, rss in results:
            print("%-24s %9.3f %9s %12.6g %8.4f %10s %9.3g %9s"
                  % (name, wall, "-" if load is None else "%.3f" % load, m, m / best,
                     "%.3f s" % wall if m <= 1.02 * best else "-", a.rows / wall,
                     "-" if rss is None else "%.0f" % rss))
        for name, wall, _load, _m, _rss in results[:4]:
            print("%s: %.3g records/s, %.3f GB/s of input" % (name, a.rows / wall,
                                                              nbytes / 1e9 / wall))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
