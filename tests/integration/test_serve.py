"""`smalgo serve` against SageMaker's own models and recorded endpoint outputs.

Each real model under fixtures/sagemaker/artifacts that has verified test cases
is copied into a temporary model dir and served on a free loopback port. The
test-case inputs are sent over HTTP in every request format (CSV with and
without label_size, JSON dense / data.values / sparse / bare rows, JSON lines
dense and sparse, recordIO-protobuf float32 and float64 written by the SDK's
RecordSerializer) and read back in every response format (JSON, JSON lines,
CSV for k-means, recordIO through the SDK's RecordDeserializer). Expected:
k-means labels exactly and distances within 1e-6 relative (exact float32
inputs; the fixture README's tolerance), every dense format bit-identical, the
sparse ones (scored as CSR, in double) with the same clusters and distances
within 1e-6 of float64, cluster counts over all 3218 census rows exactly; PCA projections within 1e-5 absolute on renejra.

Bad requests must get their 4xx and a one-line JSON error, and the server must
keep serving. A missing or corrupt model must end `serve` with a non-zero
status and a clear message before it listens.

The binary and the fixtures folder come from conftest (SMALGO_BIN,
SMALGO_SHARED_DIR); skipped when the fixtures are
absent.
"""
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest
import requests
from conftest import FIXTURES_DIR
from smgkit.mlroot import RECORDIO as RIO
from smgkit.net import free_port

FIX = FIXTURES_DIR  # needed while collecting: the k-means cases are parametrized by file

needs_fixtures = pytest.mark.skipif(not FIX.is_dir(), reason=f"SageMaker fixtures absent at {FIX}")

KMEANS_CASES = sorted(p.name for p in (FIX / "testcases").glob("kmeans_*.json")
                      if "MISMATCH" not in p.name) if FIX.is_dir() else []

# ---- server handling ------------------------------------------------------------

class Server:
    def __init__(self, smalgo_bin, model_dir, env=None, port=None, extra_args=()):
        self.port = port or free_port()
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [str(smalgo_bin), "serve", "--model-dir", str(model_dir), "--bind", "127.0.0.1",
             "--port", str(self.port), "--threads", "2", *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full_env)
        self.url = f"http://127.0.0.1:{self.port}"
        self.session = requests.Session()
        deadline = time.time() + 10
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited early: {self.proc.stdout.read().decode()}")
            try:
                if self.session.get(self.url + "/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.time() > deadline:
                raise AssertionError("serve did not answer /ping within 10 s")
            time.sleep(0.05)

    def post(self, body, content_type, accept=None):
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        return self.session.post(self.url + "/invocations", data=body, headers=headers,
                                 timeout=60)

    def stop(self):
        self.session.close()
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=20)
        assert self.proc.returncode == 0, out.decode()
        return out.decode()


@pytest.fixture
def serve(tmp_path, smalgo_bin):
    servers = []

    def start(model_file, env=None, **kw):
        d = tmp_path / f"model{len(servers)}"
        d.mkdir()
        shutil.copy(model_file, d / "model_algo-1")
        s = Server(smalgo_bin, d, env=env, **kw)
        servers.append(s)
        return s

    yield start
    for s in servers:
        if s.proc.poll() is None:
            s.stop()


# ---- request encoders --------------------------------------------------------------

def fmt(v):
    return repr(float(v))  # shortest text that parses back to the same float32


def csv_body(x, label_size=0):
    lines = []
    for row in x:
        lab = ["7"] * label_size
        lines.append(",".join(lab + [fmt(v) for v in row]))
    return "\n".join(lines) + "\n"


def sparse(row):
    keys = [int(i) for i in np.nonzero(row)[0]]
    return {"keys": keys, "shape": [len(row)], "values": [float(row[i]) for i in keys]}


def request_bodies(x):
    """(name, content_type, body) for every supported request encoding of x."""
    from sagemaker.serializers import JSONSerializer, RecordSerializer

    rec = RecordSerializer()
    js = JSONSerializer()
    rows = [[float(v) for v in r] for r in x]
    yield "csv", "text/csv", csv_body(x)
    yield "csv_label1", "text/csv; label_size=1", csv_body(x, 1)
    yield "json_features", "application/json", json.dumps(
        {"instances": [{"features": r} for r in rows]})
    yield "json_data_values", "application/json", json.dumps(
        {"instances": [{"data": {"features": {"values": r}}} for r in rows]})
    yield "json_sparse", "application/json", json.dumps(
        {"instances": [{"data": {"features": sparse(r)}} for r in x]})
    yield "sdk_json_numpy", js.CONTENT_TYPE, js.serialize(x)
    yield "jsonlines", "application/jsonlines", "\n".join(
        json.dumps({"features": r}) for r in rows)
    yield "jsonlines_sparse", "application/jsonlines", "\n".join(
        json.dumps({"data": {"features": sparse(r)}}) for r in x)
    yield "sdk_recordio_f32", rec.CONTENT_TYPE, rec.serialize(x.astype(np.float32)).read()
    yield "sdk_recordio_f64", rec.CONTENT_TYPE, rec.serialize(x.astype(np.float64)).read()


# ---- response decoders -------------------------------------------------------------

def decode_response(resp, accept, fields):
    """Per-row dict {field: np.array} from a response in any format."""
    assert resp.status_code == 200, resp.text
    ctype = resp.headers["Content-Type"]
    if accept is None or accept == "application/json":
        assert ctype == "application/json"
        key = "predictions" if "closest_cluster" in fields else "projections"
        rows = resp.json()[key]
    elif accept == "application/jsonlines":
        assert ctype == "application/jsonlines"
        rows = [json.loads(line) for line in resp.text.splitlines() if line]
    elif accept == "text/csv":
        assert ctype == "text/csv"
        rows = [dict(zip(fields, map(float, line.split(","))))
                for line in resp.text.splitlines() if line]
    else:
        from sagemaker.deserializers import RecordDeserializer
        assert ctype == RIO
        records = RecordDeserializer().deserialize(io.BytesIO(resp.content), ctype)
        rows = []
        for r in records:
            assert len(r.features) == 0
            row = {}
            for f in fields:
                vals = list(r.label[f].float32_tensor.values)
                row[f] = vals[0] if f != "projection" else vals
            rows.append(row)
    return {f: np.array([r[f] for r in rows], dtype=np.float64) for f in fields}


# ---- k-means -------------------------------------------------------------------------

def kmeans_inputs(case):
    """Rows and the checks on them: (x, [(slice, kind, expected)])."""
    blocks, checks, n = [], [], 0
    for c in case["cases"]:
        if c["kind"] in ("single_row_exact", "single_row_6dp"):
            x = np.array([c.get("input", c.get("input_printed_6dp"))], dtype=np.float32)
            exp = c["expected"]
            kind = "exact" if c["kind"] == "single_row_exact" else "6dp"
            checks.append((slice(n, n + 1), kind, (exp["closest_cluster"],
                                                   exp["distance_to_cluster"])))
        elif c["kind"] == "printed_label_table":
            x = np.array([r["input_printed_6dp"] for r in c["rows"]], dtype=np.float32)
            labels = [r["expected_closest_cluster"] for r in c["rows"]]
            checks.append((slice(n, n + len(x)), "labels", labels))
        elif c["kind"] == "cluster_counts_all_rows":
            with open(FIX / c["inputs_file"]) as f:
                table = list(csv.DictReader(f))
            x = np.array([[float(r[col]) for col in c["input_columns"]] for r in table],
                         dtype=np.float32)
            counts = {int(k): v for k, v in c["expected_counts"].items()}
            checks.append((slice(n, n + len(x)), "counts", counts))
        else:
            continue
        blocks.append(x)
        n += len(x)
    return np.concatenate(blocks), checks


def check_kmeans(out, checks, label):
    cl, dist = out["closest_cluster"], out["distance_to_cluster"]
    for sl, kind, exp in checks:
        if kind in ("exact", "6dp"):
            assert cl[sl][0] == exp[0], f"{label}: cluster {cl[sl][0]} != {exp[0]}"
            if kind == "exact":  # exact float32 input: 1e-6 relative (fixtures README)
                assert abs(dist[sl][0] - exp[1]) <= 1e-6 * exp[1], (label, dist[sl][0], exp[1])
            else:  # 6-decimal input: the fixture itself agrees to 2.2e-7 only
                assert abs(dist[sl][0] - exp[1]) <= 1e-6, (label, dist[sl][0], exp[1])
        elif kind == "labels":
            assert list(cl[sl].astype(int)) == exp, label
        else:
            got = dict(zip(*np.unique(cl[sl].astype(int), return_counts=True)))
            assert {int(k): int(v) for k, v in got.items()} == exp, label
    assert np.all(cl == np.floor(cl)) and np.all(dist >= 0)


def exact_distances(x, case):
    """float64 distance of each row of x to its nearest centre of case's model."""
    from smgkit.ndarray import read
    c = read(FIX / case["model_file"])[0][0].astype(np.float64)
    x64 = x.astype(np.float64)
    return np.sqrt(np.min([((x64 - cj) ** 2).sum(axis=1) for cj in c], axis=0))


@needs_fixtures
@pytest.mark.parametrize("case_file", KMEANS_CASES)
def test_kmeans_fixture_every_format(serve, case_file):
    case = json.loads((FIX / "testcases" / case_file).read_text())
    if not case.get("model_file"):
        pytest.skip(f"{case_file}: model transcribed from a print, no model file")
    x, checks = kmeans_inputs(case)
    server = serve(FIX / case["model_file"])
    fields = ("closest_cluster", "distance_to_cluster")
    reference = None
    for name, ctype, body in request_bodies(x):
        for accept in (None, "application/json", "application/jsonlines", "text/csv", RIO):
            out = decode_response(server.post(body, ctype, accept), accept, fields)
            assert len(out["closest_cluster"]) == len(x), (name, accept)
            check_kmeans(out, checks, f"{case_file} {name} -> {accept}")
            if reference is None:
                reference = out
            elif name.endswith("_sparse"):
                # Sparse bodies are scored from their stored values in double
                # (CSR), the dense ones by the float32 GEMM, SageMaker-like, whose
                # own error reaches 1.6e-5 of the distance on a few census rows:
                # clusters equal, distances within 1e-6 of float64 (float32 output).
                np.testing.assert_array_equal(out["closest_cluster"], reference["closest_cluster"],
                                              err_msg=f"{name} {accept}")
                np.testing.assert_allclose(out["distance_to_cluster"], exact_distances(x, case),
                                           rtol=1e-6, atol=0, err_msg=f"{name} {accept}")
            else:  # every dense format gives the same float32 results
                for f in fields:
                    np.testing.assert_array_equal(out[f], reference[f], err_msg=f"{name} {accept}")
    server.stop()


# ---- PCA -------------------------------------------------------------------------------

def read_renejra(name):
    with open(FIX / "artifacts" / "renejra-pca" / "data" / name) as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float32)


def read_top6(name):
    with open(FIX / "artifacts" / "renejra-pca" / "pca" / name) as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float64)


@needs_fixtures
def test_pca_renejra_every_format(serve):
    row0 = json.loads((FIX / "testcases" / "pca_renejra_test_row0.json").read_text())
    x0 = np.array([row0["input"]], dtype=np.float32)
    want0 = np.array(row0["expected"]["projection"])
    xt, xtr = read_renejra("test_nx.csv"), read_renejra("train_nx.csv")
    wt, wtr = read_top6("test.csv"), read_top6("train.csv")
    x = np.concatenate([x0, xt, xtr])
    server = serve(FIX / "artifacts" / "renejra-pca" / "model_algo-1")
    for name, ctype, body in request_bodies(x):
        for accept in (None, "application/jsonlines", RIO):
            p = decode_response(server.post(body, ctype, accept), accept, ("projection",))
            p = p["projection"]
            assert p.shape == (len(x), 25), (name, accept)
            # 1e-5 absolute: the fixture's suggested tolerance for the real renejra file.
            np.testing.assert_allclose(p[0], want0, atol=1e-5, rtol=0, err_msg=name)
            top6 = p[:, 24:18:-1]  # component_1 = projection[24], ... component_6 = [19]
            np.testing.assert_allclose(top6[1:1 + len(xt)], wt, atol=1e-5, rtol=0, err_msg=name)
            np.testing.assert_allclose(top6[1 + len(xt):], wtr, atol=1e-5, rtol=0, err_msg=name)
    r = server.post(csv_body(x0), "text/csv", "text/csv")
    assert r.status_code == 406 and "k-means" in r.json()["error"]
    server.stop()


# ---- SDK serializers round trip --------------------------------------------------------

@needs_fixtures
def test_sdk_serializers_round_trip(serve):
    from sagemaker.deserializers import JSONDeserializer, RecordDeserializer
    from sagemaker.serializers import JSONSerializer, RecordSerializer

    model = FIX / "artifacts" / "jasonma-kmeans" / "model_algo-1"
    case = json.loads((FIX / "testcases" / "kmeans_census_jasonma.json").read_text())
    single = case["cases"][0]
    x = np.array(single["input"], dtype=np.float32)  # 1-D: the serializers reshape it
    server = serve(model)

    rec_ser, rec_de = RecordSerializer(), RecordDeserializer()
    r = server.post(rec_ser.serialize(x).read(), rec_ser.CONTENT_TYPE, rec_de.ACCEPT[0])
    records = rec_de.deserialize(io.BytesIO(r.content), r.headers["Content-Type"])
    assert len(records) == 1
    lab = records[0].label
    assert lab["closest_cluster"].float32_tensor.values[0] == single["expected"]["closest_cluster"]
    d = lab["distance_to_cluster"].float32_tensor.values[0]
    assert abs(d - single["expected"]["distance_to_cluster"]) <= 1e-6 * d

    js_ser, js_de = JSONSerializer(), JSONDeserializer()
    for payload in (x, {"instances": [{"features": x.tolist()}]}):
        r = server.post(js_ser.serialize(payload), js_ser.CONTENT_TYPE, js_de.ACCEPT[0])
        out = js_de.deserialize(io.BytesIO(r.content), r.headers["Content-Type"])
        pred = out["predictions"][0]
        assert pred["closest_cluster"] == single["expected"]["closest_cluster"]
        assert abs(pred["distance_to_cluster"] - single["expected"]["distance_to_cluster"]) \
            <= 1e-6 * pred["distance_to_cluster"]
    server.stop()


# ---- bad requests -----------------------------------------------------------------------

@needs_fixtures
def test_bad_requests_get_4xx_and_server_keeps_serving(serve):
    server = serve(FIX / "artifacts" / "jasonma-kmeans" / "model_algo-1",
                   env={"SAGEMAKER_MAX_PAYLOAD_IN_MB": "1"})
    good = csv_body(np.zeros((2, 7), dtype=np.float32))
    big = ("0,0,0,0,0,0,0\n" * 80000).encode()  # 1.1 MB > 1 MB
    cases = [
        ("text/csv", "1,2,3\n", None, 400, "3 columns, expected 7"),
        ("text/csv", "1,2,x,4,5,6,7\n", None, 400, "not a number"),
        ("application/json", '{"instances": [{"features": [1, 2]}]}', None, 400,
         "'features' has 2 values, expected 7"),
        ("application/json", '{"instances": [', None, 400, "not valid JSON"),
        ("application/jsonlines", '{"features": [1,2,3,4,5,6,7]}\n{"x": 1}', None, 400,
         "line 2: has neither 'features' nor 'data'"),
        (RIO, b"\x0a\x23\xd7\xce\xff\x00\x00\x00", None, 400, "record 0 at byte 0"),
        ("image/png", good, None, 415, "unsupported Content-Type 'image/png'"),
        ("text/csv", good, "text/html", 406, "unsupported Accept 'text/html'"),
        ("text/csv", "", None, 400, "request body is empty"),
        ("text/csv", big, None, 413, "payload limit"),
    ]
    for ctype, body, accept, status, needle in cases:
        r = server.post(body, ctype, accept)
        assert r.status_code == status, (ctype, body[:40], r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/json"
        assert "\n" not in r.text.rstrip("\n")
        assert needle in r.json()["error"], (needle, r.text)
        assert server.session.get(server.url + "/ping").status_code == 200
    # curl-style: Expect: 100-continue with a too-large Content-Length is refused up front.
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                        "Content-Type: text/csv", "-H", "Expect: 100-continue",
                        "--data-binary", "@-", server.url + "/invocations"],
                       input=big, capture_output=True, timeout=30)
    assert r.stdout == b"413", r.stdout
    r = server.session.get(server.url + "/invocations")
    assert r.status_code == 405 and "POST" in r.json()["error"]
    r = server.session.get(server.url + "/nope")
    assert r.status_code == 404 and "/nope" in r.json()["error"]
    r = server.post(good, "text/csv")
    assert r.status_code == 200 and len(r.json()["predictions"]) == 2
    server.stop()


# ---- configuration -----------------------------------------------------------------------

@needs_fixtures
def test_execution_parameters_and_env(serve):
    model = FIX / "artifacts" / "jasonma-kmeans" / "model_algo-1"
    s = serve(model)
    r = s.session.get(s.url + "/execution-parameters")
    assert r.status_code == 200
    assert r.json() == {"MaxConcurrentTransforms": 2, "BatchStrategy": "MultiRecord",
                        "MaxPayloadInMB": 6}
    s.stop()
    s = serve(model, env={"SAGEMAKER_BATCH_STRATEGY": "single_record",
                          "SAGEMAKER_MAX_PAYLOAD_IN_MB": "20",
                          "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": "3"})
    assert s.session.get(s.url + "/execution-parameters").json() == {
        "MaxConcurrentTransforms": 3, "BatchStrategy": "SingleRecord", "MaxPayloadInMB": 20}
    s.stop()


@needs_fixtures
def test_bind_to_port_env(tmp_path, smalgo_bin):
    shutil.copy(FIX / "artifacts" / "jasonma-kmeans" / "model_algo-1", tmp_path)
    port = free_port()
    env = dict(os.environ, SAGEMAKER_BIND_TO_PORT=str(port))
    proc = subprocess.Popen([str(smalgo_bin), "serve", "--model-dir", str(tmp_path), "--bind",
                             "127.0.0.1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/ping", timeout=1)
                break
            except requests.ConnectionError:
                assert time.time() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert r.status_code == 200 and r.content == b""
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


@pytest.fixture
def run_serve(run_smalgo):
    """Run `smalgo serve` on model_dir to completion (for models it must refuse)."""
    return lambda model_dir, env=None: run_smalgo("serve", "--model-dir", model_dir, "--port",
                                                  free_port(), timeout=20, env=env)


@needs_fixtures
def test_missing_or_corrupt_model_exits_before_listening(tmp_path, run_serve):
    r = run_serve(tmp_path / "absent")
    assert r.returncode != 0 and "cannot be opened" in r.stderr
    r = run_serve(tmp_path)
    assert r.returncode != 0 and "model_algo-1 does not exist" in r.stderr
    data = (FIX / "artifacts" / "jasonma-kmeans" / "model_algo-1").read_bytes()
    (tmp_path / "model_algo-1").write_bytes(data[:len(data) // 2])
    r = run_serve(tmp_path)
    assert r.returncode != 0 and "model_algo-1" in r.stderr
    # A readable NDArray file that is neither model kind: k-means' state_* dict.
    state = next((FIX / "artifacts" / "jasonma-kmeans").glob("state_*[!n]"))
    shutil.copy(state, tmp_path / "model_algo-1")
    r = run_serve(tmp_path)
    assert r.returncode != 0 and "neither a PCA model" in r.stderr
    shutil.copy(FIX / "artifacts" / "jasonma-kmeans" / "model_algo-1", tmp_path)
    r = run_serve(tmp_path, env={"SAGEMAKER_MAX_PAYLOAD_IN_MB": "lots"})
    assert r.returncode != 0 and "SAGEMAKER_MAX_PAYLOAD_IN_MB='lots'" in r.stderr
    r = run_serve(tmp_path, env={"SAGEMAKER_BATCH_STRATEGY": "sometimes"})
    assert r.returncode != 0 and "SAGEMAKER_BATCH_STRATEGY" in r.stderr


@needs_fixtures
@pytest.mark.parametrize("name", ["stepbauer-pca", "ionasec-pca", "skottk-pca",
                                  "stonecoldnicole-pca", "iris9112-kmeans", "stevenn-kmeans",
                                  "sonicxpx-ufo-kmeans"])
def test_models_without_outputs_load_and_answer(serve, name):
    """Every other real model loads, and its answers agree with numpy (float64)."""
    side = json.loads((FIX / "artifacts" / name / "model_algo-1.json").read_text())
    server = serve(FIX / "artifacts" / name / "model_algo-1")
    rng = np.random.default_rng(7)
    arrays = {a.get("name"): a for a in side["arrays"]}
    if "v" in arrays:
        v = np.array(arrays["v"]["values"], dtype=np.float64).reshape(arrays["v"]["shape"])
        mean = np.array(arrays["mean"]["values"]).reshape(-1) if "mean" in arrays else 0.0
        x = rng.standard_normal((5, v.shape[0])).astype(np.float32)
        p = decode_response(server.post(csv_body(x), "text/csv", RIO), RIO, ("projection",))
        # float32 GEMM over up to 316 features: 1e-4 absolute on O(1) projections.
        np.testing.assert_allclose(p["projection"], (x - mean) @ v, atol=1e-4, rtol=1e-4)
    else:
        c = np.array(side["arrays"][0]["values"], dtype=np.float64).reshape(
            side["arrays"][0]["shape"])
        x = (c[rng.integers(0, len(c), 5)] + 0.01 * rng.standard_normal((5, c.shape[1])))
        x = x.astype(np.float32)
        out = decode_response(server.post(csv_body(x), "text/csv", "text/csv"), "text/csv",
                              ("closest_cluster", "distance_to_cluster"))
        d = np.linalg.norm(x[:, None, :].astype(np.float64) - c[None], axis=2)
        np.testing.assert_array_equal(out["closest_cluster"], d.argmin(axis=1))
        np.testing.assert_allclose(out["distance_to_cluster"], d.min(axis=1), rtol=1e-5,
                                   atol=1e-6)
    server.stop()
