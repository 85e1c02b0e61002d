"""Sparse data benchmark (issue 14): randomized PCA and k-means on
100,000-dimensional sparse recordIO-protobuf at 0.1% density, against the dense
d=16 case per stored value, and the sparse path's answers against the
densified computation.

What it does:
  1. writes N rows (default 1,000,000) of a random CSR matrix, d=100,000,
     density 0.001 (about 100 stored values per row), with the SageMaker SDK's
     write_spmatrix_to_sparse_tensor, in shards of 100,000 rows; and the dense
     d=16 case with the same row count (write_numpy_to_dense_tensor);
  2. trains randomized PCA (num_components=5) and k-means (k=10, epochs=1),
     mini_batch_size=5000, File mode, each run its own process under
     bench_spawn (peak RSS of that process by wait4, wall time);
  3. throughput per stored value = stored values / wall time, sparse and
     dense (d=16 stores 16 values per row), and their ratio;
  4. equality: the first SLICE rows (default 2,000) trained sparse and
     written densely (same rows, dense d=100,000 records), both algorithms;
     the largest model difference relative to the largest model entry.

Figures are medians of --repeats runs. The machine may be shared: absolute
times are noisy, ratios within one invocation less so; the JSON records the
load average. Usage:
    .venv/bin/python benchmarks/bench_sparse.py [--rows N] [--repeats R]
        [--work DIR] [--out benchmarks/results/sparse.json] [--algorithms pca,kmeans]
        [--reuse-data]
--reuse-data keeps the data sets an earlier run with the same --work wrote
(it records their stored values in DIR/sparse_nnz.txt) instead of writing
them again, which takes minutes at 1,000,000 rows.
"""
import argparse
import io
import os
import shutil
import sys
import tempfile
import time

import numpy as np

import common
from smgkit.mlroot import RECORDIO, MLRoot, setup_job
from smgkit.ndarray import read as read_ndarray

D_SPARSE, DENSITY, D_DENSE, SHARD = 100_000, 0.001, 16, 100_000


def sdk():
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    from sagemaker.amazon import common as sdk_common
    return sdk_common


def sparse_rows(n, seed):
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    return sp.random(n, D_SPARSE, density=DENSITY, format="csr", dtype=np.float32,
                     random_state=rng, data_rvs=lambda k: rng.random(k) * 4 + 1)


def write_sparse(root, rows):
    """Shards of sparse records under root; returns the stored values written."""
    nnz = 0
    os.makedirs(root, exist_ok=True)
    for i, start in enumerate(range(0, rows, SHARD)):
        m = sparse_rows(min(SHARD, rows - start), seed=1000 + i)
        nnz += m.nnz
        buf = io.BytesIO()
        sdk().write_spmatrix_to_sparse_tensor(buf, m)
        with open(os.path.join(root, "part-%03d.pbr" % i), "wb") as f:
            f.write(buf.getvalue())
    return nnz


def write_dense(root, x):
    os.makedirs(root, exist_ok=True)
    for i, start in enumerate(range(0, len(x), SHARD)):
        buf = io.BytesIO()
        sdk().write_numpy_to_dense_tensor(buf, x[start:start + SHARD])
        with open(os.path.join(root, "part-%03d.pbr" % i), "wb") as f:
            f.write(buf.getvalue())


def hparams(algo, d):
    hp = {"feature_dim": d, "mini_batch_size": 5000}
    if algo == "pca":
        hp.update(num_components=5, algorithm_mode="randomized")
    else:
        hp.update(k=10, epochs=1)
    return hp


def job(work, name, data_dir, algo, d):
    """A job tree whose train channel is data_dir (symlinked, not copied)."""
    root = MLRoot(os.path.join(work, name))
    setup_job(root, hparams(algo, d), RECORDIO, "File")
    train = root.data / "train"
    if train.is_symlink() or train.exists():
        shutil.rmtree(train) if not train.is_symlink() else train.unlink()
    os.symlink(data_dir, train)
    return root


def train(root, algo):
    c = common.run([os.environ.get("SMALGO_BIN", "build/runtime/smalgo"), "train", "--ml-root",
                    str(root.root), "--algorithm", algo]).check()
    return c


def model_arrays(root):
    arrays, names = read_ndarray(root.model / "model_algo-1")
    return dict(zip(names, arrays)) if names else {"centers": arrays[0]}


def max_rel_diff(a, b):
    worst = 0.0
    for k in a:
        scale = max(float(np.abs(b[k]).max()), 1e-30)
        worst = max(worst, float(np.abs(a[k] - b[k]).max()) / scale)
    return worst


def measure(work, name, data_dir, algo, d, nnz, repeats):
    walls, rss = [], []
    for r in range(repeats):
        root = job(work, "%s_%s_%d" % (name, algo, r), data_dir, algo, d)
        c = train(root, algo)
        walls.append(c.wall_s)
        rss.append(c.maxrss_mb)
        common.log("%s %s run %d: %.2f s, peak RSS %.1f MB" % (name, algo, r, c.wall_s,
                                                                c.maxrss_mb))
    wall = common.median(walls)
    return {"wall_s": wall, "walls_s": walls, "peak_rss_mb": max(rss), "stored_values": nnz,
            "values_per_s": nnz / wall}


def equality(work, slice_rows, algos):
    """Sparse vs densified on the first slice_rows rows of shard 0."""
    m = sparse_rows(SHARD, seed=1000)[:slice_rows]
    sp_dir, de_dir = os.path.join(work, "slice_sparse"), os.path.join(work, "slice_dense")
    os.makedirs(sp_dir, exist_ok=True)
    buf = io.BytesIO()
    sdk().write_spmatrix_to_sparse_tensor(buf, m)
    with open(os.path.join(sp_dir, "part-000.pbr"), "wb") as f:
        f.write(buf.getvalue())
    write_dense(de_dir, m.toarray())
    out = {"rows": slice_rows}
    for algo in algos:
        a = job(work, "eq_sparse_" + algo, sp_dir, algo, D_SPARSE)
        b = job(work, "eq_dense_" + algo, de_dir, algo, D_SPARSE)
        ca, cb = train(a, algo), train(b, algo)
        out[algo] = {"max_rel_diff": max_rel_diff(model_arrays(a), model_arrays(b)),
                     "sparse_rss_mb": ca.maxrss_mb, "dense_rss_mb": cb.maxrss_mb}
        common.log("equality %s: max relative difference %.3g" % (algo,
                                                                   out[algo]["max_rel_diff"]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--slice", type=int, default=2000)
    ap.add_argument("--work")
    ap.add_argument("--out", default=os.path.join(common.HERE, "results", "sparse.json"))
    ap.add_argument("--algorithms", default="pca,kmeans", help="comma-separated subset")
    ap.add_argument("--reuse-data", action="store_true",
                    help="keep the data sets an earlier run left in --work")
    args = ap.parse_args()
    algos = [a for a in ("pca", "kmeans") if a in args.algorithms.split(",")]
    common.SPAWN = os.environ.get("BENCH_SPAWN", "build/benchmarks/bench_spawn")
    work = args.work or tempfile.mkdtemp(prefix="smg_sparse_")
    res = {"env": common.env_record(), "rows": args.rows, "d_sparse": D_SPARSE,
           "pca_sketch": os.environ.get("SMALGO_PCA_SKETCH", "gram"),
           "density": DENSITY, "d_dense": D_DENSE, "repeats": args.repeats}
    t0 = time.time()
    sparse_dir, dense_dir = os.path.join(work, "sparse"), os.path.join(work, "dense")
    nnz_file = os.path.join(work, "sparse_nnz.txt")
    if args.reuse_data and os.path.exists(nnz_file):
        with open(nnz_file) as f:
            nnz = int(f.read())
        res["data_reused"] = True
        common.log("reusing the data in %s (%d stored values)" % (work, nnz))
    else:
        nnz = write_sparse(sparse_dir, args.rows)
        rng = np.random.default_rng(7)
        write_dense(dense_dir,
                    (rng.standard_normal((args.rows, D_DENSE)) * 3 + 1).astype(np.float32))
        with open(nnz_file, "w") as f:
            f.write(str(nnz))
        res["write_s"] = time.time() - t0
        common.log("data written in %.0f s (%d stored values)" % (res["write_s"], nnz))
    for algo in algos:
        s = measure(work, "sparse", sparse_dir, algo, D_SPARSE, nnz, args.repeats)
        d = measure(work, "dense16", dense_dir, algo, D_DENSE, args.rows * D_DENSE, args.repeats)
        res[algo] = {"sparse": s, "dense16": d,
                     "dense_over_sparse_per_value": d["values_per_s"] / s["values_per_s"]}
    res["equality"] = equality(work, args.slice, algos)
    res["env"]["loadavg_at_end"] = list(os.getloadavg())
    common.write_json(args.out, res)
    for algo in algos:
        r = res[algo]
        print("%-6s sparse: %.2f s, %.1f M values/s, peak RSS %.0f MB | dense d=16: %.2f s, "
              "%.1f M values/s | dense/sparse per value %.2fx | equality max rel diff %.2g"
              % (algo, r["sparse"]["wall_s"], r["sparse"]["values_per_s"] / 1e6,
                 r["sparse"]["peak_rss_mb"], r["dense16"]["wall_s"],
                 r["dense16"]["values_per_s"] / 1e6, r["dense_over_sparse_per_value"],
                 res["equality"][algo]["max_rel_diff"]))
    if not args.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
