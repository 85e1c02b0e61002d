"""Training on a worker pool: SMALGO_THREADS=1, 2 and 3 give byte-identical
model files (k-means in File and Pipe mode, PCA regular), the log says how many
workers ran, and a bad SMALGO_THREADS is a configuration error that names it.

The pool splits each mini-batch's nearest-center search and sums (k-means) and
the block statistics (PCA) across workers in a way that keeps every floating
point operation and its order (algorithms/kmeans_split.h, algorithms/pca.c), so
anything but identical bytes is a bug. Data: 120,000 clustered rows, d=16, in
recordIO-protobuf written by the real SageMaker SDK.
"""
import os
import subprocess

import numpy as np
import pytest

from smgkit.mlroot import MLRoot, setup_job
from smgkit.payloads import sdk_dense as recordio, write_parts
from smgkit.pipe import PipeFeeder


def clustered(n, d, seed=3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, size=(12, d))
    x = centres[rng.integers(0, 12, n)] + rng.normal(0, 1, size=(n, d))
    x[:, 0] += 1000.0  # far from the origin, as coordinates are
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def data():
    return clustered(120_000, 16)


def train(root, smalgo_bin, algo, hp, x, threads, mode="File"):
    ml = MLRoot(root)
    setup_job(ml, hp, mode=mode)
    feeder = None
    if mode == "Pipe":
        feeder = PipeFeeder(ml.fifo("train"), recordio(x))
    else:
        write_parts(ml.channel_dir("train"), x, 3)
    env = dict(os.environ, SMALGO_THREADS=str(threads))
    proc = subprocess.run([str(smalgo_bin), "train", "--ml-root", str(ml.root), "--algorithm",
                           algo], capture_output=True, text=True, timeout=600, env=env)
    if feeder is not None:
        feeder.join(timeout=10)
    return ml, proc


JOBS = [("kmeans", {"k": 10, "feature_dim": 16, "mini_batch_size": 20000}, "File"),
        ("kmeans", {"k": 10, "feature_dim": 16, "mini_batch_size": 7001}, "Pipe"),
        ("pca", {"num_components": 5, "feature_dim": 16, "mini_batch_size": 3000}, "File")]


@pytest.mark.parametrize("algo,hp,mode", JOBS)
def test_models_identical_across_thread_counts(tmp_path, smalgo_bin, data, algo, hp, mode):
    models = {}
    for threads in (1, 2, 3):
        ml, proc = train(tmp_path / str(threads), smalgo_bin, algo, hp, data, threads, mode)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "Training on %d worker thread(s) (SMALGO_THREADS" % threads in proc.stdout
        models[threads] = (ml.model / "model_algo-1").read_bytes()
    assert models[2] == models[1]
    assert models[3] == models[1]


@pytest.mark.parametrize("value", ["0", "abc", "2x", "1025", "-1"])
def test_bad_thread_count_is_a_client_error(tmp_path, smalgo_bin, value, data):
    ml, proc = train(tmp_path, smalgo_bin, "kmeans", {"k": 2, "feature_dim": 16}, data[:100],
                     value)
    assert proc.returncode != 0
    failure = ml.failure.read_text()
    assert "SMALGO_THREADS='%s'" % value in failure, failure
    assert not (ml.model / "model_algo-1").exists()
