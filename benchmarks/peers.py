#!/usr/bin/env python3
"""One peer fit (or one smalgo model's evaluation) in its own process.

What: loads a channel folder of recordIO-protobuf shards (the files smalgo's
File mode reads) into a float32 array, fits one peer, and prints one JSON line:
load time, fit time, quality, and the BLAS the process used. The parent
(run.py) measures this process's peak RSS with os.wait4, so each peer's memory
is its own.

Peers: sklearn_pca (PCA, auto solver), sklearn_ipca (IncrementalPCA,
batch_size = mini_batch_size), sklearn_kmeans (KMeans, n_init=1, Lloyd to
convergence), sklearn_minibatch (MiniBatchKMeans, batch_size=mini_batch_size,
max_iter=epochs, n_init=1), faiss_kmeans (faiss.Kmeans, default niter=20 and
its default subsample of 256 points per centre), sklearnex_pca and
sklearnex_kmeans (scikit-learn-intelex, oneDAL, via patch_sklearn).

Each fit is preceded by an untimed warm-up fit on the first 20,000 rows
(lazy imports, thread-pool start-up), reported as warmup_s.

Quality, computed after the timed part, identically for everyone in float64:
PCA: the fraction of the total variance captured by the component subspace,
trace(Q^T C Q) / trace(C), with Q an orthonormal basis of the components and C
the covariance of the data. k-means: msd, the mean over rows of the squared
distance to the nearest centre.

    peers.py fit  --peer NAME --data DIR [--components 5] [--k 10] [--epochs 3]
    peers.py eval --data DIR --model MODEL.json --kind pca|kmeans
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402,F401  (puts tests/kit on sys.path)
import taxi_gen  # noqa: E402
from smgkit.kmeans import msd  # noqa: E402

PEERS = ["sklearn_pca", "sklearn_ipca", "sklearnex_pca", "sklearn_kmeans", "sklearn_minibatch",
         "sklearnex_kmeans", "faiss_kmeans"]
KIND = {p: ("pca" if p.endswith("pca") else "kmeans") for p in PEERS}


def load(folder, d=taxi_gen.FEATURE_DIM):
    """All shards of folder, in name order, decoded into one float32 array of d columns."""
    parts = []
    for name in sorted(os.listdir(folder)):
        if name.startswith("."):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            parts.append(taxi_gen.decode_recordio(f.read(), d))
    return np.concatenate(parts)


def pca_quality(x, components):
    """Fraction of variance in span(components) (rows = components)."""
    q, _ = np.linalg.qr(np.asarray(components, dtype=np.float64).T)
    mean = x.mean(axis=0, dtype=np.float64)
    c = np.zeros((x.shape[1], x.shape[1]))
    for i in range(0, len(x), 1 << 18):
        b = x[i:i + (1 << 18)].astype(np.float64) - mean
        c += b.T @ b
    return float(np.trace(q.T @ c @ q) / np.trace(c))


def fit(peer, x, a):
    """Fit and return (components or centres, extra info)."""
    if peer.startswith("sklearnex"):
        from sklearnex import patch_sklearn

        patch_sklearn(verbose=False)
    if peer in ("sklearn_pca", "sklearnex_pca"):
        from sklearn.decomposition import PCA

        m = PCA(n_components=a.components).fit(x)
        return m.components_, {"solver": getattr(m, "_fit_svd_solver", None),
                               "estimator_module": type(m).__module__}
    if peer == "sklearn_ipca":
        from sklearn.decomposition import IncrementalPCA

        m = IncrementalPCA(n_components=a.components, batch_size=a.mini_batch_size).fit(x)
        return m.components_, {}
    if peer in ("sklearn_kmeans", "sklearnex_kmeans"):
        from sklearn.cluster import KMeans

        m = KMeans(n_clusters=a.k, n_init=1, random_state=a.seed).fit(x)
        return m.cluster_centers_, {"n_iter": int(m.n_iter_),
                                    "estimator_module": type(m).__module__}
    if peer == "sklearn_minibatch":
        from sklearn.cluster import MiniBatchKMeans

        m = MiniBatchKMeans(n_clusters=a.k, batch_size=a.mini_batch_size, max_iter=a.epochs,
                            n_init=1, random_state=a.seed).fit(x)
        return m.cluster_centers_, {"n_steps": int(m.n_steps_)}
    if peer == "faiss_kmeans":
        import faiss

        m = faiss.Kmeans(x.shape[1], a.k, seed=a.seed)
        m.train(np.ascontiguousarray(x))
        return m.centroids, {"niter": 20, "max_points_per_centroid": 256,
                             "faiss": faiss.__version__}
    raise SystemExit("unknown peer %s" % peer)


def blas_info():
    try:
        from threadpoolctl import threadpool_info

        return sorted({"%s %s %s" % (i.get("internal_api"), i.get("version"),
                                     i.get("architecture") or "")
                       for i in threadpool_info()})
    except ImportError:
        return []


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["fit", "eval"])
    p.add_argument("--peer")
    p.add_argument("--data", required=True)
    p.add_argument("--dim", type=int, default=taxi_gen.FEATURE_DIM, help="features per record")
    p.add_argument("--components", type=int, default=5)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--mini-batch-size", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model")
    p.add_argument("--kind", choices=["pca", "kmeans"])
    a = p.parse_args()

    t0 = time.perf_counter()
    x = load(a.data, a.dim)
    load_s = time.perf_counter() - t0
    out = {"rows": int(x.shape[0]), "d": int(x.shape[1]), "load_s": load_s,
           "data_mb": x.nbytes / 1e6}
    if a.mode == "fit":
        # Warm-up on a slice, untimed: first calls import modules lazily and
        # start thread pools, which would otherwise land in the fit time.
        t1 = time.perf_counter()
        fit(a.peer, x[:20000], a)
        out["warmup_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        model, info = fit(a.peer, x, a)
        out["fit_s"] = time.perf_counter() - t1
        out["peer"] = a.peer
        out["info"] = info
        kind = KIND[a.peer]
    else:
        with open(a.model) as f:
            model = np.asarray(json.load(f), dtype=np.float64)
        kind = a.kind
    if kind == "pca":
        out["explained_variance"] = pca_quality(x, model)
    else:
        out["msd"] = msd(x, model)
    out["blas"] = blas_info()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
