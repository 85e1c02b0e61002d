"""Benchmark: the most accuracy any one-pass sketch of a given width can give, for the
randomized-PCA accuracy bar (top-k angle <= 1 degree) on rank-10-plus-noise data.

Why: bench_pca_randomized.py shows smalgo's default Gram sketch at 3.03 degrees on
rank 10 + noise 0.3, d=500, k=10, 20,000 rows. This script asks what the best solve
could reach on the same kind of sketch, so the gap is split into what the solve loses
and what the sketch cannot hold. For each row count n and sketch width s it computes,
in float64 numpy (no smalgo involved):
  - the sketch Y = (C - mu I) Omega of the centred co-moment C with a Gaussian
    d x s test matrix, mu the exact mean of the eigenvalues below the top 20 (the
    shift smalgo's solve estimates; here it is given exactly);
  - the top-k Ritz vectors of C on range(Y) (an exact Rayleigh-Ritz, which needs C
    itself, i.e. a second pass: no one-pass solve on this sketch can do better);
  - the same on range(C Omega), the unshifted sketch.
s = 61 is the width smalgo uses at the default extra_components for k = 10
(3 l + 1 columns, l = k + max(10, k)); 121 and 181 are l = 40 and 60.

Usage: python benchmarks/pca_sketch_limit.py [--rows 20000,60000,200000] [--widths 61,121,181]
Prints a markdown table; accuracy only, so the figures do not depend on load.
"""
import argparse

import numpy as np


def low_rank_noise(n, d, r, noise, seed):
    # the same construction as bench_pca_randomized.low_rank_noise, in float64
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, r)))[0].T
    z = rng.standard_normal((n, r)) * np.linspace(10.0, 1.0, r)
    return 5.0 + z @ basis + noise * rng.standard_normal((n, d))


def largest_angle(u, v):
    cos = np.linalg.svd(u.T @ v, compute_uv=False).min()
    return np.degrees(np.arccos(min(1.0, cos)))


def ritz(c, y, k):
    q = np.linalg.qr(y)[0]
    _, vecs = np.linalg.eigh(q.T @ c @ q)
    return q @ vecs[:, ::-1][:, :k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="20000,60000,200000")
    ap.add_argument("--widths", default="61,121,181")
    ap.add_argument("--noise", type=float, default=0.3)
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()
    d, k = 500, a.k
    print("| rows | sketch columns | best top-%d angle, shifted sketch (deg) | "
          "same, unshifted sketch (deg) |" % k)
    print("|---|---|---|---|")
    for n in (int(v) for v in a.rows.split(",")):
        x = low_rank_noise(n, d, 10, a.noise, 4)
        x -= x.mean(0)
        c = x.T @ x
        vals, vecs = np.linalg.eigh(c)
        exact = vecs[:, ::-1][:, :k]
        mu = vals[::-1][20:].mean()
        for s in (int(v) for v in a.widths.split(",")):
            omega = np.random.default_rng(1).standard_normal((d, s))
            y = c @ omega
            print("| %d | %d | %.3g | %.3g |" % (n, s, largest_angle(ritz(c, y - mu * omega, k), exact),
                                                largest_angle(ritz(c, y, k), exact)), flush=True)


if __name__ == "__main__":
    main()
