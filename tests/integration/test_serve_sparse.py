"""`smalgo serve` answering sparse recordIO-protobuf requests without densifying them.

Models are trained by `smalgo train` on sparse data written by the SageMaker
SDK (write_spmatrix_to_sparse_tensor), served, and sent sparse requests written
the same way (the SDK's RecordSerializer writes dense arrays only; it is used
for the dense request the sparse answer is compared with).

- k-means: closest_cluster equals the float64 argmin of the densified rows
  (or, on a near-tie, the cluster found is as near within 1e-6), and
  distance_to_cluster is within 1e-5 relative of numpy float64; the dense
  request of the same rows (RecordSerializer) gives the same clusters and
  distances within 1e-5 relative. Also through Accept recordIO, read back by
  the SDK's RecordDeserializer.
- PCA (subtract_mean true and false): projections within 1e-5 of numpy float64
  (x - mean) . v (x . v without a mean), scaled by the row's |x - mean|, and of
  the dense request's.
- d = 100,000: a sparse request whose dense form (rows x d x 4 bytes, 400 MB)
  is 200 times the decoded-rows cap (2 x SAGEMAKER_MAX_PAYLOAD_IN_MB = 2 MiB)
  is answered, correctly, while the server's peak RSS (VmHWM) grows by less
  than 32 MB; so are half the rows as documented sparse JSON
  ({"instances": [{"data": {"features": {"keys", "shape", "values"}}}]}).
- k-means requests in that JSON form, and as JSON lines, give the recordIO answers.
- Extreme scales follow the dense rules: rows at 1e-25 and 1e25 (float32
  squares under/overflow) get the float64 answers, as the dense request does;
  a distance or projection beyond float32 is a 400 naming the row for both.
- Bad sparse requests get 400 naming the record and the entry: a duplicate
  key (an unsummed scipy matrix), a key outside the shape, a shape other than
  the model's feature_dim; the server keeps serving.
"""
import io
import json
import os
import subprocess

import numpy as np
import pytest
from smgkit.mlroot import RECORDIO, setup_job
from smgkit.ndarray import read as read_ndarray
from smgkit.payloads import sdk_sparse
from test_serve import Server

sp = pytest.importorskip("scipy.sparse")
os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")


def sparse_rows(n, d, density, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    m = sp.random(n, d, density=density, format="csr", dtype=np.float32, random_state=rng)
    m.data = ((m.data * 4 - 2) * scale).astype(np.float32)
    return m


def train(smalgo_bin, ml_root, algorithm, hp, x):
    setup_job(ml_root, hp, RECORDIO, "File")
    (ml_root.channel_dir("train") / "part-00.pbr").write_bytes(sdk_sparse(x))
    proc = subprocess.run([str(smalgo_bin), "train", "--ml-root", str(ml_root.root),
                           "--algorithm", algorithm], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    arrays, names = read_ndarray(ml_root.model / "model_algo-1")
    return dict(zip(names, arrays)) if names else arrays[0]


@pytest.fixture
def servers(smalgo_bin):
    started = []

    def start(model_dir, env=None):
        s = Server(smalgo_bin, model_dir, env=env)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.stop()


def dense_record_body(x):
    from sagemaker.serializers import RecordSerializer
    return RecordSerializer().serialize(np.asarray(x, dtype=np.float32)).read()


def post_json(server, body, content_type):
    r = server.post(body, content_type, "application/json")
    assert r.status_code == 200, r.text
    return r.json()


def kmeans_reference(x, centers):
    """float64 squared distances of every dense row to every center."""
    x64, c64 = x.astype(np.float64), centers.astype(np.float64)
    return ((x64[:, None, :] - c64[None, :, :]) ** 2).sum(axis=2)


def check_kmeans(preds, x, centers):
    d2 = kmeans_reference(x, centers)
    label = np.array([p["closest_cluster"] for p in preds], dtype=np.int64)
    dist = np.array([p["distance_to_cluster"] for p in preds])
    best = d2.min(axis=1)
    # The chosen cluster is the nearest (a near-tie may pick either of two equally near).
    chosen = d2[np.arange(len(label)), label]
    assert np.all(chosen <= best * (1 + 1e-6) + 1e-30), np.nonzero(chosen > best * (1 + 1e-6))
    assert np.mean(label == d2.argmin(axis=1)) > 0.99
    np.testing.assert_allclose(dist, np.sqrt(best), rtol=1e-5, atol=0)
    return label, dist


def test_kmeans_sparse_request(ml_root, servers, smalgo_bin):
    d = 500
    train_x = sparse_rows(3000, d, 0.02, seed=1)
    centers = train(smalgo_bin, ml_root, "kmeans", {"k": 6, "feature_dim": d,
                                                    "mini_batch_size": 500}, train_x)
    q = sparse_rows(400, d, 0.02, seed=2)
    q = sp.vstack([q, sp.csr_matrix((1, d), dtype=np.float32)], format="csr")  # an empty row
    server = servers(ml_root.model)
    preds = post_json(server, sdk_sparse(q), RECORDIO)["predictions"]
    assert len(preds) == q.shape[0]
    label, dist = check_kmeans(preds, q.toarray(), centers)
    dense = post_json(server, dense_record_body(q.toarray()), RECORDIO)["predictions"]
    np.testing.assert_array_equal(label, [p["closest_cluster"] for p in dense])
    np.testing.assert_allclose(dist, [p["distance_to_cluster"] for p in dense], rtol=1e-5)
    # The documented sparse JSON form, and JSON lines of it: the same CSR scoring.
    js = post_json(server, sparse_json(q).encode(), "application/json")["predictions"]
    np.testing.assert_array_equal(label, [p["closest_cluster"] for p in js])
    np.testing.assert_allclose(dist, [p["distance_to_cluster"] for p in js], rtol=1e-6)
    jl = "\n".join(json.dumps(i) for i in json.loads(sparse_json(q))["instances"])
    r = server.post(jl.encode(), "application/jsonlines", "application/jsonlines")
    assert r.status_code == 200, r.text
    lines = [json.loads(ln) for ln in r.text.splitlines() if ln.strip()]
    np.testing.assert_array_equal(label, [p["closest_cluster"] for p in lines])

    from sagemaker.deserializers import RecordDeserializer
    r = server.post(sdk_sparse(q), RECORDIO, RECORDIO)
    assert r.status_code == 200, r.text
    records = RecordDeserializer().deserialize(io.BytesIO(r.content), r.headers["Content-Type"])
    assert [int(rec.label["closest_cluster"].float32_tensor.values[0]) for rec in records] == \
        label.tolist()
    np.testing.assert_allclose([rec.label["distance_to_cluster"].float32_tensor.values[0]
                                for rec in records], dist, rtol=1e-7)


@pytest.mark.parametrize("subtract_mean", [True, False])
def test_pca_sparse_request(ml_root, servers, smalgo_bin, subtract_mean):
    d = 400
    train_x = sparse_rows(2000, d, 0.03, seed=3)
    model = train(smalgo_bin, ml_root, "pca",
                  {"feature_dim": d, "num_components": 5, "mini_batch_size": 500,
                   "algorithm_mode": "randomized",
                   "subtract_mean": str(subtract_mean).lower()}, train_x)
    assert ("mean" in model) == subtract_mean  # what our PCA (and SageMaker's) write
    q = sparse_rows(300, d, 0.03, seed=4)
    server = servers(ml_root.model)
    got = np.array([p["projection"] for p in
                    post_json(server, sdk_sparse(q), RECORDIO)["projections"]])
    x64 = q.toarray().astype(np.float64)
    if subtract_mean:
        x64 = x64 - model["mean"].astype(np.float64).reshape(1, d)
    want = x64 @ model["v"].astype(np.float64)
    # 1e-5 of the row's |x - mean| (|v| columns are unit): float32 output rounding is ~6e-8 of it.
    scale = np.linalg.norm(x64, axis=1, keepdims=True)
    assert np.all(np.abs(got - want) <= 1e-5 * scale), np.max(np.abs(got - want) / scale)
    dense = np.array([p["projection"] for p in
                      post_json(server, dense_record_body(q.toarray()), RECORDIO)["projections"]])
    assert np.all(np.abs(got - dense) <= 1e-5 * scale)


def vm_hwm(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def sparse_json(m):
    """m's rows in the documented sparse JSON form."""
    inst = []
    for i in range(m.shape[0]):
        row = m.getrow(i)
        inst.append({"data": {"features": {"keys": row.indices.tolist(), "shape": [m.shape[1]],
                                           "values": row.data.tolist()}}})
    return json.dumps({"instances": inst})


def test_d100k_request_past_the_dense_cap(ml_root, servers, smalgo_bin):
    d, rows = 100_000, 2000
    train_x = sparse_rows(1500, d, 0.0002, seed=5)
    centers = train(smalgo_bin, ml_root, "kmeans", {"k": 4, "feature_dim": d,
                                                    "mini_batch_size": 500}, train_x)
    server = servers(ml_root.model, env={"SAGEMAKER_MAX_PAYLOAD_IN_MB": "1"})
    q = sparse_rows(rows, d, 0.0002, seed=6)
    body = sdk_sparse(q)
    cap = 2 * (1 << 20)  # decoded rows: 2 x the payload limit
    assert len(body) < (1 << 20)
    assert rows * d * 4 > 100 * cap  # the dense form: 800 MB
    start = vm_hwm(server.proc.pid)
    preds = post_json(server, body, RECORDIO)["predictions"]
    assert len(preds) == rows
    peak = vm_hwm(server.proc.pid)
    print(f"d=100k, {rows} rows, {q.nnz} stored values, body {len(body)} bytes: "
          f"server VmHWM {start / 1e6:.1f} MB at start, {peak / 1e6:.1f} MB after")
    # Measured 16.7 MB at start, 19.1 MB after; the dense rows alone would be 800 MB.
    assert peak - start < 32e6 and peak < 100e6, (start, peak)
    # The reference on the densified rows, 100 rows (80 MB of float64) at a time.
    d2 = np.concatenate([kmeans_reference(q[i:i + 100].toarray(), centers)
                         for i in range(0, rows, 100)])
    label = np.array([p["closest_cluster"] for p in preds], dtype=np.int64)
    dist = np.array([p["distance_to_cluster"] for p in preds])
    best = d2.min(axis=1)
    assert np.all(d2[np.arange(rows), label] <= best * (1 + 1e-6) + 1e-30)
    np.testing.assert_allclose(dist, np.sqrt(best), rtol=1e-5, atol=0)
    # Half the rows (within the payload limit) as documented sparse JSON: CSR rows too.
    js = sparse_json(q[:1000]).encode()
    assert len(js) < (1 << 20)
    again = post_json(server, js, "application/json")["predictions"]
    assert [p["closest_cluster"] for p in again] == label[:1000].tolist()
    np.testing.assert_allclose([p["distance_to_cluster"] for p in again], dist[:1000], rtol=1e-6)
    assert vm_hwm(server.proc.pid) - start < 32e6


def bad(server, body, *needles):
    r = server.post(body, RECORDIO, "application/json")
    assert r.status_code == 400, r.text
    msg = r.json()["error"]
    for n in needles:
        assert n in msg, msg


def test_bad_sparse_requests_get_400(ml_root, servers, smalgo_bin):
    d = 8
    train(smalgo_bin, ml_root, "kmeans", {"k": 2, "feature_dim": d, "mini_batch_size": 50},
          sparse_rows(200, d, 0.5, seed=7))
    server = servers(ml_root.model)
    good = sparse_rows(3, d, 0.5, seed=8)
    # scipy keeps duplicate entries of an unsummed CSR; the SDK writes them as is.
    dup = sp.csr_matrix((np.array([1, 2, 3], np.float32), np.array([4, 1, 4]),
                         np.array([0, 3])), shape=(1, d))
    dup.has_canonical_format = False
    bad(server, sdk_sparse(good) + sdk_sparse(dup), "record 3 at byte",
        "sparse key 4 appears twice (entries 0 and 2)")
    # A key past the shape: a 9-column matrix written, its shape field made 8.
    wide = sp.csr_matrix((np.array([1, 2], np.float32), np.array([2, 8]), np.array([0, 2])),
                         shape=(1, 9))
    body = sdk_sparse(wide)
    shape_field = bytes([0x1a, 0x01, 0x09])
    assert body.count(shape_field) == 1
    bad(server, body.replace(shape_field, bytes([0x1a, 0x01, 0x08])), "record 0 at byte 0",
        "sparse key 8 (entry 1) outside shape [8]")
    bad(server, sdk_sparse(good) + sdk_sparse(sparse_rows(1, d + 1, 0.5, seed=9)),
        "record 3 at byte", "9 features, expected 8 (feature_dim)")
    preds = post_json(server, sdk_sparse(good), RECORDIO)["predictions"]
    assert len(preds) == 3


# ---- extreme scales: the dense rules (double where float32 would overflow, 400 past float32) ----

def write_model(folder, arrays, names=()):
    from smgkit import ndarray
    folder.mkdir(parents=True, exist_ok=True)
    ndarray.write(folder / "model_algo-1", [np.asarray(a, np.float32) for a in arrays], names)
    return folder


def csr(rows, d):
    """A CSR matrix from {column: value} dicts, float32."""
    data, idx, ptr = [], [], [0]
    for r in rows:
        for k in sorted(r):
            idx.append(k)
            data.append(r[k])
        ptr.append(len(idx))
    return sp.csr_matrix((np.array(data, np.float32), np.array(idx), np.array(ptr)),
                         shape=(len(rows), d))


def test_extreme_scales_follow_the_dense_rules(tmp_path, servers):
    km = servers(write_model(tmp_path / "km", [[[0, 0, 0], [1, 1, 1]]]))
    # Beyond float32: a 400 naming the row, as for the dense request of the same rows.
    rows = csr([{0: 1, 1: 2}, {0: 3.4e38, 2: -3.4e38}], 3)
    for body in (sdk_sparse(rows), dense_record_body(rows.toarray())):
        r = km.post(body, RECORDIO, "application/json")
        assert r.status_code == 400, r.text
        assert "row 2 of the request: distance_to_cluster overflows float32" in r.json()["error"]
    # Squares past float32 (1e25) or below its normal range (1e-25): exact, in double.
    for scale in (1e-25, 1e25):
        rows = csr([{0: 1.5 * scale}, {1: -2 * scale, 2: 0.5 * scale}, {0: 3.4e38}], 3)
        sparse_out = post_json(km, sdk_sparse(rows), RECORDIO)["predictions"]
        dense_out = post_json(km, dense_record_body(rows.toarray()), RECORDIO)["predictions"]
        x = rows.toarray().astype(np.float64)
        c = np.array([[0, 0, 0], [1, 1, 1]], np.float64)
        want = np.sqrt(((x[:, None, :] - c[None]) ** 2).sum(axis=2))
        for got in (sparse_out, dense_out):
            assert [p["closest_cluster"] for p in got] == want.argmin(axis=1).tolist()
            np.testing.assert_allclose([p["distance_to_cluster"] for p in got], want.min(axis=1),
                                       rtol=1e-6)
    pca = servers(write_model(tmp_path / "pca", [np.ones(2), [[1, 1], [1, -1]]], ["s", "v"]))
    rows = csr([{0: 1, 1: 2}, {1: 1}, {0: 3.4e38, 1: 3.4e38}], 2)
    for body in (sdk_sparse(rows), dense_record_body(rows.toarray())):
        r = pca.post(body, RECORDIO, "application/json")
        assert r.status_code == 400, r.text
        assert "row 3 of the request: projection overflows float32" in r.json()["error"]
