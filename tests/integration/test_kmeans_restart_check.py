"""k-means: a restart the pool prefers but the sample rejects is not kept (issue 12 point 5).

The restarts (algorithms/kmeans_reseed.c) are chosen on a pool of evenly
spaced reservoir rows, which can miss a tail the sample has: on 2M taxi-like
rows at k = 10 the pool's pick, polished, ended at msd 51.07 against 47.37 for
the shrink result. runtime/algos/kmeans.c keeps a restart only if, polished,
its sample msd beats the unpolished shrink result's. Here the same failure in
a few seconds: 60,000 rows in 2 Gaussian blobs plus a far group of about 3%
of the rows, placed only at stream positions the 10,000-row pool never takes
(every 6th row from row 0), with k = 3. The streaming centres find the far
group, the pool cannot see it, so a restart splitting a blob wins on the pool
and loses badly on the sample. The log must say both, and the model must be
within 2% of scikit-learn's KMeans(n_init=10) on all rows.
"""
import re

import numpy as np

from smgkit.kmeans import nearest_sq_dist as msd_to
from smgkit.ndarray import read as read_ndarray

from test_kmeans import ok, sklearn_msd, train_job


def rows_with_hidden_tail(n=60_000, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    x[:, 0] += (np.arange(n) % 2) * 8.0
    far = (np.arange(n) % 6 == 3) & (rng.random(n) < 0.2)
    x[far] = rng.normal(size=(int(far.sum()), 2)).astype(np.float32) * 0.5 + np.float32(30.0)
    return x


def test_restart_the_pool_prefers_is_checked_on_the_sample(ml_root, smalgo_bin):
    x = rows_with_hidden_tail()
    proc = train_job(ml_root, smalgo_bin, x, {"k": 3, "feature_dim": 2, "mini_batch_size": 1000},
                     parts=1)
    ok(proc)
    assert "restart kept" in proc.stdout  # the pool preferred a restart
    check = re.search(r"shrink result's sample mean square distance (\S+) is no higher than the "
                      r"polished restart's (\S+);", proc.stdout)
    assert check, proc.stdout[-3000:]
    shrink, restart = float(check.group(1)), float(check.group(2))
    assert restart > 1.5 * shrink  # without the check the model would be far off
    centers = read_ndarray(ml_root.model / "model_algo-1")[0][0]
    ours, ref = msd_to(x, centers).mean(), sklearn_msd(x, 3)
    print("hidden tail, k=3: msd ratio %.4f (the polished restart: %.4f on the sample)"
          % (ours / ref, restart / shrink))
    assert ours <= 1.02 * ref, ours / ref
