"""`smalgo records` on files and folders: rows and --stats, feature-count
inference, gzip, channel order, and errors that name the file.

Data is written by the real SageMaker SDK (write_numpy_to_dense_tensor) or as
CSV; expected values come from numpy (float32 printed with %.9g round-trips
exactly, so rows compare exactly; means compare to 1e-6 relative, the float64
accumulation error on a few hundred values being far below that).
"""
import gzip

import numpy as np
import pytest

from smgkit.payloads import csv_bytes, sdk_dense as sdk_bytes


@pytest.fixture
def records(run_smalgo):
    """Run `smalgo records ARGS...`; returns the CompletedProcess."""
    return lambda *args: run_smalgo("records", *args, timeout=60)


def parse_rows(out):
    return np.array([[float(v) for v in line.split(",")] for line in out.splitlines()],
                    dtype=np.float32)


def test_protobuf_rows_inferred_dim_and_gzip(tmp_path, records):
    x = np.random.default_rng(1).standard_normal((50, 7)).astype(np.float32)
    (tmp_path / "x.pbr").write_bytes(sdk_bytes(x, np.arange(50, dtype=np.float32)))
    (tmp_path / "x.pbr.gz").write_bytes(gzip.compress(sdk_bytes(x)))
    for name in ("x.pbr", "x.pbr.gz"):
        r = records(tmp_path / name)
        assert r.returncode == 0, r.stderr
        np.testing.assert_array_equal(parse_rows(r.stdout), x)


def test_stats_over_a_folder_in_channel_order(tmp_path, records):
    x = np.random.default_rng(2).uniform(-5, 5, (300, 3)).astype(np.float32)
    d = tmp_path / "train"
    (d / "sub").mkdir(parents=True)
    (d / "b.csv").write_bytes(csv_bytes(x[:100]))
    (d / "sub" / "c.csv").write_bytes(csv_bytes(x[100:]))
    (d / ".ignored.csv").write_text("1000,1000,1000\n")
    r = records(d, "--content-type", "text/csv", "--stats")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "records: 300" and lines[1] == "features: 3"
    got = np.array([[float(v) for v in l.split(",")[1:]] for l in lines[3:]])
    ref = x.astype(np.float64)
    np.testing.assert_allclose(got[:, 0], ref.mean(axis=0), rtol=1e-6, atol=1e-9)
    # min and max are float32 values printed with %.9g: exact once read back as float32
    np.testing.assert_array_equal(got[:, 1].astype(np.float32), x.min(axis=0))
    np.testing.assert_array_equal(got[:, 2].astype(np.float32), x.max(axis=0))
    rows = records(d, "--content-type", "text/csv")
    np.testing.assert_array_equal(parse_rows(rows.stdout), x)


def test_csv_label_size_and_explicit_dim(tmp_path, records):
    (tmp_path / "l.csv").write_text("9,1,2\n8,3,4\n")
    r = records(tmp_path / "l.csv", "--content-type", "text/csv;label_size=1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "1,2\n3,4\n"
    r = records(tmp_path / "l.csv", "--content-type", "text/csv", "--label-size", "1",
                "--feature-dim", "2")
    assert r.stdout == "1,2\n3,4\n"


def test_errors_name_the_file(tmp_path, records):
    (tmp_path / "bad.csv").write_text("1,2\n3\n")
    r = records(tmp_path / "bad.csv", "--content-type", "text/csv")
    assert r.returncode == 1
    assert "bad.csv" in r.stderr and "line 2" in r.stderr
    (tmp_path / "corrupt.gz").write_bytes(gzip.compress(b"1,2\n" * 1000)[:-30] + b"\xff" * 30)
    r = records(tmp_path / "corrupt.gz", "--content-type", "text/csv", "--feature-dim", "2")
    assert r.returncode == 1 and "corrupt.gz" in r.stderr and "gzip" in r.stderr
    r = records(tmp_path / "missing", "--timeout", "0")
    assert r.returncode == 1 and "missing" in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = records(empty)
    assert r.returncode == 1 and "no files" in r.stderr
    assert records("--bogus").returncode == 2
