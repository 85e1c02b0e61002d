"""End-to-end tests of `smalgo train` for k-means.

Each test lays out a temporary /opt/ml tree (smgkit.mlroot), writes the data
with the real SageMaker SDK (sagemaker.amazon.common.write_numpy_to_dense_tensor),
runs the real binary in File mode, in Pipe mode through a real FIFO, and on 2
MPI ranks under mpirun (File mode: the runtime refuses Pipe mode with several
ranks on one host, since a FIFO has one reader), and reads model/model_algo-1
with an independent numpy NDArray reader (smgkit.ndarray, shared with test_pca.py).

Oracle: scikit-learn KMeans(n_init=10) on the same float32 values, in float64.
Quality bar: the mean squared distance of the training rows to our k centers
is within 2% of scikit-learn's (the issue's bar), at default hyperparameters.
Data: scikit-learn's load_digits (k=10) and a 200k-row taxi-like set
generated here (k=10 and k=50): pickup/dropoff coordinates around Manhattan,
the airports and Brooklyn, trip distance and fare tied to it, passengers,
tip, and 2% junk rows with zero coordinates, as real taxi data has.
"""
import os
import subprocess

import numpy as np
import pytest

from smgkit.joblog import quality_metric as metric
from smgkit.kmeans import nearest_sq_dist as msd_to
from smgkit.mlroot import setup_job
from smgkit.mpi import MPI_ENV, have_mpirun, mpirun
from smgkit.ndarray import read as read_ndarray
from smgkit.payloads import sdk_dense as recordio, write_parts
from smgkit.pipe import PipeFeeder


# ---- data ------------------------------------------------------------------------

def taxi_like(n, seed=0):
    """Clustered taxi trips: 8 features (pickup lon/lat, dropoff lon/lat, miles,
    fare, passengers, tip), 2% junk rows with zero coordinates."""
    rng = np.random.default_rng(seed)
    hubs = np.array([[-73.985, 40.758], [-73.99, 40.73], [-73.96, 40.78], [-74.01, 40.71],
                     [-73.87, 40.77], [-73.79, 40.645], [-73.95, 40.68], [-73.98, 40.69],
                     [-73.94, 40.80], [-73.92, 40.75]])  # midtown ... LGA, JFK, Brooklyn
    spread = np.array([0.01, 0.008, 0.012, 0.006, 0.004, 0.005, 0.015, 0.01, 0.01, 0.012])
    p = np.array([20, 15, 15, 10, 8, 8, 8, 6, 5, 5]) / 100.0
    hp, hd = rng.choice(10, n, p=p), rng.choice(10, n, p=p)
    pu = hubs[hp] + rng.normal(size=(n, 2)) * spread[hp, None]
    do = hubs[hd] + rng.normal(size=(n, 2)) * spread[hd, None]
    miles = np.abs(pu - do).sum(1) * 69 + rng.exponential(0.3, n)
    fare = 2.5 + 2.5 * miles + rng.normal(0, 1.0, n)
    passengers = rng.integers(1, 7, n).astype(float)
    tip = np.maximum(0, 0.15 * fare + rng.normal(0, 1, n))
    x = np.column_stack([pu, do, miles, fare, passengers, tip])
    x[rng.random(n) < 0.02, 0:4] = 0.0
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def datasets():
    from sklearn.datasets import load_digits
    return {"digits": load_digits().data.astype(np.float32), "taxi": taxi_like(200_000)}


_SK_CACHE = {}


def sklearn_msd(x, k):
    key = (x.shape, float(x[:100].sum()), k)
    if key not in _SK_CACHE:
        from sklearn.cluster import KMeans
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x.astype(np.float64))
        _SK_CACHE[key] = km.inertia_ / len(x)
    return _SK_CACHE[key]


# ---- job plumbing ----------------------------------------------------------------

def run_train(ml_root, smalgo_bin, ranks=1, timeout=600, env_extra=None):
    env = dict(os.environ)
    env.pop("SMALGO_KMEANS_POLISH", None)
    env.update(MPI_ENV)
    env.update(env_extra or {})
    cmd = [str(smalgo_bin), "train", "--ml-root", str(ml_root.root), "--algorithm", "kmeans"]
    if ranks > 1:
        if not have_mpirun():
            pytest.skip("mpirun not installed")
        cmd = mpirun(ranks, cmd)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def train_job(ml_root, smalgo_bin, x, hp, mode="File", ranks=1, parts=2, test=None,
              env_extra=None):
    setup_job(ml_root, hp, mode=mode, test=test is not None)
    feeders = []
    if mode == "Pipe":
        feeders.append(PipeFeeder(ml_root.fifo("train"), recordio(x)))
        if test is not None:
            feeders.append(PipeFeeder(ml_root.fifo("test"), recordio(test)))
    else:
        write_parts(ml_root.channel_dir("train"), x, parts)
        if test is not None:
            write_parts(ml_root.channel_dir("test"), test)
    proc = run_train(ml_root, smalgo_bin, ranks, env_extra=env_extra)
    for f in feeders:
        f.join(timeout=10)
    return proc


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


def failure_text(ml_root):
    return ml_root.failure.read_text() if ml_root.failure.exists() else ""


# ---- quality ---------------------------------------------------------------------

QUALITY = [("digits", 10, "File", 1), ("digits", 10, "Pipe", 1), ("digits", 10, "File", 2),
           ("taxi", 10, "File", 1), ("taxi", 10, "Pipe", 1), ("taxi", 10, "File", 2),
           ("taxi", 50, "File", 1), ("taxi", 50, "Pipe", 1), ("taxi", 50, "File", 2)]


@pytest.mark.parametrize("name,k,mode,ranks", QUALITY)
def test_msd_within_2pct_of_sklearn(ml_root, smalgo_bin, datasets, name, k, mode, ranks):
    x = datasets[name]
    d = x.shape[1]
    proc = train_job(ml_root, smalgo_bin, x, {"k": k, "feature_dim": d}, mode, ranks)
    ok(proc)
    arrays, names = read_ndarray(ml_root.model / "model_algo-1")
    assert names == [] and len(arrays) == 1 and arrays[0].shape == (k, d)
    centers = arrays[0]
    assert np.all(np.isfinite(centers))
    assert len(np.unique(centers, axis=0)) == k  # no duplicate centers
    ours, ref = msd_to(x, centers).mean(), sklearn_msd(x, k)
    print("%s k=%d %s ranks=%d: msd %.6g, sklearn %.6g, ratio %.4f"
          % (name, k, mode, ranks, ours, ref, ours / ref))
    assert ours <= 1.02 * ref, (ours, ref)
    assert metric(proc.stdout, "train msd") is not None
    assert "shrinking %d centers into %d" % (10 * k, k) in proc.stdout or \
        "shrinking" in proc.stdout


# ---- log lines, metrics, determinism --------------------------------------------

def small_blobs(n=3000, d=5, k=4, seed=1):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d)) * 20 + 50
    lab = rng.integers(0, k, n)
    return (centers[lab] + rng.normal(size=(n, d))).astype(np.float32)


def test_log_lines_and_metrics(ml_root, smalgo_bin):
    x = small_blobs()
    proc = train_job(ml_root, smalgo_bin, x, {"k": 4, "feature_dim": 5, "mini_batch_size": 500})
    ok(proc)
    out = proc.stdout
    assert "'extra_center_factor' was set to 'auto', evaluated to 10." in out
    assert "shrinking 40 centers into 4" in out
    attempts = [l for l in out.splitlines() if "local kmeans attempt #" in l]
    assert len(attempts) == 10 and "Current mean square distance" in attempts[0]
    # train msd is the best local Lloyd attempt's loss, as in SageMaker's logs.
    losses = [float(l.rsplit(" ", 1)[1]) for l in attempts]
    assert metric(out, "train msd") == pytest.approx(min(losses), rel=1e-5)
    assert "#progress_metric: host=algo-1, completed 100.0 % of epochs" in out
    assert "#throughput_metric: host=algo-1, train throughput=" in out
    assert "Test data is not provided." in out
    assert '"Algorithm": "AWS/KMeansWebscale"' in out
    for t in ("initialize.time", "epochs", "update.time", "_shrink.time", "finalize.time",
              "model.serialize.time"):
        assert '"%s"' % t in out


def test_no_shrink_with_factor_one(ml_root, smalgo_bin):
    x = small_blobs()
    proc = train_job(ml_root, smalgo_bin, x,
                     {"k": 4, "feature_dim": 5, "extra_center_factor": 1, "epochs": 2})
    ok(proc)
    assert "No shrinking is required as extra_center_factor is 1." in proc.stdout
    assert "completed 50.0 % of epochs" in proc.stdout


@pytest.mark.parametrize("metrics", ['["msd"]', '["ssd"]', '["msd","ssd"]'])
def test_test_channel_metrics(ml_root, smalgo_bin, metrics):
    x, t = small_blobs(seed=1), small_blobs(n=777, seed=2)
    proc = train_job(ml_root, smalgo_bin, x,
                     {"k": 4, "feature_dim": 5, "eval_metrics": metrics}, test=t)
    ok(proc)
    centers = read_ndarray(ml_root.model / "model_algo-1")[0][0]
    dist = msd_to(t, centers)
    msd, ssd = metric(proc.stdout, "test msd"), metric(proc.stdout, "test ssd")
    assert (msd is not None) == ("msd" in metrics)
    assert (ssd is not None) == ("ssd" in metrics)
    # Exact in double over float32 data: 1e-9 relative.
    if msd is not None:
        assert msd == pytest.approx(dist.mean(), rel=1e-9)
    if ssd is not None:
        assert ssd == pytest.approx(dist.sum(), rel=1e-9)


def test_test_metrics_two_ranks_pipe_free(ml_root, smalgo_bin):
    x, t = small_blobs(seed=3), small_blobs(n=500, seed=4)
    proc = train_job(ml_root, smalgo_bin, x, {"k": 4, "feature_dim": 5}, ranks=2, parts=3,
                     test=t)
    ok(proc)
    centers = read_ndarray(ml_root.model / "model_algo-1")[0][0]
    assert metric(proc.stdout, "test msd") == pytest.approx(msd_to(t, centers).mean(), rel=1e-9)


def test_deterministic_model(ml_root, smalgo_bin, tmp_path):
    x = small_blobs(seed=5)
    ok(train_job(ml_root, smalgo_bin, x, {"k": 4, "feature_dim": 5, "mini_batch_size": 300}))
    first = (ml_root.model / "model_algo-1").read_bytes()
    ok(run_train(ml_root, smalgo_bin))
    assert (ml_root.model / "model_algo-1").read_bytes() == first


def test_uneven_ranks_do_not_deadlock(ml_root, smalgo_bin):
    """Rank 1 gets one small file, rank 0 a big one: rank 1 keeps stepping empty."""
    x = small_blobs(n=5000, seed=6)
    setup_job(ml_root, {"k": 4, "feature_dim": 5, "mini_batch_size": 200})
    d = ml_root.channel_dir("train")
    (d / "part-00.pbr").write_bytes(recordio(x[:4900]))
    (d / "part-01.pbr").write_bytes(recordio(x[4900:]))
    proc = run_train(ml_root, smalgo_bin, ranks=2, timeout=120)
    ok(proc)
    assert "epoch 0: 5000 records" in proc.stdout


# ---- the polish switch (SMALGO_KMEANS_POLISH) ------------------------------------

def test_polish_on_by_default_is_logged(ml_root, smalgo_bin):
    proc = train_job(ml_root, smalgo_bin, small_blobs(), {"k": 4, "feature_dim": 5})
    ok(proc)
    assert "k-means polish: on" in proc.stdout
    assert "k-means polish: off" not in proc.stdout


@pytest.mark.parametrize("ranks,factor", [(1, "auto"), (2, "auto"), (1, "1")])
def test_polish_off_gives_documented_model(ml_root, smalgo_bin, ranks, factor):
    """SMALGO_KMEANS_POLISH=0: stream + shrink only, no polish line, a valid model."""
    x = small_blobs(n=4000, seed=7)
    proc = train_job(ml_root, smalgo_bin, x,
                     {"k": 4, "feature_dim": 5, "extra_center_factor": factor}, ranks=ranks,
                     env_extra={"SMALGO_KMEANS_POLISH": "0"})
    ok(proc)
    out = proc.stdout
    assert "k-means polish: off (SMALGO_KMEANS_POLISH=0)" in out
    assert "k-means polish: on" not in out and "Lloyd on a" not in out
    arrays, names = read_ndarray(ml_root.model / "model_algo-1")
    assert names == [] and len(arrays) == 1 and arrays[0].shape == (4, 5)
    centers = arrays[0]
    assert np.all(np.isfinite(centers)) and len(np.unique(centers, axis=0)) == 4
    # Well separated blobs (spread 1, centers ~20 apart): with the shrink every blob is
    # found, msd ~ d. (With factor 1 plain streaming k-means may merge two blobs.)
    if factor == "auto":
        assert msd_to(x, centers).mean() < 1.2 * 5
    train_msd = metric(out, "train msd")
    assert train_msd is not None and np.isfinite(train_msd) and train_msd >= 0


def test_polish_bad_value_is_client_error(ml_root, smalgo_bin):
    proc = train_job(ml_root, smalgo_bin, small_blobs(n=300), {"k": 3, "feature_dim": 5},
                     env_extra={"SMALGO_KMEANS_POLISH": "maybe"})
    assert proc.returncode != 0
    assert "SMALGO_KMEANS_POLISH" in failure_text(ml_root)


# ---- bad input -------------------------------------------------------------------

@pytest.mark.parametrize("hp,needle", [
    ({"k": 50}, "larger than the number of training records"),
    ({"k": 1}, "k"),
    ({"eval_metrics": '["msd","rmse"]'}, "eval_metrics"),
    ({"eval_metrics": "[]"}, "eval_metrics"),
    ({"init_method": "kmeans+"}, "init_method"),
])
def test_bad_input(ml_root, smalgo_bin, hp, needle):
    x = small_blobs(n=30)
    full = {"k": 3, "feature_dim": 5}
    full.update(hp)
    proc = train_job(ml_root, smalgo_bin, x, full)
    assert proc.returncode != 0
    text = failure_text(ml_root)
    assert needle in text, text + proc.stdout[-2000:]


def test_empty_test_channel(ml_root, smalgo_bin):
    x = small_blobs(n=300)
    setup_job(ml_root, {"k": 3, "feature_dim": 5}, test=True)
    write_parts(ml_root.channel_dir("train"), x)
    (ml_root.channel_dir("test") / "empty.pbr").write_bytes(b"")
    proc = run_train(ml_root, smalgo_bin)
    assert proc.returncode != 0
    assert "test" in failure_text(ml_root)
