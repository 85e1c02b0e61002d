"""End-to-end tests of `smalgo train` for PCA.

Each test lays out a temporary /opt/ml tree (smgkit.mlroot), writes the data
with the real SageMaker SDK (sagemaker.amazon.common.write_numpy_to_dense_tensor)
or as CSV, runs the real binary (File mode, Pipe mode through a real FIFO, and
1-3 MPI ranks under mpirun), and reads model/model_algo-1 with an independent
numpy NDArray reader (smgkit.ndarray, shared with test_kmeans.py).

Oracles: scikit-learn's PCA (svd_solver="full", float64) on the same float32
values; numpy; and a real SageMaker PCA model (renejra-pca) with its training
data. Tolerances are given at each assertion.
"""
import os
import subprocess

import numpy as np
import pytest

from smgkit.mlroot import CSV, RECORDIO, MLRoot, setup_job
from smgkit.mpi import MPI_ENV, have_mpirun, mpirun
from smgkit.ndarray import read as read_ndarray
from smgkit.payloads import encode as payload, write_parts
from smgkit.pipe import PipeFeeder


# ---- data and jobs ---------------------------------------------------------------

def low_rank(n, d, r, noise, seed, offset=50.0):
    """Rows near a rank-r affine subspace, with well separated singular values."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, r)))[0].T
    z = rng.standard_normal((n, r)) * np.linspace(10.0, 2.0, r)
    x = offset + z @ basis + noise * rng.standard_normal((n, d))
    return x.astype(np.float32)


def train(ml_root, run_smalgo, expect_ok=True):
    proc = run_smalgo("train", "--ml-root", ml_root.root, "--algorithm", "pca")
    if expect_ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def read_model(path):
    """The model file as a dict by name (or a list if unnamed), and the names."""
    arrays, names = read_ndarray(path)
    return dict(zip(names, arrays)) if names else arrays, names


def model_of(ml_root):
    return read_model(ml_root.model / "model_algo-1")


def run_job(ml_root, run_smalgo, x, hp, content_type=RECORDIO, mode="File", parts=1):
    setup_job(ml_root, hp, content_type, mode)
    if mode == "Pipe":
        feeder = PipeFeeder(ml_root.fifo("train"), payload(x, content_type))
        proc = train(ml_root, run_smalgo)
        feeder.join(timeout=10)
    else:
        write_parts(ml_root.channel_dir("train"), x, parts, content_type)
        proc = train(ml_root, run_smalgo)
    return model_of(ml_root)[0], proc


def hparams(d, k, **kw):
    hp = {"feature_dim": d, "num_components": k, "mini_batch_size": 500}
    hp.update(kw)
    return hp


def assert_close_models(a, b, rel=1e-6):
    """s within rel per value; v (unit columns) and mean within rel absolute."""
    assert a.keys() == b.keys()
    np.testing.assert_allclose(a["s"], b["s"], rtol=rel, atol=0)
    np.testing.assert_allclose(a["v"], b["v"], rtol=0, atol=rel)
    if "mean" in a:
        np.testing.assert_allclose(a["mean"], b["mean"], rtol=rel, atol=rel)


def assert_matches_sklearn(model, x, k):
    from sklearn.decomposition import PCA
    ref = PCA(n_components=k, svd_solver="full").fit(x.astype(np.float64))
    s = model["s"][::-1].astype(np.float64)  # ours ascending, sklearn descending
    v = model["v"][:, ::-1].astype(np.float64)
    # 1e-5 relative: float32 storage of s is 6e-8; both sides are exact otherwise.
    np.testing.assert_allclose(s, ref.singular_values_, rtol=1e-5)
    cos = np.abs(np.sum(v * ref.components_.T, axis=0)) / np.linalg.norm(v, axis=0)
    assert cos.min() >= 0.99999, cos
    np.testing.assert_allclose(model["mean"].ravel(), ref.mean_, rtol=1e-6, atol=1e-6)


# ---- tests -----------------------------------------------------------------------

def test_model_layout_and_sign_rule(ml_root, run_smalgo):
    x = low_rank(2000, 12, 4, 0.05, 1)
    model, proc = run_job(ml_root, run_smalgo, x, hparams(12, 4))
    _, names = model_of(ml_root)
    assert names == ["s", "v", "mean"]
    assert model["s"].shape == (4,) and model["v"].shape == (12, 4)
    assert model["mean"].shape == (1, 12)
    assert np.all(np.diff(model["s"]) >= 0)  # regular mode: ascending, as SageMaker
    for j in range(4):  # the largest-magnitude coordinate of each component is positive
        assert model["v"][np.argmax(np.abs(model["v"][:, j])), j] > 0
    assert "#progress_metric: host=algo-1, completed 100.0 % of epochs" in proc.stdout
    assert "#throughput_metric: host=algo-1, train throughput=" in proc.stdout
    assert "Test data is not provided." in proc.stdout
    assert '"Algorithm": "PCA"' in proc.stdout
    for t in ("initialize.time", "update.time", "finalize.time", "model.serialize.time"):
        assert '"%s"' % t in proc.stdout


def test_digits_matches_sklearn(ml_root, run_smalgo):
    from sklearn.datasets import load_digits
    x = load_digits().data.astype(np.float32)
    model, _ = run_job(ml_root, run_smalgo, x, hparams(64, 10))
    assert_matches_sklearn(model, x, 10)


def test_low_rank_matches_sklearn(ml_root, run_smalgo):
    x = low_rank(5000, 30, 6, 0.01, 2)
    model, _ = run_job(ml_root, run_smalgo, x, hparams(30, 6, mini_batch_size=77))
    assert_matches_sklearn(model, x, 6)


def test_subtract_mean_false(ml_root, run_smalgo):
    x = low_rank(3000, 20, 5, 0.1, 3)
    model, _ = run_job(ml_root, run_smalgo, x, hparams(20, 5, subtract_mean="False"))
    assert set(model) == {"s", "v"}
    sv = np.linalg.svd(x.astype(np.float64), compute_uv=False)[:5][::-1]
    np.testing.assert_allclose(model["s"], sv, rtol=1e-5)


@pytest.mark.parametrize("content_type,mode", [(RECORDIO, "Pipe"), (CSV, "File"), (CSV, "Pipe")])
def test_same_model_any_format_and_mode(tmp_path, run_smalgo, content_type, mode):
    x = low_rank(4000, 16, 5, 0.05, 4)
    ref, _ = run_job(MLRoot(tmp_path / "ref"), run_smalgo, x, hparams(16, 5))
    got, _ = run_job(MLRoot(tmp_path / "got"), run_smalgo, x, hparams(16, 5), content_type, mode)
    assert_close_models(ref, got, 1e-6)


@pytest.mark.parametrize("ranks", [2, 3])
def test_same_model_any_rank_count(tmp_path, smalgo_bin, run_smalgo, ranks):
    if not have_mpirun():
        pytest.skip("mpirun not installed")
    x = low_rank(6000, 16, 5, 0.05, 5)
    ref, _ = run_job(MLRoot(tmp_path / "ref"), run_smalgo, x, hparams(16, 5), parts=6)
    root = MLRoot(tmp_path / "mpi")
    setup_job(root, hparams(16, 5))
    write_parts(root.channel_dir("train"), x, 6, RECORDIO)
    env = dict(os.environ, **MPI_ENV, OMPI_MCA_btl_vader_single_copy_mechanism="none")
    proc = subprocess.run(mpirun(ranks, [smalgo_bin, "train", "--ml-root", root.root,
                                         "--algorithm", "pca"]),
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got, _ = model_of(root)
    assert_close_models(ref, got, 1e-6)


def test_randomized_mode(ml_root, run_smalgo):
    x = low_rank(5000, 40, 3, 0.0, 6)
    model, proc = run_job(ml_root, run_smalgo, x,
                          hparams(40, 3, algorithm_mode="randomized", extra_components=-1))
    assert np.all(np.diff(model["s"]) <= 0)  # randomized: descending, as SageMaker
    from sklearn.decomposition import PCA
    ref = PCA(n_components=3, svd_solver="full").fit(x.astype(np.float64))
    # The sketch spans the exact rank-3 subspace: projection onto it keeps each component.
    inside = np.linalg.norm(ref.components_ @ model["v"].astype(np.float64), axis=0)
    assert inside.min() >= 0.99999
    np.testing.assert_allclose(model["mean"].ravel(), ref.mean_, rtol=1e-6, atol=1e-6)
    assert "The total number of components and extra components should be less than the " \
           "number of features." not in proc.stdout


def test_randomized_warns_when_sketch_too_wide(ml_root, run_smalgo):
    x = low_rank(500, 8, 3, 0.1, 7)
    _, proc = run_job(ml_root, run_smalgo, x,
                      hparams(8, 3, algorithm_mode="randomized", extra_components=-1))
    assert "The total number of components and extra components should be less than the " \
           "number of features." in proc.stdout


def test_test_channel_reconstruction_mse(ml_root, run_smalgo):
    x = low_rank(3000, 10, 3, 0.2, 8)
    t = low_rank(700, 10, 3, 0.2, 8)[::-1].copy()
    setup_job(ml_root, hparams(10, 3), test=True)
    write_parts(ml_root.channel_dir("train"), x, 1, RECORDIO)
    write_parts(ml_root.channel_dir("test"), t, 1, RECORDIO)
    proc = train(ml_root, run_smalgo)
    model, _ = model_of(ml_root)
    v, mean = model["v"].astype(np.float64), model["mean"].astype(np.float64)
    c = t.astype(np.float64) - mean
    want = np.mean((c - c @ v @ v.T) ** 2)
    line = [ln for ln in proc.stdout.splitlines()
            if "#quality_metric: host=algo-1, test reconstruction_mse <loss>=" in ln]
    assert len(line) == 1, proc.stdout
    got = float(line[0].rsplit("=", 1)[1])
    assert abs(got - want) <= 1e-5 * want  # model stored as float32: ~1e-7 relative


def test_renejra_training_reproduces_sagemaker(ml_root, run_smalgo, fixtures_dir):
    art = fixtures_dir / "artifacts" / "renejra-pca"
    sm, _ = read_model(art / "model_algo-1")
    rows = np.genfromtxt(art / "data" / "train_nx.csv", delimiter=",", skip_header=1)
    x = rows[:, 1:].astype(np.float32)  # all columns except Date: 26 features
    assert x.shape == (1840, 26)
    model, _ = run_job(ml_root, run_smalgo, x, hparams(26, 25), CSV, "File")
    np.testing.assert_allclose(model["mean"], sm["mean"], rtol=0, atol=1e-6)
    ok = ~np.isnan(sm["s"])
    assert ok.sum() == 24
    np.testing.assert_allclose(model["s"][ok], sm["s"][ok], rtol=1e-4)
    assert not np.isnan(model["s"]).any()  # SageMaker's s[0] is NaN; ours is not


@pytest.mark.parametrize("case", ["too_many_components", "empty_channel", "wrong_feature_count",
                                  "fewer_rows_than_components"])
def test_bad_input_is_client_error(ml_root, run_smalgo, case):
    x = low_rank(50, 6, 3, 0.1, 9)
    hp, data, expect = hparams(6, 3), x, None
    if case == "too_many_components":
        hp, expect = hparams(6, 7), "num_components (7) is greater than feature_dim (6)"
    elif case == "empty_channel":
        data, expect = None, "channel 'train' is empty"
    elif case == "wrong_feature_count":
        hp, expect = hparams(5, 3), "expected 5"
    else:
        data, expect = x[:2], "fewer than num_components (3)"
    setup_job(ml_root, hp, CSV)
    d = ml_root.channel_dir("train")
    if data is None:
        (d / "empty.csv").write_text("")
    else:
        (d / "part.csv").write_bytes(payload(data, CSV))
    proc = train(ml_root, run_smalgo, expect_ok=False)
    assert proc.returncode != 0
    failure = ml_root.failure.read_text()
    assert expect in failure, failure
    assert not (ml_root.model / "model_algo-1").exists()
