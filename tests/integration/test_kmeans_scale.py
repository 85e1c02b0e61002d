"""k-means at extreme scales (issue 12, points 1 and 2).

float32 squared distances overflow above |x| ~ 1.8e19 and underflow below
~1e-19; the runtime computes distances in double when the first mini-batch's
range leaves float32's safe band. These tests run the real binary on the same
blobs scaled by 10^e for e from -30 to 30 and require, at every scale, exit 0
and a model whose msd (divided by scale^2) is within 2% of scikit-learn's
KMeans(n_init=10) on the unscaled problem, computed in float64; or else a
ClientError before training (none is expected: double holds the square of any
finite float32). Plus the two-row reproduction that used to end in SIGSEGV.
"""
import numpy as np
import pytest

from smgkit.kmeans import nearest_sq_dist as msd_to
from smgkit.mlroot import CSV, setup_job
from smgkit.ndarray import read as read_ndarray

from test_kmeans import ok, run_train, train_job

_REF = {}


def blobs(n=3000, d=5, k=4, seed=11):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * 6
    lab = rng.integers(0, k, n)
    return centers[lab] + rng.normal(size=(n, d))


def sklearn_msd(x, k):
    key = (x.shape, k)
    if key not in _REF:
        from sklearn.cluster import KMeans
        _REF[key] = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x).inertia_ / len(x)
    return _REF[key]


def check_scaled(ml_root, smalgo_bin, exp, ranks=1):
    base = blobs()
    scale = 10.0 ** exp
    x = (base * scale).astype(np.float32)
    rescaled = x.astype(np.float64) / scale  # the problem the model must solve, rescaled
    proc = train_job(ml_root, smalgo_bin, x, {"k": 4, "feature_dim": 5, "mini_batch_size": 1000},
                     ranks=ranks)
    ok(proc)
    centers = read_ndarray(ml_root.model / "model_algo-1")[0][0].astype(np.float64)
    assert np.all(np.isfinite(centers))
    ours = msd_to(rescaled, centers / scale).mean()
    ref = sklearn_msd(rescaled, 4)
    print("scale 1e%d ranks %d: msd ratio %.5f" % (exp, ranks, ours / ref))
    assert ours <= 1.02 * ref, (exp, ours, ref)
    return proc


@pytest.mark.parametrize("exp", list(range(-30, 31, 5)))
def test_scale_sweep_matches_sklearn(ml_root, smalgo_bin, exp):
    proc = check_scaled(ml_root, smalgo_bin, exp)
    # The double path is taken exactly where float32 squares would leave the safe band.
    assert ("computing distances in double" in proc.stdout) == (abs(exp) >= 15), exp


@pytest.mark.parametrize("exp", [-25, 25])
def test_scale_two_ranks(ml_root, smalgo_bin, exp):
    check_scaled(ml_root, smalgo_bin, exp, ranks=2)


def test_two_rows_near_1e20_do_not_crash(ml_root, smalgo_bin):
    """The issue's reproduction: exit 139 in smg_kmeans_refine before the fix."""
    setup_job(ml_root, {"k": 2, "feature_dim": 2}, content_type=CSV)
    (ml_root.channel_dir("train") / "a.csv").write_text("1e20,0\n2e20,0\n")
    proc = run_train(ml_root, smalgo_bin)
    ok(proc)
    centers = read_ndarray(ml_root.model / "model_algo-1")[0][0]
    assert sorted(centers[:, 0].tolist()) == [1e20, 2e20] or \
        np.allclose(sorted(centers[:, 0]), [1e20, 2e20], rtol=1e-6)
    assert not ml_root.failure.exists()


def test_value_beyond_float32_is_client_error(ml_root, smalgo_bin):
    """A value no float32 holds is refused, naming the record, before training."""
    setup_job(ml_root, {"k": 2, "feature_dim": 2}, content_type=CSV)
    (ml_root.channel_dir("train") / "a.csv").write_text("1,0\n2,0\n1e39,0\n")
    proc = run_train(ml_root, smalgo_bin)
    assert proc.returncode != 0
    text = ml_root.failure.read_text()
    assert "ClientError" in text or "client" in text.lower(), text
    assert "line 3" in text or "record 3" in text or "a.csv" in text, text
    assert not ml_root.model_file().exists()
