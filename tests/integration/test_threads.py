"""Training on a worker pool: SMALGO_THREADS=1, 2 and 3 give byte-identical
model files (k-means in File and Pipe mode, PCA regular), the log says how many
workers ran, and a bad SMALGO_THREADS is a configuration error that names it.

The pool splits each mini-batch's nearest-center search and sums (k-means) and
the block statistics (PCA) across workers in a way that keeps every floating
point operation and its order (algorithms/kmeans_split.h, algorithms/pca.c), so
anything but identical bytes is a bug. Data: 120,000 clustered rows, d=16, in
recordIO-protobuf written by the real SageMaker SDK, and as CSV.

With more than one worker the channel also decodes each mini-batch on that
many threads (io/batch_decode.h): the models must still be identical, a bad
row must give the same failure (naming its file and line or record) whatever
the count, and the log reports the stage split with the decode thread count.
"""
import os
import re
import subprocess

import numpy as np
import pytest

from smgkit.mlroot import MLRoot, setup_job
from smgkit.payloads import CSV, RECORDIO, encode, write_parts
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


def train(root, smalgo_bin, algo, hp, x, threads, mode="File", content_type=RECORDIO,
          env_extra=None):
    ml = MLRoot(root)
    setup_job(ml, hp, content_type=content_type, mode=mode)
    feeder = None
    if mode == "Pipe":
        feeder = PipeFeeder(ml.fifo("train"), encode(x, content_type))
    else:
        write_parts(ml.channel_dir("train"), x, 3, content_type)
    env = dict(os.environ, SMALGO_THREADS=str(threads))
    env.pop("SMALGO_DECODE_THREADS", None)
    env.update(env_extra or {})
    proc = subprocess.run([str(smalgo_bin), "train", "--ml-root", str(ml.root), "--algorithm",
                           algo], capture_output=True, text=True, timeout=600, env=env)
    if feeder is not None:
        feeder.join(timeout=10)
    return ml, proc


JOBS = [("kmeans", {"k": 10, "feature_dim": 16, "mini_batch_size": 20000}, "File", RECORDIO),
        ("kmeans", {"k": 10, "feature_dim": 16, "mini_batch_size": 7001}, "Pipe", RECORDIO),
        ("pca", {"num_components": 5, "feature_dim": 16, "mini_batch_size": 3000}, "File", RECORDIO),
        ("kmeans", {"k": 10, "feature_dim": 16, "mini_batch_size": 5000}, "Pipe", CSV),
        ("pca", {"num_components": 5, "feature_dim": 16, "mini_batch_size": 2999}, "File", CSV)]


@pytest.mark.parametrize("algo,hp,mode,content_type", JOBS)
def test_models_identical_across_thread_counts(tmp_path, smalgo_bin, data, algo, hp, mode,
                                               content_type):
    models = {}
    for threads in (1, 2, 3):
        ml, proc = train(tmp_path / str(threads), smalgo_bin, algo, hp, data, threads, mode,
                         content_type)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "Training on %d worker thread(s) (SMALGO_THREADS" % threads in proc.stdout
        split = re.search(r"rank 0 stage split: read [0-9.]+ s \(I/O wait\), decode [0-9.]+ s CPU "
                          r"on (\d+) thread\(s\), compute [0-9.]+ s on (\d+) worker", proc.stdout)
        assert split, proc.stdout[-3000:]
        assert split.groups() == (str(threads), str(threads))
        models[threads] = (ml.model / "model_algo-1").read_bytes()
    assert models[2] == models[1]
    assert models[3] == models[1]


@pytest.mark.parametrize("content_type", [CSV, RECORDIO])
@pytest.mark.parametrize("mode", ["File", "Pipe"])
def test_bad_row_same_failure_across_thread_counts(tmp_path, smalgo_bin, data, content_type,
                                                   mode):
    """Row 21,234 of 30,000 is bad (in File mode: row 1,000 of the second file), in the
    sixth mini-batch of 4,000: every thread count must fail with the same message."""
    x, bad = data[:30_000], 21_234
    failures = {}
    for threads in (1, 2):
        ml = MLRoot(tmp_path / str(threads))
        setup_job(ml, {"k": 4, "feature_dim": 16, "mini_batch_size": 4000},
                  content_type=content_type, mode=mode)
        payload = bad_payload(x, content_type, bad)
        feeder = None
        if mode == "Pipe":
            feeder = PipeFeeder(ml.fifo("train"), payload)
        else:
            folder = ml.channel_dir("train")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / ("part-00." + ("csv" if content_type == CSV else "pbr"))).write_bytes(
                encode(x[:bad - 1000], content_type))
            (folder / ("part-01." + ("csv" if content_type == CSV else "pbr"))).write_bytes(
                bad_payload(x[bad - 1000:], content_type, 1000))
        env = dict(os.environ, SMALGO_THREADS=str(threads))
        env.pop("SMALGO_DECODE_THREADS", None)
        proc = subprocess.run([str(smalgo_bin), "train", "--ml-root", str(ml.root),
                               "--algorithm", "kmeans"], capture_output=True, text=True,
                              timeout=600, env=env)
        if feeder is not None:
            feeder.join(timeout=10)
        assert proc.returncode != 0, proc.stdout[-2000:]
        failures[threads] = ml.failure.read_text().replace(str(ml.root), "<ml-root>")
    assert failures[2] == failures[1]
    where = ("train_0" if mode == "Pipe" else "part-01." + ("csv" if content_type == CSV else "pbr"))
    assert where in failures[1], failures[1]
    if content_type == CSV:
        line = bad + 1 if mode == "Pipe" else 1001
        assert "line %d, column 3: not a number" % line in failures[1], failures[1]
    else:
        rec = bad if mode == "Pipe" else 1000
        assert "record %d at byte" % rec in failures[1], failures[1]
        assert "15 features, expected 16 (feature_dim)" in failures[1], failures[1]


def bad_payload(x, content_type, bad):
    """x encoded as content_type, with row `bad` malformed: its third field
    "oops" in CSV, or 15 of its 16 features in recordIO."""
    if content_type == CSV:
        lines = encode(x, CSV).split(b"\n")
        fields = lines[bad].split(b",")
        fields[2] = b"oops"
        lines[bad] = b",".join(fields)
        return b"\n".join(lines)
    return encode(x[:bad], RECORDIO) + encode(x[bad:bad + 1, :15], RECORDIO) + \
        encode(x[bad + 1:], RECORDIO)


@pytest.mark.parametrize("value", ["0", "abc", "2x", "1025", "-1"])
def test_bad_thread_count_is_a_client_error(tmp_path, smalgo_bin, value, data):
    ml, proc = train(tmp_path, smalgo_bin, "kmeans", {"k": 2, "feature_dim": 16}, data[:100],
                     value)
    assert proc.returncode != 0
    failure = ml.failure.read_text()
    assert "SMALGO_THREADS='%s'" % value in failure, failure
    assert not (ml.model / "model_algo-1").exists()


@pytest.mark.parametrize("value", ["0", "x", "1025"])
def test_bad_decode_thread_count_is_a_client_error(tmp_path, smalgo_bin, value, data):
    ml, proc = train(tmp_path, smalgo_bin, "kmeans", {"k": 2, "feature_dim": 16}, data[:100], 2,
                     env_extra={"SMALGO_DECODE_THREADS": value})
    assert proc.returncode != 0
    assert "SMALGO_DECODE_THREADS='%s' is not a whole number of decode threads" % value in \
        ml.failure.read_text()


def test_decode_threads_override(tmp_path, smalgo_bin, data):
    """SMALGO_DECODE_THREADS=1 keeps decoding on the reader thread next to 2 workers, and
    the model is the same as with 2 decode threads."""
    hp = {"num_components": 5, "feature_dim": 16, "mini_batch_size": 3000}
    models = {}
    for n in ("1", "2"):
        ml, proc = train(tmp_path / n, smalgo_bin, "pca", hp, data[:40_000], 2, "File", CSV,
                         env_extra={"SMALGO_DECODE_THREADS": n})
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "CPU on %s thread(s), compute" % n in proc.stdout, proc.stdout[-3000:]
        models[n] = (ml.model / "model_algo-1").read_bytes()
    assert models["1"] == models["2"]
