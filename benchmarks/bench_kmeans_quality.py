"""Benchmark: k-means model quality against scikit-learn for k from 2 to 500.

What it measures, on taxi_gen.py's NYC-taxi-like rows (first --dim columns,
CSV in 4 shards, File mode), for k = 2, 5, 10, 50, 100, 500, on 1 and 2 MPI
ranks, with extra_center_factor 1, 4 and auto (other hyperparameters at their
defaults):
  - msd ratio: the mean squared distance of all rows to smalgo's centres
    (float64) over that of scikit-learn's KMeans(n_init=10, random_state=0)
    fitted on the same float32 values in float64 (the README's bar: <= 1.02);
  - CPU time (user + sys of `smalgo train` and, on 2 ranks, of mpirun and
    its ranks: resource.getrusage(RUSAGE_CHILDREN) around the run) and wall
    time, medians of --repeats; with --baseline BIN the same for another
    smalgo binary, and the CPU-time ratio.
The machine may be shared: wall times are noisy; CPU times much less so, and
ratios measured in the same run are the figure to read.

Usage: python benchmarks/bench_kmeans_quality.py [--rows N] [--dim D] [--ks 2,5,...]
       [--factors 1,4,auto] [--ranks 1,2] [--repeats R] [--bin PATH] [--baseline PATH]
Prints a markdown table, one row per (k, ranks, extra_center_factor).
"""
import argparse
import os
import pathlib
import resource
import statistics
import subprocess
import tempfile
import time

import numpy as np

import common  # noqa: F401  (puts tests/kit on sys.path)
import taxi_gen
from smgkit import ndarray, paths
from smgkit.kmeans import msd
from smgkit.mlroot import CSV, MLRoot, setup_job
from smgkit.mpi import MPI_ENV, mpirun
from smgkit.payloads import write_parts


def train(binary, root, k, d, ranks, factor):
    ml = MLRoot(root)
    setup_job(ml, {"k": k, "feature_dim": d, "extra_center_factor": factor,
                   "mini_batch_size": 5000}, CSV)
    cmd = [str(binary), "train", "--ml-root", str(root), "--algorithm", "kmeans"]
    if ranks > 1:
        cmd = mpirun(ranks, cmd, "--bind-to", "none")
    env = dict(os.environ, **MPI_ENV)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
    return cpu, wall, ndarray.read(ml.model_file())[0][0]


def timed(binary, root, k, d, ranks, factor, repeats):
    """Median CPU and wall seconds over repeats, and the first run's centres."""
    runs = [train(binary, root, k, d, ranks, factor) for _ in range(repeats)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            runs[0][2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=8)
    ap.add_argument("--ks", default="2,5,10,50,100,500")
    ap.add_argument("--factors", default="1,4,auto")
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--bin", default=str(paths.smalgo_bin()))
    ap.add_argument("--baseline", default=None)
    a = ap.parse_args()
    x = np.ascontiguousarray(taxi_gen.generate(0, a.rows)[:, :a.dim])
    from sklearn.cluster import KMeans
    print("rows %d, dim %d, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s"
          % (a.rows, a.dim, os.environ.get("OPENBLAS_CORETYPE"), os.environ.get("OPENBLAS_L2_SIZE")))
    head = "| k | ranks | extra_center_factor | msd ratio | CPU (s) | wall (s) |"
    print(head + (" baseline msd ratio | baseline CPU (s) | baseline wall (s) | CPU ratio |"
                  if a.baseline else ""))
    print("|---" * (6 + (4 if a.baseline else 0)) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp) / "ml"
        write_parts(MLRoot(root).channel_dir("train"), x, 4, CSV)
        for k in map(int, a.ks.split(",")):
            ref = KMeans(n_clusters=k, n_init=10, random_state=0).fit(
                x.astype(np.float64)).inertia_ / len(x)
            for ranks in map(int, a.ranks.split(",")):
                for factor in a.factors.split(","):
                    u, t, c = timed(a.bin, root, k, a.dim, ranks, factor, a.repeats)
                    row = "| %d | %d | %s | %.4f | %.2f | %.2f |" % (
                        k, ranks, factor, msd(x, c) / ref, u, t)
                    if a.baseline:
                        ub, tb, cb = timed(a.baseline, root, k, a.dim, ranks, factor, a.repeats)
                        row += " %.4f | %.2f | %.2f | %.2f |" % (msd(x, cb) / ref, ub, tb, u / ub)
                    print(row, flush=True)


if __name__ == "__main__":
    main()
