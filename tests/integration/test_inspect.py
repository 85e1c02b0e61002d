"""`smalgo inspect` on real SageMaker model files and on broken ones.

For every NDArray file with a JSON sidecar under
$SMALGO_SHARED_DIR/fixtures/sagemaker/artifacts, `smalgo inspect --all` must
print JSON whose names, shapes and values equal the sidecar's (float32 values
compared after rounding both to float32, NaN as null), with the PCA or k-means
note where it applies. A truncated or garbage file must exit 1 with a message
on stderr and nothing on stdout. Skipped when the fixtures are absent.
"""
import json
import pathlib
import struct

import numpy as np
import pytest
from conftest import FIXTURES_DIR
from smgkit import ndarray

ARTIFACTS = FIXTURES_DIR / "artifacts"  # needed while collecting: one test per model file


def model_files():
    if not ARTIFACTS.is_dir():
        return []
    return sorted(p for p in ARTIFACTS.rglob("*")
                  if p.is_file() and pathlib.Path(str(p) + ".json").is_file())


def f32(x):
    return None if x is None else struct.unpack("<f", struct.pack("<f", x))[0]


def flat(v):
    if isinstance(v, list):
        for e in v:
            yield from flat(e)
    else:
        yield v


@pytest.fixture
def inspect(run_smalgo):
    """Run `smalgo inspect ARGS...`; returns the CompletedProcess."""
    return lambda *args: run_smalgo("inspect", *args, timeout=60)


@pytest.mark.skipif(not ARTIFACTS.is_dir(), reason="SageMaker fixtures absent")
@pytest.mark.parametrize("path", model_files(), ids=lambda p: str(p.relative_to(ARTIFACTS)))
def test_inspect_matches_sidecar(path, inspect):
    side = json.loads(pathlib.Path(str(path) + ".json").read_text())
    r = inspect(path, "--all")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["format"] == ("dict" if side["names"] else "list")
    assert len(out["arrays"]) == side["num_arrays"]
    for got, want in zip(out["arrays"], side["arrays"]):
        assert got["name"] == want["name"]
        assert got["shape"] == want["shape"]
        assert got["dtype"] == want["dtype"]
        assert [f32(x) for x in flat(got["values"])] == [f32(x) for x in flat(want["values"])]
        assert got.get("non_finite", []) == want["non_finite_flat_indices"]
    names = [a["name"] for a in out["arrays"]]
    if {"s", "v"} <= set(names):
        note = out["note"]
        assert note["model"] == "pca"
        assert note["projection"] == "projection = (x - mean) · v"
        s = [x for x in side["arrays"][names.index("s")]["values"] if x is not None]
        word = "ascending" if s == sorted(s) else "descending"
        assert word in note["component_order"]
    elif side["names"] == [] and len(names) == 1:
        assert out["note"]["model"] == "kmeans"
        assert out["note"]["k"] == side["arrays"][0]["shape"][0]


@pytest.mark.skipif(not ARTIFACTS.is_dir(), reason="SageMaker fixtures absent")
def test_inspect_values_limit(inspect):
    r = inspect(ARTIFACTS / "renejra-pca" / "model_algo-1", "--values", "3")
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)["arrays"][1]
    assert v["name"] == "v" and v["values_truncated"] is True and len(v["values_head"]) == 3


def test_inspect_errors(tmp_path, inspect):
    good = ndarray.encode([np.array([[1.5, -2]])])  # one unnamed 1 x 2 float32 array
    ok = tmp_path / "ok"
    ok.write_bytes(good)
    r = inspect(ok)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["arrays"][0]["values"] == [[1.5, -2]]
    for name, data in [("truncated", good[:-3]), ("garbage", b"not a model file at all"),
                       ("empty", b"")]:
        p = tmp_path / name
        p.write_bytes(data)
        r = inspect(p)
        assert r.returncode == 1 and r.stdout == ""
        assert str(p) in r.stderr
    r = inspect(tmp_path / "missing")
    assert r.returncode == 1 and "cannot open" in r.stderr
    assert inspect().returncode == 1
    assert inspect(ok, "--values").returncode == 1
