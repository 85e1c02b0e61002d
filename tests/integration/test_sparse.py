"""Sparse training data end to end: recordIO-protobuf written by the SDK's
write_spmatrix_to_sparse_tensor reaches the algorithms as CSR mini-batches.

- Randomized PCA on sparse records (the default Gram sketch with its shifted
  solve, SMALGO_PCA_SKETCH=gram-unshifted and =signs) gives the model the same rows give when
  written densely (write_numpy_to_dense_tensor), within 1e-5, and at
  d = 100,000 its peak resident memory stays far below one dense mini-batch
  ring (3 x mini_batch_size x d x 4 bytes).
- Issue 14: the memory check before training counts a sparse channel's batches
  as CSR, so k-means and randomized PCA at d = 100,000 train (File and Pipe
  mode) under a memory limit a dense ring would exceed, peaking below it;
  dense records at that size are still refused, with the figures (File mode
  before training, Pipe mode at the first record).
- Regular PCA at d = 100,000 fails before allocating, with a ClientError that
  names the bytes the d x d matrix needs and suggests algorithm_mode=randomized.
- A duplicate sparse key fails with the file and record in output/failure.
- k-means on sparse records equals the dense run (also at scales 1e-25 and
  1e25, where the job computes distances in double), and SMALGO_THREADS=1, 2
  give byte-identical models for sparse k-means and PCA.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from smgkit.mlroot import RECORDIO, setup_job
from smgkit.ndarray import read as read_ndarray
from smgkit.payloads import sdk_dense, sdk_sparse

sp = pytest.importorskip("scipy.sparse")


def sparse_data(n, d, density, seed):
    """A random CSR matrix (float32) with a few dense-ish heavy columns."""
    rng = np.random.default_rng(seed)
    m = sp.random(n, d, density=density, format="csr", dtype=np.float32, random_state=rng)
    heavy = sp.csr_matrix((rng.random((n, 3)) * 5).astype(np.float32))
    return sp.hstack([heavy, m[:, 3:]], format="csr")


def run_train(smalgo_bin, ml_root, algorithm, env=None):
    """Train (env: extra variables); returns (returncode, output)."""
    proc = subprocess.Popen([str(smalgo_bin), "train", "--ml-root", str(ml_root.root),
                             "--algorithm", algorithm], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out


# Runs argv and prints the child's peak RSS. A separate small process is the
# parent because a child forked from pytest starts with pytest's resident pages
# counted in its high-water mark.
PEAK_RSS = """
import os, subprocess, sys
p = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(p.pid, 0)
print("PEAK_RSS", usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status))
"""


def run_measured(smalgo_bin, ml_root, algorithm, env=None):
    """Train (env: extra variables): (returncode, output, peak RSS bytes of the smalgo process)."""
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, str(smalgo_bin), "train", "--ml-root",
                           str(ml_root.root), "--algorithm", algorithm],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})
    last = [ln for ln in proc.stdout.splitlines() if ln.startswith("PEAK_RSS ")][-1].split()
    return int(last[2]), proc.stdout + proc.stderr, int(last[1])


def model(ml_root):
    arrays, names = read_ndarray(ml_root.model / "model_algo-1")
    return dict(zip(names, arrays))


def write_train(ml_root, hp, data):
    setup_job(ml_root, hp, RECORDIO, "File")
    (ml_root.channel_dir("train") / "part-00.pbr").write_bytes(data)


@pytest.mark.parametrize("sketch", ["gram", "gram-unshifted", "signs"])
@pytest.mark.parametrize("subtract_mean", [True, False])
def test_randomized_pca_sparse_equals_dense(ml_root, tmp_path, smalgo_bin, subtract_mean, sketch):
    from smgkit.mlroot import MLRoot
    x = sparse_data(3000, 2000, 0.01, seed=1)
    env = {"SMALGO_PCA_SKETCH": sketch}
    hp = {"feature_dim": 2000, "num_components": 4, "mini_batch_size": 700,
          "algorithm_mode": "randomized", "subtract_mean": str(subtract_mean).lower()}
    write_train(ml_root, hp, sdk_sparse(x))
    rc, out = run_train(smalgo_bin, ml_root, "pca", env)
    assert rc == 0, out
    dense_root = MLRoot(tmp_path / "dense")
    write_train(dense_root, hp, sdk_dense(x.toarray()))
    rc, out = run_train(smalgo_bin, dense_root, "pca", env)
    assert rc == 0, out
    a, b = model(ml_root), model(dense_root)
    # Same test matrix / signs per stream row on both paths; only the summation order differs.
    np.testing.assert_allclose(a["s"], b["s"], rtol=1e-5, atol=0)
    np.testing.assert_allclose(a["v"], b["v"], rtol=0, atol=1e-5)
    if subtract_mean:
        np.testing.assert_allclose(a["mean"], b["mean"], rtol=1e-5, atol=1e-6)


def test_randomized_pca_sparse_memory(ml_root, smalgo_bin):
    d, batch = 100_000, 5000
    x = sparse_data(20_000, d, 0.001, seed=2)
    write_train(ml_root, {"feature_dim": d, "num_components": 5, "mini_batch_size": batch,
                          "algorithm_mode": "randomized"}, sdk_sparse(x))
    rc, out, rss = run_measured(smalgo_bin, ml_root, "pca")
    assert rc == 0, out
    dense_ring = 3 * batch * d * 4  # 6 GB: what densified batches would hold
    # l = 15: the Gram sketch's test matrix and state are 2 x (15 + 31) x d
    # doubles = 74 MB, the solve's work about as much again, the CSR ring a few
    # MB, the process itself (MPI, OpenBLAS) ~30 MB. 300 MB is the goal.
    print("peak RSS %.1f MB (a dense ring would be %.1f GB)" % (rss / 1e6, dense_ring / 1e9))
    assert rss < 300e6, (rss, dense_ring)


def test_regular_pca_refuses_huge_d(ml_root, smalgo_bin):
    x = sparse_data(50, 100_000, 0.001, seed=3)
    write_train(ml_root, {"feature_dim": 100_000, "num_components": 3, "mini_batch_size": 10},
                sdk_sparse(x))
    rc, out = run_train(smalgo_bin, ml_root, "pca")
    assert rc != 0
    failure = ml_root.failure.read_text()
    # Whichever check refuses first: the runtime's memory check against what
    # this machine allows (hard13, runtime/job_memory.h), or PCA's own d x d
    # budget (tests/unit/algorithms/test_pca_csr.c covers its message).
    assert failure.startswith("ClientError"), failure
    assert ("80000000000 bytes" in failure and "algorithm_mode=randomized" in failure) or \
        "feature_dim x feature_dim matrix of doubles = 74.5 GiB" in failure, failure
    assert not (ml_root.model / "model_algo-1").exists()


def test_duplicate_sparse_key_is_located(ml_root, smalgo_bin):
    # scipy keeps duplicate entries of an unsummed CSR; the SDK writes them as is.
    m = sp.csr_matrix((np.array([1, 2, 3], np.float32), np.array([4, 1, 4]),
                       np.array([0, 0, 3])), shape=(2, 8))
    m.has_canonical_format = False
    write_train(ml_root, {"feature_dim": 8, "num_components": 2, "mini_batch_size": 2,
                          "algorithm_mode": "randomized"}, sdk_sparse(m))
    rc, out = run_train(smalgo_bin, ml_root, "pca")
    assert rc != 0
    failure = ml_root.failure.read_text()
    assert "part-00.pbr: record 1" in failure, failure
    assert "sparse key 4 appears twice (entries 0 and 2)" in failure, failure


def sparse_clusters(n, d, k, seed):
    """k clusters, cluster g on its own block of d / k columns (40% filled), 1% noise elsewhere."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, k, n)
    own = (np.arange(d)[None, :] // (d // k)) == g[:, None]
    keep = np.where(own, rng.random((n, d)) < 0.4, rng.random((n, d)) < 0.01)
    vals = np.where(own, 1 + 3 * rng.random((n, d)), 0.5 * rng.random((n, d)))
    return sp.csr_matrix((vals * keep).astype(np.float32))


def kmeans_job(root, x, test, hp, sparse):
    setup_job(root, hp, RECORDIO, "File", test=True)
    enc = sdk_sparse if sparse else (lambda m: sdk_dense(m.toarray()))
    (root.channel_dir("train") / "part-00.pbr").write_bytes(enc(x))
    (root.channel_dir("test") / "part-00.pbr").write_bytes(enc(test))


@pytest.mark.parametrize("init", ["random", "kmeans++"])
def test_kmeans_sparse_equals_dense_and_numpy(ml_root, tmp_path, smalgo_bin, init):
    from smgkit.joblog import quality_metric
    from smgkit.kmeans import msd
    from smgkit.mlroot import MLRoot
    x, t = sparse_clusters(4000, 500, 5, seed=4), sparse_clusters(700, 500, 5, seed=5)
    hp = {"k": 5, "feature_dim": 500, "mini_batch_size": 600, "init_method": init,
          "eval_metrics": '["msd"]'}
    kmeans_job(ml_root, x, t, hp, sparse=True)
    rc, out_sparse = run_train(smalgo_bin, ml_root, "kmeans")
    assert rc == 0, out_sparse
    dense_root = MLRoot(tmp_path / "dense")
    kmeans_job(dense_root, x, t, hp, sparse=False)
    rc, out_dense = run_train(smalgo_bin, dense_root, "kmeans")
    assert rc == 0, out_dense
    a = read_ndarray(ml_root.model / "model_algo-1")[0][0]
    b = read_ndarray(dense_root.model / "model_algo-1")[0][0]
    # The densified computation, same seeds and draws: equal up to float32
    # rounding of the model (centres are O(1..4)).
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max())
    # The sparse test-channel msd against numpy's float64 difference form.
    td = t.toarray()
    assert quality_metric(out_sparse, "test msd") == pytest.approx(msd(td, a), rel=1e-9)
    # Quality against scikit-learn's KMeans(n_init=10) on the same rows.
    sk = pytest.importorskip("sklearn.cluster")
    ref = sk.KMeans(5, n_init=10, random_state=0).fit(x.toarray().astype(np.float64))
    assert msd(td, a) <= 1.02 * msd(td, ref.cluster_centers_)


@pytest.mark.parametrize("scale", [1e-25, 1e25])
def test_kmeans_sparse_extreme_scale_equals_dense(ml_root, tmp_path, smalgo_bin, scale):
    """Both runs switch to double distances (float32 squares under/overflow) and agree."""
    from smgkit.mlroot import MLRoot
    x = sparse_clusters(3000, 300, 4, seed=6) * np.float32(scale)
    t = sparse_clusters(500, 300, 4, seed=7) * np.float32(scale)
    hp = {"k": 4, "feature_dim": 300, "mini_batch_size": 500, "init_method": "kmeans++"}
    kmeans_job(ml_root, x, t, hp, sparse=True)
    rc, out_sparse = run_train(smalgo_bin, ml_root, "kmeans")
    assert rc == 0, out_sparse
    dense_root = MLRoot(tmp_path / "dense")
    kmeans_job(dense_root, x, t, hp, sparse=False)
    rc, out_dense = run_train(smalgo_bin, dense_root, "kmeans")
    assert rc == 0, out_dense
    assert "computing distances in double" in out_sparse, out_sparse
    assert "computing distances in double" in out_dense, out_dense
    a = read_ndarray(ml_root.model / "model_algo-1")[0][0].astype(np.float64)
    b = read_ndarray(dense_root.model / "model_algo-1")[0][0].astype(np.float64)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max())
    # The right clusters: every centre is near the mean of one true cluster's rows.
    assert np.isfinite(a).all() and np.abs(a).max() > 0.5 * scale


def test_kmeans_sparse_two_ranks_equals_dense(ml_root, tmp_path, smalgo_bin):
    """Two mpirun ranks on CSR batches (the rank-combine step, not the one-rank sparse state)
    agree with the same two ranks on the densified rows, and sparse one-rank with dense one-rank."""
    from smgkit.mlroot import MLRoot
    from smgkit.mpi import MPI_ENV, have_mpirun, mpirun
    if not have_mpirun():
        pytest.skip("mpirun not installed")
    x, t = sparse_clusters(3000, 400, 4, seed=10), sparse_clusters(300, 400, 4, seed=11)
    hp = {"k": 4, "feature_dim": 400, "mini_batch_size": 400, "init_method": "kmeans++"}
    models = {}
    for name, sparse, ranks in (("s2", True, 2), ("d2", False, 2), ("s1", True, 1),
                                ("d1", False, 1)):
        root = MLRoot(tmp_path / name)
        setup_job(root, hp, RECORDIO, "File", test=True)
        enc = sdk_sparse if sparse else (lambda m: sdk_dense(m.toarray()))
        half = x.shape[0] // 2  # one file per rank
        (root.channel_dir("train") / "part-00.pbr").write_bytes(enc(x[:half]))
        (root.channel_dir("train") / "part-01.pbr").write_bytes(enc(x[half:]))
        (root.channel_dir("test") / "part-00.pbr").write_bytes(enc(t))
        cmd = [str(smalgo_bin), "train", "--ml-root", str(root.root), "--algorithm", "kmeans"]
        proc = subprocess.run(mpirun(ranks, cmd) if ranks > 1 else cmd, capture_output=True,
                              text=True, timeout=300, env={**os.environ, **MPI_ENV})
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        models[name] = read_ndarray(root.model / "model_algo-1")[0][0].astype(np.float64)
    for a, b in (("s2", "d2"), ("s1", "d1")):
        np.testing.assert_allclose(models[a], models[b], rtol=0,
                                   atol=1e-5 * np.abs(models[b]).max())


@pytest.mark.parametrize("algorithm", ["kmeans", "pca"])
def test_sparse_threads_byte_identical(ml_root, tmp_path, smalgo_bin, algorithm):
    from smgkit.mlroot import MLRoot
    x, t = sparse_clusters(6000, 500, 5, seed=8), sparse_clusters(500, 500, 5, seed=9)
    if algorithm == "kmeans":
        hp = {"k": 5, "feature_dim": 500, "mini_batch_size": 2000}
    else:
        hp = {"feature_dim": 500, "num_components": 3, "mini_batch_size": 2000,
              "algorithm_mode": "regular"}
    models = []
    for threads in ("1", "2"):
        root = MLRoot(tmp_path / ("t" + threads))
        kmeans_job(root, x, t, hp, sparse=True)
        rc, out = run_train(smalgo_bin, root, algorithm, {"SMALGO_THREADS": threads})
        assert rc == 0, out
        assert "Training on %s worker thread" % threads in out, out
        models.append((root.model / "model_algo-1").read_bytes())
    assert models[0] == models[1]


# ---- issue 14: the memory check counts what a sparse channel really allocates --------------

D_BIG, BATCH_BIG = 100_000, 5000
LIMIT = 512 << 20  # SMALGO_MEMORY_LIMIT_BYTES: 0.5 GiB
DENSE_RING = 3 * BATCH_BIG * D_BIG * 4  # 6 GB: what the check used to count for any channel
BIG_HP = {
    "kmeans": {"k": 3, "feature_dim": D_BIG, "mini_batch_size": BATCH_BIG},
    "pca": {"feature_dim": D_BIG, "num_components": 5, "mini_batch_size": BATCH_BIG,
            "algorithm_mode": "randomized"},
}


def big_job(ml_root, algorithm, data, mode):
    """A d = 100,000 job whose train channel is `data` (recordIO bytes) in mode; returns the
    Pipe feeder, if any."""
    from smgkit.pipe import PipeFeeder
    setup_job(ml_root, BIG_HP[algorithm], RECORDIO, mode)
    if mode == "Pipe":
        return PipeFeeder(ml_root.fifo("train"), data, timeout=120)
    (ml_root.channel_dir("train") / "part-00.pbr").write_bytes(data)
    return None


@pytest.mark.parametrize("mode", ["File", "Pipe"])
@pytest.mark.parametrize("algorithm", ["kmeans", "pca"])
def test_sparse_d100k_trains_under_a_limit_a_dense_ring_would_exceed(ml_root, smalgo_bin,
                                                                      algorithm, mode):
    assert DENSE_RING > 10 * LIMIT
    feeder = big_job(ml_root, algorithm, sdk_sparse(sparse_data(20_000, D_BIG, 0.001, seed=2)),
                     mode)
    rc, out, rss = run_measured(smalgo_bin, ml_root, algorithm,
                                {"SMALGO_MEMORY_LIMIT_BYTES": str(LIMIT)})
    if feeder is not None:
        feeder.join(timeout=10)
    assert rc == 0, out
    assert ml_root.model_file().exists() and not ml_root.failure.exists()
    print("%s %s: peak RSS %.1f MB under a %.0f MB limit" % (algorithm, mode, rss / 1e6,
                                                             LIMIT / 1e6))
    assert rss < LIMIT, (rss, LIMIT)  # the limit the check allowed was really enough


@pytest.mark.parametrize("algorithm", ["kmeans", "pca"])
def test_dense_d100k_over_the_limit_is_refused_before_training(ml_root, smalgo_bin, algorithm):
    big_job(ml_root, algorithm, sdk_dense(np.ones((20, D_BIG), np.float32)), "File")
    rc, out = run_train(smalgo_bin, ml_root, algorithm, {"SMALGO_MEMORY_LIMIT_BYTES": str(LIMIT)})
    assert rc != 0
    first = ml_root.failure.read_text().splitlines()[0]
    assert first.startswith("ClientError: "), first
    assert "3 batch buffers of mini_batch_size x feature_dim floats = 5.59 GiB" in first, first
    assert "this machine allows 0.5 GiB" in first, first
    assert "epoch 0" not in out and "Read " not in out
    assert not ml_root.model_file().exists()


@pytest.mark.parametrize("algorithm", ["kmeans", "pca"])
def test_dense_d100k_pipe_over_the_limit_is_refused_at_its_first_record(ml_root, smalgo_bin,
                                                                        algorithm):
    """Pipe mode cannot look at the first record before training: the check counts the CSR
    ring and leaves the rest of the limit to the channel, which refuses dense batches that
    would not fit as soon as the first record shows they are dense."""
    feeder = big_job(ml_root, algorithm, sdk_dense(np.ones((20, D_BIG), np.float32)), "Pipe")
    rc, out, rss = run_measured(smalgo_bin, ml_root, algorithm,
                                {"SMALGO_MEMORY_LIMIT_BYTES": str(LIMIT)})
    feeder.join(timeout=10)
    assert rc != 0
    first = ml_root.failure.read_text().splitlines()[0]
    assert first.startswith("ClientError: channel train: its records are dense"), first
    assert "3 batch buffers of mini_batch_size x feature_dim floats need 5.59 GiB" in first, first
    assert "lower mini_batch_size" in first
    assert rss < LIMIT, rss  # refused before allocating the ring
    assert not ml_root.model_file().exists()
