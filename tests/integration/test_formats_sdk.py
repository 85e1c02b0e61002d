"""recordIO-protobuf written by the real SageMaker SDK, read by smalgo; and
`smalgo convert` output compared byte for byte with the SDK's.

- write_numpy_to_dense_tensor for float32, float64 and int64 arrays (the SDK
  refuses int32),
  with and without labels, and write_spmatrix_to_sparse_tensor for scipy CSR
  (empty rows included): `smalgo records` prints exactly the float32 values
  numpy holds (float64 rounded to float32 once, as numpy's astype does).
- `smalgo convert` from CSV and from .npy: byte-identical to the SDK for
  float32 (dense, dense with label, sparse, sharded like record_set), and for
  float64/int .npy as well.
- malformed input: exit status 1 and a message naming file and place.
"""
import os

import numpy as np
import pytest

from smgkit.payloads import csv_bytes, sdk_dense, sdk_sparse

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
pytest.importorskip("sagemaker.amazon.common")
sp = pytest.importorskip("scipy.sparse")


@pytest.fixture
def run(run_smalgo):
    """Run `smalgo ARGS...`; with check (the default) a non-zero exit fails the test."""

    def go(*args, check=True):
        p = run_smalgo(*args, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(f"smalgo {args} exited {p.returncode}: {p.stderr}")
        return p

    return go


@pytest.fixture
def records(run):
    """The rows `smalgo records` prints for path, as a float32 (n, dim) array."""

    def go(path, dim, *extra):
        out = run("records", "--feature-dim", dim, *extra, path).stdout
        rows = [list(map(float, line.split(","))) for line in out.splitlines() if line]
        return np.array(rows, dtype=np.float64).astype(np.float32).reshape(-1, dim)

    return go


def data(dtype, rows=37, cols=5, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "i":
        return rng.integers(-100000, 100000, size=(rows, cols)).astype(dtype)
    return (rng.standard_normal((rows, cols)) * 10.0 ** rng.integers(-3, 4, size=(rows, cols))
            ).astype(dtype)


# The SDK accepts float32, float64 and int64 (np.dtype(int), written as Int32Tensor).
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("label", [None, "same", "float32"])
def test_sdk_dense_decodes_exactly(tmp_path, dtype, label, records):
    a = data(dtype)
    labels = None
    if label == "same":
        labels = np.arange(a.shape[0]).astype(dtype)
    elif label == "float32":
        labels = np.linspace(0, 1, a.shape[0]).astype(np.float32)
    f = tmp_path / "dense.pbr"
    f.write_bytes(sdk_dense(a, labels))
    got = records(f, a.shape[1])
    want = a.astype(np.float32)
    assert got.shape == want.shape
    assert np.array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sdk_sparse_decodes_exactly(tmp_path, dtype, records):
    a = data(dtype, rows=20, cols=9)
    a[np.random.default_rng(1).random(a.shape) < 0.7] = 0
    a[3] = 0  # an empty CSR row: the SDK writes shape only
    f = tmp_path / "sparse.pbr"
    f.write_bytes(sdk_sparse(sp.csr_matrix(a), np.arange(20).astype(np.float32)))
    got = records(f, 9)
    assert np.array_equal(got, a.astype(np.float32))


def write_csv(path, a):
    path.write_bytes(csv_bytes(a))  # %.9g: round-trips float32 exactly


def test_convert_csv_dense_byte_identical(tmp_path, run):
    a = data(np.float32, rows=50, cols=7)
    write_csv(tmp_path / "x.csv", a)
    run("convert", "--input", tmp_path / "x.csv", "--output", tmp_path / "x.pbr")
    assert (tmp_path / "x.pbr").read_bytes() == sdk_dense(a)


def test_convert_csv_with_label_byte_identical(tmp_path, run):
    a = data(np.float32, rows=50, cols=7)
    write_csv(tmp_path / "x.csv", a)
    run("convert", "--input", tmp_path / "x.csv", "--output", tmp_path / "x.pbr",
        "--label-size", 1, "--feature-dim", 6)
    assert (tmp_path / "x.pbr").read_bytes() == sdk_dense(a[:, 1:], a[:, 0])


def test_convert_csv_sparse_byte_identical(tmp_path, run):
    a = data(np.float32, rows=40, cols=8)
    a[np.random.default_rng(2).random(a.shape) < 0.6] = 0
    a[5] = 0
    write_csv(tmp_path / "x.csv", a)
    run("convert", "--input", tmp_path / "x.csv", "--output", tmp_path / "x.pbr", "--sparse")
    assert (tmp_path / "x.pbr").read_bytes() == sdk_sparse(sp.csr_matrix(a))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_convert_npy_byte_identical(tmp_path, dtype, run):
    a = data(dtype, rows=30, cols=4)
    np.save(tmp_path / "x.npy", a)
    # the SDK refuses int32 arrays; smalgo writes them as it writes int64 ones
    s = a.astype(np.int64) if dtype == np.int32 else a
    run("convert", "--input", tmp_path / "x.npy", "--output", tmp_path / "x.pbr")
    assert (tmp_path / "x.pbr").read_bytes() == sdk_dense(s)
    run("convert", "--input", tmp_path / "x.npy", "--output", tmp_path / "y.pbr",
        "--label-size", 1)
    assert (tmp_path / "y.pbr").read_bytes() == sdk_dense(s[:, 1:], s[:, 0])


def test_convert_shards_like_record_set(tmp_path, run):
    a = data(np.float32, rows=23, cols=3)
    write_csv(tmp_path / "x.csv", a)
    run("convert", "--input", tmp_path / "x.csv", "--output", tmp_path / "out", "--shards", 4)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["matrix_0.pbr", "matrix_1.pbr", "matrix_2.pbr", "matrix_3.pbr"]
    size = 23 // 4  # the SDK's _build_shards: the last shard takes the rest
    bounds = [0, size, 2 * size, 3 * size, 23]
    for i in range(4):
        got = (tmp_path / "out" / files[i]).read_bytes()
        assert got == sdk_dense(a[bounds[i]:bounds[i + 1]])


def test_convert_then_records_roundtrip(tmp_path, run, records):
    a = data(np.float32, rows=64, cols=16)
    write_csv(tmp_path / "x.csv", a)
    run("convert", "--input", tmp_path / "x.csv", "--output", tmp_path / "x.pbr")
    assert np.array_equal(records(tmp_path / "x.pbr", 16), a)
    assert np.array_equal(records(tmp_path / "x.csv", 16, "--content-type", "text/csv"), a)


def test_malformed_inputs_fail_with_location(tmp_path, run):
    a = data(np.float32, rows=4, cols=3)
    good = sdk_dense(a)
    (tmp_path / "bad.pbr").write_bytes(good[:-6])
    p = run("records", "--feature-dim", 3, tmp_path / "bad.pbr", check=False)
    assert p.returncode == 1
    assert "bad.pbr: record 3 at byte" in p.stderr and "truncated" in p.stderr
    p = run("records", "--feature-dim", 4, tmp_path / "bad.pbr", check=False)
    assert p.returncode == 1
    assert "record 0 at byte 0: 3 features, expected 4 (feature_dim)" in p.stderr
    (tmp_path / "bad.csv").write_text("1,2,3\n4,,6\n")
    p = run("convert", "--input", tmp_path / "bad.csv", "--output", tmp_path / "o.pbr",
            check=False)
    assert p.returncode == 1
    assert "bad.csv: line 2, column 2: empty field" in p.stderr
