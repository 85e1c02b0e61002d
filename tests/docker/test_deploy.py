"""Serving with the images: SDK v2 local-mode deploy/predict, and plain `docker run IMAGE serve`.

For each algorithm (PCA, k-means) a model is trained once per module with the real
SDK in local mode (one instance, LocalSession with a fixed region, no AWS
credentials, telemetry opted out, data written by write_numpy_to_dense_tensor),
exactly as test_sdk.py does. Then:

- test_sdk_deploy_predict: `estimator.deploy(initial_instance_count=1,
  instance_type="local")` (the SDK extracts model.tar.gz next to itself, mounts that
  folder at /opt/ml/model, starts the image with `serve` under compose and polls
  /ping) and `predictor.predict` with the SDK's own serializers: CSVSerializer and
  JSONSerializer with JSONDeserializer, RecordSerializer with RecordDeserializer
  (and, for k-means, CSVDeserializer). Answers are checked against float64 numpy
  computed from the model file (read with `smalgo inspect`): PCA projection
  (x - mean) . v; k-means closest centre (exact) and Euclidean distance.
- test_docker_run_serve: `docker run -p 127.0.0.1:PORT:8080 -v MODEL:/opt/ml/model
  IMAGE serve` (k-means on SAGEMAKER_BIND_TO_PORT=9090 instead, the port the image's
  accept-bind-to-port label promises to honour): /ping is 200 with an empty body,
  /invocations CSV -> JSON is right, and `docker stop` ends the server (exit 0)
  within a few seconds.

The SDK serves on the host port `local.serving_port` (a free port here, not 8080, so
nothing else on the machine collides); predictor.delete_endpoint() runs `compose
down`, and every container the module started is removed at the end.
"""
import json
import subprocess
import tarfile
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from jobdata import KMEANS_HP, PCA_HP, read_model
from smgkit.net import free_port
from smgkit.sdklocal import ROLE, container_ids, go_offline, local_session

HP = {"pca": PCA_HP, "kmeans": KMEANS_HP}


@pytest.fixture(scope="module")
def sdk_session(images, tmp_path_factory):
    """A LocalSession with no credentials to find, serving on a free port; removes the
    SDK's containers made meanwhile when the module ends."""
    mp = pytest.MonkeyPatch()
    go_offline(mp, tmp_path_factory.mktemp("aws"))
    before = container_ids(images.values())
    try:
        yield local_session(serving_port=free_port())
    finally:
        new = sorted(container_ids(images.values()) - before)
        if new:
            subprocess.run(["docker", "rm", "-f", *new], capture_output=True)
        mp.undo()


class Trained:
    def __init__(self, estimator, model_file, arrays):
        self.estimator = estimator
        self.model_file = model_file  # a copy, in a folder of its own
        self.arrays = arrays


@pytest.fixture(scope="module")
def trained(images, sdk_session, pca_data, kmeans_data, tmp_path_factory):
    """{algo: Trained}, each trained lazily, once, by the SDK in local mode."""
    from sagemaker.estimator import Estimator

    cache = {}

    def get(algo):
        if algo not in cache:
            data = pca_data if algo == "pca" else kmeans_data
            root = tmp_path_factory.mktemp(f"deploy-{algo}")
            out = root / "out"
            out.mkdir()
            est = Estimator(image_uri=images[algo], role=ROLE, instance_count=1,
                            instance_type="local", hyperparameters=HP[algo],
                            sagemaker_session=sdk_session, output_path=f"file://{out}")
            # Default logs: with logs="None" the SDK polls the finished job 5 s later.
            est.fit({"train": f"file://{data.train}", "test": f"file://{data.test}"})
            model_dir = root / "model"
            with tarfile.open(out / "model.tar.gz") as tar:
                names = tar.getnames()
                assert len(names) == 1 and names[0].startswith("model_algo-1"), names
                tar.extractall(model_dir)
            model_file = model_dir / names[0]
            cache[algo] = Trained(est, model_file, read_model(model_file))
        return cache[algo]

    return get


def pca_reference(arrays, x):
    v = arrays["v"]  # (feature_dim, num_components)
    mean = arrays["mean"].reshape(-1) if "mean" in arrays else np.zeros(v.shape[0])
    return (x - mean) @ v


def kmeans_reference(arrays, x):
    centres = arrays["0"]  # (k, feature_dim)
    d2 = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    closest = d2.argmin(axis=1)
    return closest, np.sqrt(d2[np.arange(len(x)), closest])


def check_pca(arrays, x, projections):
    ref = pca_reference(arrays, x)
    got = np.array(projections, dtype=np.float64)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def check_kmeans(arrays, x, closest, distance):
    ref_c, ref_d = kmeans_reference(arrays, x)
    np.testing.assert_array_equal(np.array(closest, dtype=np.float64), ref_c.astype(np.float64))
    np.testing.assert_allclose(np.array(distance, dtype=np.float64), ref_d, rtol=1e-4, atol=1e-5)


def check_json(algo, arrays, x, answer):
    if algo == "pca":
        assert set(answer) == {"projections"}, answer
        check_pca(arrays, x, [p["projection"] for p in answer["projections"]])
    else:
        assert set(answer) == {"predictions"}, answer
        preds = answer["predictions"]
        check_kmeans(arrays, x, [p["closest_cluster"] for p in preds],
                     [p["distance_to_cluster"] for p in preds])


def check_records(algo, arrays, x, records):
    assert len(records) == len(x)
    if algo == "pca":
        for r in records:
            assert set(r.label) == {"projection"} and len(r.features) == 0, r
        check_pca(arrays, x, [list(r.label["projection"].float32_tensor.values) for r in records])
    else:
        for r in records:
            assert set(r.label) == {"closest_cluster", "distance_to_cluster"}, r
        check_kmeans(arrays, x,
                     [r.label["closest_cluster"].float32_tensor.values[0] for r in records],
                     [r.label["distance_to_cluster"].float32_tensor.values[0] for r in records])


@pytest.mark.parametrize("algo", ["pca", "kmeans"])
def test_sdk_deploy_predict(trained, sdk_session, pca_data, kmeans_data, algo):
    from sagemaker.amazon.common import RecordDeserializer, RecordSerializer
    from sagemaker.deserializers import CSVDeserializer, JSONDeserializer
    from sagemaker.serializers import CSVSerializer, JSONSerializer

    model = trained(algo)
    x = (pca_data if algo == "pca" else kmeans_data).test_x[:25].astype(np.float32)
    x64 = x.astype(np.float64)
    # wait=False: local mode's create_endpoint itself returns only once /ping has
    # answered 200 (it raises otherwise), while wait=True would then sleep a fixed
    # 30 s before its first describe_endpoint.
    predictor = model.estimator.deploy(initial_instance_count=1, instance_type="local",
                                       serializer=CSVSerializer(),
                                       deserializer=JSONDeserializer(), wait=False)
    try:
        described = sdk_session.sagemaker_client.describe_endpoint(
            EndpointName=predictor.endpoint_name)
        assert described["EndpointStatus"] == "InService", described

        # text/csv in (numpy rows, as the SDK writes them), JSON out.
        check_json(algo, model.arrays, x64, predictor.predict(x))

        # application/json in: the documented instances form, and the plain list of
        # rows that JSONSerializer makes of a numpy matrix.
        predictor.serializer = JSONSerializer()
        body = {"instances": [{"features": row} for row in x.tolist()]}
        check_json(algo, model.arrays, x64, predictor.predict(body))
        check_json(algo, model.arrays, x64, predictor.predict(x))

        # recordIO-protobuf both ways, the SDK's Record classes.
        predictor.serializer = RecordSerializer()
        predictor.deserializer = RecordDeserializer()
        check_records(algo, model.arrays, x64, predictor.predict(x))

        if algo == "kmeans":  # k-means also answers text/csv: "cluster,distance" lines
            predictor.serializer = CSVSerializer()
            predictor.deserializer = CSVDeserializer()
            rows = predictor.predict(x)
            assert all(len(r) == 2 for r in rows), rows
            check_kmeans(model.arrays, x64, [float(r[0]) for r in rows],
                         [float(r[1]) for r in rows])
    finally:
        predictor.delete_endpoint()


def http(method, url, body=None, headers=None, timeout=5):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


@pytest.mark.parametrize("algo", ["pca", "kmeans"])
def test_docker_run_serve(trained, images, pca_data, kmeans_data, algo):
    model = trained(algo)
    x = (pca_data if algo == "pca" else kmeans_data).test_x[:40].astype(np.float32)
    port = free_port()
    inner = 8080
    env = []
    if algo == "kmeans":
        inner = 9090
        env = ["-e", f"SAGEMAKER_BIND_TO_PORT={inner}"]
    label = subprocess.run(["docker", "image", "inspect", "-f", "{{index .Config.Labels "
                            "\"com.amazonaws.sagemaker.capabilities.accept-bind-to-port\"}}",
                            images[algo]], capture_output=True, text=True, check=True)
    assert label.stdout.strip() == "true", "image lacks the accept-bind-to-port label"
    name = f"smalgo-serve-test-{algo}-{port}"
    subprocess.run(["docker", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:{inner}",
                    *env, "-v", f"{model.model_file.parent}:/opt/ml/model:ro", images[algo],
                    "serve"], check=True, capture_output=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = http("GET", base + "/ping", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    logs = subprocess.run(["docker", "logs", name], capture_output=True,
                                          text=True)
                    pytest.fail(f"/ping never answered:\n{logs.stdout}{logs.stderr}")
                time.sleep(0.2)
        assert (status, body) == (200, b"")

        csv = "\n".join(",".join(repr(float(v)) for v in row) for row in x).encode()
        status, body = http("POST", base + "/invocations", csv,
                            {"Content-Type": "text/csv", "Accept": "application/json"})
        assert status == 200
        check_json(algo, model.arrays, x.astype(np.float64), json.loads(body))

        t0 = time.monotonic()
        subprocess.run(["docker", "stop", "-t", "30", name], check=True, capture_output=True)
        took = time.monotonic() - t0
        state = subprocess.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", name],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert took < 5, f"docker stop took {took:.1f} s"
        assert state == "0", f"serve exited with status {state} on SIGTERM"
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
