"""k-means within 2% of scikit-learn for k up to 200, any extra_center_factor (issue 12 point 5).

The polished shrink result alone stays in the basin the K streaming centres
give it: with extra_center_factor 1 (no shrink) it was 1.3x scikit-learn's
msd at k = 50 and 2x at k = 100 on taxi-like rows. The restarts from kmeans++
seeds on a pool of the reservoir sample (algorithms/kmeans_reseed.c) must
bring every case here within 2% of KMeans(n_init=10) in float64, on one rank
and on two real mpirun ranks; with extra_center_factor 1 and k >= 50 the start
the polish gets must be a restart (the log says so), and without the polish and the
restarts the same job must miss the bar (the cases can tell). 20k taxi-like
rows: a few seconds per case.
"""
import numpy as np
import pytest

from smgkit.kmeans import nearest_sq_dist as msd_to
from smgkit.ndarray import read as read_ndarray

from test_kmeans import ok, sklearn_msd, taxi_like, train_job

CASES = [(5, "1", 1), (50, "1", 1), (50, "4", 1), (50, "auto", 2), (200, "1", 1),
         (200, "auto", 1), (200, "1", 2)]


@pytest.fixture(scope="module")
def rows():
    return taxi_like(20_000, seed=3)


@pytest.mark.parametrize("k,factor,ranks", CASES)
def test_msd_within_2pct_for_large_k(ml_root, smalgo_bin, rows, k, factor, ranks):
    proc = train_job(ml_root, smalgo_bin, rows,
                     {"k": k, "feature_dim": rows.shape[1], "extra_center_factor": factor,
                      "mini_batch_size": 2000}, ranks=ranks)
    ok(proc)
    centers = read_ndarray(ml_root.model / "model_algo-1")[0][0]
    assert centers.shape == (k, rows.shape[1]) and np.all(np.isfinite(centers))
    ours, ref = msd_to(rows, centers).mean(), sklearn_msd(rows, k)
    print("k=%d factor=%s ranks=%d: msd ratio %.4f" % (k, factor, ranks, ours / ref))
    assert ours <= 1.02 * ref, (k, factor, ranks, ours / ref)
    assert "k-means restart from kmeans++ seeds" in proc.stdout
    if factor == "1" and k >= 50:  # the streaming centres alone were 1.3x and more
        assert "restart kept" in proc.stdout


def test_bar_missed_without_restarts(ml_root, smalgo_bin, rows):
    proc = train_job(ml_root, smalgo_bin, rows,
                     {"k": 50, "feature_dim": rows.shape[1], "extra_center_factor": "1",
                      "mini_batch_size": 2000}, env_extra={"SMALGO_KMEANS_POLISH": "0"})
    ok(proc)
    centers = read_ndarray(ml_root.model / "model_algo-1")[0][0]
    ours, ref = msd_to(rows, centers).mean(), sklearn_msd(rows, 50)
    print("k=50 factor=1 without polish and restarts: msd ratio %.4f" % (ours / ref))
    assert ours > 1.02 * ref
