"""Benchmark: accuracy of randomized PCA's sketches, and their dependence on the host count.

What it measures, at the default extra_components (-1: max(10, k)), for the
default two-sided Gram sketch (shifted solve), the same sketch solved without
the shift (SMALGO_PCA_SKETCH=gram-unshifted) and the documented sign sketch
(SMALGO_PCA_SKETCH=signs), each run with 1, 2 and 3 MPI ranks (real mpirun)
on the same data in 4 shards:
  - the largest principal angle (degrees) between smalgo's top-k components
    and the exact top-k right singular vectors of the centred data (numpy,
    float64, from the d x d co-moment);
  - the largest relative error of s against the exact singular values;
  - the largest difference to the 1-rank model (s relative, v absolute).
Data: taxi_gen.py's NYC-taxi-like rows (17 columns, k=3), and rank-10 signal
(sd 10 .. 1 along random directions) plus isotropic noise, d=500 (k=3 and 10,
noise 0.03 / 0.1 / 0.3).

Usage: python benchmarks/bench_pca_randomized.py [--rows N] [--lr-rows N] [--bin PATH]
Prints a markdown table. Accuracy, not speed: the figures do not depend on load.
"""
import argparse
import os
import pathlib
import subprocess
import tempfile

import numpy as np

import common  # noqa: F401  (puts tests/kit on sys.path)
import taxi_gen
from smgkit import ndarray, paths
from smgkit.mlroot import CSV, MLRoot, setup_job
from smgkit.mpi import MPI_ENV, mpirun
from smgkit.payloads import write_parts


def low_rank_noise(n, d, r, noise, seed):
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, r)))[0].T
    z = rng.standard_normal((n, r)) * np.linspace(10.0, 1.0, r)
    return (5.0 + z @ basis + noise * rng.standard_normal((n, d))).astype(np.float32)


def exact(x, k):
    xc = x.astype(np.float64)
    xc -= xc.mean(0)
    w, u = np.linalg.eigh(xc.T @ xc)
    return np.sqrt(np.maximum(w[::-1][:k], 0)), u[:, ::-1][:, :k]


def train(binary, root, x, k, sketch, ranks):
    ml = MLRoot(root)
    setup_job(ml, {"feature_dim": x.shape[1], "num_components": k, "mini_batch_size": 1000,
                   "algorithm_mode": "randomized", "extra_components": -1}, CSV)
    write_parts(ml.channel_dir("train"), x, 4, CSV)
    cmd = [str(binary), "train", "--ml-root", str(root), "--algorithm", "pca"]
    if ranks > 1:
        cmd = mpirun(ranks, cmd, "--bind-to", "none")
    env = dict(os.environ, **MPI_ENV, SMALGO_PCA_SKETCH=sketch)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
    arrays, names = ndarray.read(ml.model_file())
    m = dict(zip(names, arrays))
    return m["s"].astype(np.float64), m["v"].astype(np.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000, help="taxi-like rows")
    ap.add_argument("--lr-rows", type=int, default=20_000, help="low-rank-plus-noise rows")
    ap.add_argument("--bin", default=str(paths.smalgo_bin()))
    a = ap.parse_args()
    sets = [("taxi-like, d=17, k=3", taxi_gen.generate(0, a.rows), 3)]
    for noise in (0.03, 0.1, 0.3):
        x = low_rank_noise(a.lr_rows, 500, 10, noise, 4)
        for k in (3, 10):
            sets.append(("rank 10 + noise %g, d=500, k=%d" % (noise, k), x, k))
    print("| data | sketch | top-k angle (deg) | max s error | 2 / 3 ranks vs 1 |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, x, k in sets:
            s_ref, v_ref = exact(x, k)
            for sketch in ("gram", "gram-unshifted", "signs"):
                runs = [train(a.bin, pathlib.Path(tmp) / ("%s-%d" % (sketch, r)), x, k, sketch, r)
                        for r in (1, 2, 3)]
                s, v = runs[0]
                cos = np.linalg.svd(v_ref.T @ (v / np.linalg.norm(v, axis=0)),
                                    compute_uv=False).min()
                angle = np.degrees(np.arccos(min(1.0, cos)))
                s_err = np.max(np.abs(s - s_ref) / s_ref)
                diff = ["%.1e" % max(np.max(np.abs(rs - s) / s), np.max(np.abs(rv - v)))
                        for rs, rv in runs[1:]]
                print("| %s | %s | %.3g | %.2g%% | %s |"
                      % (name, sketch, angle, 100 * s_err, " / ".join(diff)), flush=True)


if __name__ == "__main__":
    main()
