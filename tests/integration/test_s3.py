"""smalgo and S3: training and Pipe mode straight from s3://, SageMaker
manifests in File mode, model.tar.gz to S3, errors, and faults.

Real servers on 127.0.0.1 (smgkit.s3servers): moto for breadth, s3s-fs where
signatures must be verified (it rejects a wrong secret or payload hash). A
loopback fault proxy (smgkit.faultproxy) injects 503 SlowDown, resets and
stalls. Every model trained from S3 is compared byte for byte with the model
trained from the same files on local disk.
"""
import io
import json
import os
import subprocess
import tarfile
import time

import numpy as np
import pytest

from smgkit.faultproxy import FaultProxy
from smgkit.mlroot import CSV, MLRoot, channel
from smgkit.mpi import MPI_ENV
from smgkit.s3servers import S3Server, clean_env, s3_env, s3s_fs_available, s3s_fs_path

HP = {"kmeans": {"k": 3, "feature_dim": 4, "mini_batch_size": 50},
      "pca": {"num_components": 2, "feature_dim": 4, "mini_batch_size": 50}}


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    try:
        import moto.server  # noqa: F401
    except ImportError:
        pytest.skip("moto[server] is not installed (tests/requirements.txt)")
    server = S3Server("moto", tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3s(tmp_path_factory):
    if not s3s_fs_available():
        if os.environ.get("CI"):
            pytest.fail(f"s3s-fs missing at {s3s_fs_path()}: run tests/s3/ensure-s3s-fs.sh")
        pytest.skip(f"s3s-fs is not built at {s3s_fs_path()} (run tests/s3/ensure-s3s-fs.sh)")
    server = S3Server("s3s", tmp_path_factory.mktemp("s3s"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Three CSV files of 4 features (three clusters), on disk."""
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("data")
    centers = np.array([[0, 0, 0, 0], [5, 5, 0, 0], [0, 5, 5, 5]], dtype=np.float64)
    for i in range(3):
        x = centers[rng.integers(0, 3, 400)] + rng.normal(0, 0.5, (400, 4))
        np.savetxt(folder / f"part-{i}.csv", x, delimiter=",", fmt="%.6f")
    return folder


def upload(client, bucket, prefix, folder):
    try:
        client.create_bucket(Bucket=bucket)
    except Exception:  # noqa: BLE001 - already there from another test
        pass
    keys = []
    for f in sorted(folder.iterdir()):
        client.put_object(Bucket=bucket, Key=prefix + f.name, Body=f.read_bytes())
        keys.append(prefix + f.name)
    return keys


def train(smalgo_bin, root, algo, env, *extra, mode="File", timeout=120):
    cmd = [str(smalgo_bin), "train", "--ml-root", str(root.root), "--algorithm", algo, *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=clean_env({**MPI_ENV, **env}))


def new_root(tmp_path, name, algo, channels=True, mode="File"):
    root = MLRoot(tmp_path / name)
    root.write_hyperparameters(HP[algo])
    if channels:
        root.write_inputdataconfig({"train": channel(CSV, mode)})
    root.write_resourceconfig()
    return root


def local_model(tmp_path, smalgo_bin, dataset, algo):
    root = new_root(tmp_path, "local-" + algo, algo)
    d = root.channel_dir("train")
    for f in dataset.iterdir():
        (d / f.name).write_bytes(f.read_bytes())
    proc = train(smalgo_bin, root, algo, {})
    assert proc.returncode == 0, proc.stdout[-3000:]
    return root.model_file().read_bytes()


def ok(proc):
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


@pytest.mark.parametrize("algo", ["kmeans", "pca"])
def test_train_channel_s3_equals_local(tmp_path, smalgo_bin, dataset, moto, algo):
    upload(moto.client(), "train-bkt", "csv/", dataset)
    root = new_root(tmp_path, "s3", algo, channels=False)
    proc = train(smalgo_bin, root, algo, s3_env(moto.endpoint, SMALGO_S3_LIST_PAGE=2),
                 "--channel", "train=s3://train-bkt/csv/")
    ok(proc)
    assert "The channel 'train' is s3://train-bkt/csv/: 3 S3 objects" in proc.stdout
    assert root.model_file().read_bytes() == local_model(tmp_path, smalgo_bin, dataset, algo)


@pytest.mark.parametrize("name", [".amazon.manifest", "train.manifest"])
def test_file_mode_manifest_equals_local(tmp_path, smalgo_bin, dataset, moto, name):
    """What SDK local mode hands a container: the manifest alone in the channel folder."""
    keys = upload(moto.client(), "manifest-bkt", "some/deep/prefix/", dataset)
    root = new_root(tmp_path, "s3", "kmeans")
    suffixes = [k[len("some/deep/"):] for k in keys]
    (root.channel_dir("train") / name).write_text(
        json.dumps([{"prefix": "s3://manifest-bkt/some/deep/"}, *suffixes]))
    ok(train(smalgo_bin, root, "kmeans", s3_env(moto.endpoint)))
    assert root.model_file().read_bytes() == local_model(tmp_path, smalgo_bin, dataset, "kmeans")


def test_manifest_beside_data_files_is_refused(tmp_path, smalgo_bin, moto):
    root = new_root(tmp_path, "s3", "kmeans")
    d = root.channel_dir("train")
    (d / ".amazon.manifest").write_text('[{"prefix": "s3://manifest-bkt/"}, "x"]')
    (d / "local.csv").write_text("1,2,3,4\n")
    proc = train(smalgo_bin, root, "kmeans", s3_env(moto.endpoint))
    assert proc.returncode != 0
    assert "holds a manifest and 1 data file" in root.failure.read_text()


@pytest.mark.parametrize("source", ["s3://pipe-bkt/csv/", "s3://pipe-bkt/list.manifest"])
def test_pipe_from_s3_equals_local(tmp_path, smalgo_bin, dataset, moto, source):
    client = moto.client()
    keys = upload(client, "pipe-bkt", "csv/", dataset)
    client.put_object(Bucket="pipe-bkt", Key="list.manifest",
                      Body=json.dumps([{"prefix": "s3://pipe-bkt/"}, *keys]).encode())
    root = new_root(tmp_path, "s3", "kmeans", mode="Pipe")
    env = s3_env(moto.endpoint)
    feeder = subprocess.Popen([str(smalgo_bin), "pipe", "--dir", str(root.data), "--channel",
                               f"train={source}", "--open-timeout", "10"],
                              env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        proc = train(smalgo_bin, root, "kmeans", env)
        ok(proc)
    finally:
        out = feeder.communicate(timeout=30)[0].decode()
    assert feeder.returncode == 0, out
    assert "from 3 files" in out
    assert root.model_file().read_bytes() == local_model(tmp_path, smalgo_bin, dataset, "kmeans")


def test_output_s3_leaves_one_model_tar_gz(tmp_path, smalgo_bin, dataset, moto):
    client = moto.client()
    upload(client, "out-bkt", "in/", dataset)
    root = new_root(tmp_path, "s3", "kmeans", channels=False)
    proc = train(smalgo_bin, root, "kmeans", s3_env(moto.endpoint, SMALGO_S3_PART_MB=5),
                 "--channel", "train=s3://out-bkt/in/", "--output", "s3://out-bkt/models/",
                 "--job-name", "job-1")
    ok(proc)
    listed = client.list_objects_v2(Bucket="out-bkt", Prefix="models/")
    assert [o["Key"] for o in listed["Contents"]] == ["models/job-1/output/model.tar.gz"]
    body = client.get_object(Bucket="out-bkt", Key="models/job-1/output/model.tar.gz")["Body"]
    with tarfile.open(fileobj=io.BytesIO(body.read()), mode="r:gz") as tar:
        assert tar.getnames() == ["model_algo-1"]
        member = tar.extractfile("model_algo-1").read()
    assert member == root.model_file().read_bytes()
    assert member == local_model(tmp_path, smalgo_bin, dataset, "kmeans")


def test_signed_requests_pass_a_verifying_server(tmp_path, smalgo_bin, dataset, s3s):
    """s3s-fs checks every signature and the payload hash of each uploaded part."""
    client = s3s.client()
    upload(client, "strict-bkt", "csv/", dataset)
    root = new_root(tmp_path, "s3", "pca", channels=False)
    big = tmp_path / "big"
    proc = train(smalgo_bin, root, "pca", s3_env(s3s.endpoint, SMALGO_S3_LIST_PAGE=1),
                 "--channel", "train=s3://strict-bkt/csv/", "--output", "s3://strict-bkt/out",
                 "--job-name", "j")
    ok(proc)
    assert root.model_file().read_bytes() == local_model(tmp_path, smalgo_bin, dataset, "pca")
    # A multipart upload (3 parts of 5 MiB + a tail), each part's SHA-256 verified.
    big.mkdir()
    data = np.random.default_rng(1).bytes(16 << 20)
    (big / "model_algo-1").write_bytes(data)
    root2 = new_root(tmp_path, "s3b", "pca", channels=False)
    proc = train(smalgo_bin, root2, "pca", s3_env(s3s.endpoint, SMALGO_S3_PART_MB=5),
                 "--channel", "train=s3://strict-bkt/csv/", "--output", "s3://strict-bkt/out2",
                 "--job-name", "j")
    ok(proc)
    got = client.get_object(Bucket="strict-bkt", Key="out2/j/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(got), mode="r:gz") as tar:
        assert tar.extractfile("model_algo-1").read() == root2.model_file().read_bytes()


ERRORS = [("secret", "s3://strict-bkt/csv/", "SignatureDoesNotMatch"),
          ("bucket", "s3://no-such-bucket/csv/", "NoSuchBucket"),
          ("key", "s3://strict-bkt/missing.manifest", "NoSuchKey")]


@pytest.mark.parametrize("what,uri,code", ERRORS)
def test_errors_are_fast_client_errors(tmp_path, smalgo_bin, dataset, s3s, what, uri, code):
    upload(s3s.client(), "strict-bkt", "csv/", dataset)
    root = new_root(tmp_path, "s3", "kmeans", channels=False)
    env = s3_env(s3s.endpoint, secret="wrong-secret") if what == "secret" else s3_env(s3s.endpoint)
    t0 = time.monotonic()
    proc = train(smalgo_bin, root, "kmeans", env, "--channel", f"train={uri}")
    elapsed = time.monotonic() - t0
    assert proc.returncode != 0
    failure = root.failure.read_text()
    assert code in failure and uri.rstrip("/").split("/")[2] in failure, failure
    assert "s3://" in failure
    assert elapsed < 5, f"{elapsed:.1f} s"


def test_object_missing_at_read_time_names_key(tmp_path, smalgo_bin, moto):
    root = new_root(tmp_path, "s3", "kmeans")
    (root.channel_dir("train") / ".amazon.manifest").write_text(
        '[{"prefix": "s3://gone-bkt/"}, "nothing-here.csv"]')
    moto.client().create_bucket(Bucket="gone-bkt")
    t0 = time.monotonic()
    proc = train(smalgo_bin, root, "kmeans", s3_env(moto.endpoint))
    assert proc.returncode != 0 and time.monotonic() - t0 < 5
    failure = root.failure.read_text()
    assert "s3://gone-bkt/nothing-here.csv" in failure and "NoSuchKey" in failure, failure


def pipe_once(smalgo_bin, tmp_path, source, env, *extra, timeout=60):
    """Run `smalgo pipe` for one epoch and return (bytes read from the FIFO, agent output)."""
    d = tmp_path / "fifos"
    d.mkdir(parents=True, exist_ok=True)
    agent = subprocess.Popen([str(smalgo_bin), "pipe", "--dir", str(d), "--channel",
                              f"train={source}", "--epochs", "1", "--open-timeout", "20",
                              *extra],
                             env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    fifo = d / "train_0"
    deadline = time.time() + 20
    while not fifo.exists() and time.time() < deadline and agent.poll() is None:
        time.sleep(0.01)
    data = b""
    if fifo.exists():
        with open(fifo, "rb") as f:
            data = f.read()
    out = agent.communicate(timeout=timeout)[0].decode()
    return data, out, agent.returncode


@pytest.fixture(scope="module")
def blob(moto):
    data = np.random.default_rng(3).bytes(6 << 20)
    client = moto.client()
    client.create_bucket(Bucket="fault-bkt")
    client.put_object(Bucket="fault-bkt", Key="blob.bin", Body=data)
    return data


def test_503_three_times_costs_only_the_backoff(tmp_path, smalgo_bin, moto, blob):
    proxy = FaultProxy(moto.port, ["503", "503", "503"], match="GET /fault-bkt/blob.bin")
    try:
        t0 = time.monotonic()
        data, out, rc = pipe_once(smalgo_bin, tmp_path, "s3://fault-bkt/blob.bin",
                                  s3_env(proxy.endpoint, SMALGO_S3_BACKOFF_MS=100))
        elapsed = time.monotonic() - t0
    finally:
        proxy.stop()
    assert rc == 0, out
    assert data == blob
    gets = [e for e in proxy.requests() if e[1].startswith("/fault-bkt/blob.bin")]
    assert [e[4] for e in gets] == ["503", "503", "503", None]
    assert out.count("SlowDown") == 3, out
    # Backoff with equal jitter: 50-100 + 100-200 + 200-400 ms at most 0.7 s, plus the
    # transfer; a client that waited seconds per retry would take far longer.
    assert elapsed < 3, f"{elapsed:.2f} s"


@pytest.mark.parametrize("fault", ["reset:0.5", "stall:0.5"])
def test_reset_or_stall_mid_object_resumes(tmp_path, smalgo_bin, moto, blob, fault):
    proxy = FaultProxy(moto.port, [fault], match="GET /fault-bkt/blob.bin")
    try:
        data, out, rc = pipe_once(smalgo_bin, tmp_path, "s3://fault-bkt/blob.bin",
                                  s3_env(proxy.endpoint, SMALGO_S3_STALL_SECONDS=1))
    finally:
        proxy.stop()
    assert rc == 0, out
    assert data == blob  # every byte exactly once, in order
    gets = [e for e in proxy.requests() if e[1].startswith("/fault-bkt/blob.bin")]
    assert len(gets) == 2, gets
    first, second = gets
    assert first[2] == f"bytes=0-{(8 << 20) - 1}"  # one part of 8 MiB asked, 6 MiB there
    resumed_at = int(second[2].split("=")[1].split("-")[0])
    # The retry asks only for what the client had not received: it starts past 0,
    # no later than what the proxy relayed, and the bytes fetched twice are only
    # those lost in flight when the connection died.
    assert 0 < resumed_at <= first[3], (second, first)
    assert first[3] + second[3] == len(blob) + (first[3] - resumed_at)


def test_no_credentials_is_a_clear_error(tmp_path, smalgo_bin, moto):
    root = new_root(tmp_path, "s3", "kmeans", channels=False)
    env = {"AWS_ENDPOINT_URL_S3": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    proc = train(smalgo_bin, root, "kmeans", env, "--channel", "train=s3://train-bkt/csv/")
    assert proc.returncode != 0
    assert "no AWS credentials" in root.failure.read_text()


def test_credentials_from_file_profile_and_container_provider(tmp_path, smalgo_bin, dataset, s3s):
    """The shared credentials file with AWS_PROFILE, then the container provider
    (FULL_URI + authorization token) served by a stub on 127.0.0.1."""
    import http.server
    import threading
    from smgkit.s3servers import ACCESS_KEY, SECRET_KEY
    upload(s3s.client(), "strict-bkt", "csv/", dataset)
    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = X\naws_secret_access_key = Y\n\n"
                     f"[smalgo]\naws_access_key_id = {ACCESS_KEY}\n"
                     f"aws_secret_access_key = {SECRET_KEY}\n")
    base = {"AWS_ENDPOINT_URL_S3": s3s.endpoint, "AWS_EC2_METADATA_DISABLED": "true"}
    root = new_root(tmp_path, "file", "kmeans", channels=False)
    ok(train(smalgo_bin, root, "kmeans", {**base, "AWS_SHARED_CREDENTIALS_FILE": str(creds),
                                          "AWS_PROFILE": "smalgo"},
             "--channel", "train=s3://strict-bkt/csv/"))
    seen = []

    class Provider(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            seen.append(self.headers.get("Authorization"))
            body = json.dumps({"AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY,
                               "Token": "", "Expiration": "2099-01-01T00:00:00Z"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    stub = http.server.HTTPServer(("127.0.0.1", 0), Provider)
    t = threading.Thread(target=stub.serve_forever, daemon=True)
    t.start()
    try:
        root = new_root(tmp_path, "ctr", "kmeans", channels=False)
        ok(train(smalgo_bin, root, "kmeans",
                 {**base, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{stub.server_port}/c",
                  "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok-123"},
                 "--channel", "train=s3://strict-bkt/csv/"))
    finally:
        stub.shutdown()
        t.join(5)
    assert seen and seen[0] == "tok-123"


def start_serve(smalgo_bin, args, env, timeout=15):
    """`smalgo serve ARGS` on a free loopback port; (process, URL) once /ping answers."""
    import requests
    from smgkit.net import free_port
    port = free_port()
    proc = subprocess.Popen([str(smalgo_bin), "serve", "--port", str(port), "--bind",
                             "127.0.0.1", "--threads", "1", *args], env=clean_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            if requests.get(url + "/ping", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.05)
    return proc, None


def stop_serve(proc):
    proc.terminate()
    return proc.communicate(timeout=15)[0].decode()


def test_serve_model_data_from_s3_and_local(tmp_path, smalgo_bin, dataset, moto):
    import requests
    client = moto.client()
    upload(client, "serve-bkt", "in/", dataset)
    root = new_root(tmp_path, "s3", "kmeans", channels=False)
    env = s3_env(moto.endpoint)
    ok(train(smalgo_bin, root, "kmeans", env, "--channel", "train=s3://serve-bkt/in/",
             "--output", "s3://serve-bkt/out/", "--job-name", "j"))
    row = "1.0,2.0,3.0,4.0"
    answers = []
    for source in ["s3://serve-bkt/out/j/output/model.tar.gz", root.root / "output/model.tar.gz"]:
        model_dir = tmp_path / f"model-{len(answers)}"
        proc, url = start_serve(smalgo_bin, ["--model-data", str(source), "--model-dir",
                                             str(model_dir)], env)
        try:
            assert url is not None, stop_serve(proc)
            r = requests.post(url + "/invocations", data=row,
                              headers={"Content-Type": "text/csv", "Accept": "application/json"})
            assert r.status_code == 200, r.text
            answers.append(r.json())
        finally:
            stop_serve(proc)
        assert (model_dir / "model_algo-1").read_bytes() == root.model_file().read_bytes()
    assert answers[0] == answers[1]


def test_serve_model_data_refuses_paths_outside_the_model_dir(tmp_path, smalgo_bin):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    proc, url = start_serve(smalgo_bin, ["--model-data", str(evil), "--model-dir",
                                         str(tmp_path / "m")], {})
    out = stop_serve(proc) if url else proc.communicate(timeout=15)[0].decode()
    assert url is None and proc.returncode != 0
    assert "not a plain file name" in out, out
    assert not (tmp_path / "escaped").exists()


def test_serve_model_data_missing_object_fails_fast(tmp_path, smalgo_bin, moto):
    moto.client().create_bucket(Bucket="serve-missing")
    t0 = time.monotonic()
    proc, url = start_serve(smalgo_bin, ["--model-data", "s3://serve-missing/model.tar.gz",
                                         "--model-dir", str(tmp_path / "m")],
                            s3_env(moto.endpoint))
    out = proc.communicate(timeout=15)[0].decode()
    assert url is None and proc.returncode != 0 and time.monotonic() - t0 < 5
    assert "s3://serve-missing/model.tar.gz: NoSuchKey" in out, out


class _CredentialStub:
    """A loopback stand-in for IMDSv2 and the container provider: it serves
    credentials that expire at `expires`, and records every request."""

    def __init__(self, expires):
        import http.server
        import threading
        from smgkit.s3servers import ACCESS_KEY, SECRET_KEY
        seen = self.seen = []
        creds = json.dumps({"AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY,
                            "Token": "", "Expiration": expires}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def _send(self, code, body):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):  # noqa: N802 - http.server's naming
                seen.append(("PUT", self.path, self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")))
                self._send(200, b"imds-token-1")

            def do_GET(self):  # noqa: N802
                seen.append(("GET", self.path, self.headers.get("X-aws-ec2-metadata-token")))
                if self.path.endswith("/security-credentials/"):
                    self._send(200, b"smalgo-role\n")
                elif self.path.endswith("/smalgo-role"):
                    self._send(200, creds)
                else:
                    self._send(404, b"")

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.mark.parametrize("minutes,min_fetches", [(600, 1), (2, 2)])
def test_imds_v2_credentials_and_refresh_before_expiry(tmp_path, smalgo_bin, dataset, s3s,
                                                       minutes, min_fetches):
    """IMDSv2 (token first, then the role's credentials), on a loopback stub. Credentials
    that expire within five minutes are fetched again before the next request."""
    upload(s3s.client(), "strict-bkt", "csv/", dataset)
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60 * minutes))
    stub = _CredentialStub(expires)
    try:
        root = new_root(tmp_path, "imds", "kmeans", channels=False)
        ok(train(smalgo_bin, root, "kmeans",
                 {"AWS_ENDPOINT_URL_S3": s3s.endpoint, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                  "AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url},
                 "--channel", "train=s3://strict-bkt/csv/"))
    finally:
        stub.stop()
    assert stub.seen[0] == ("PUT", "/latest/api/token", "21600")
    assert ("GET", "/latest/meta-data/iam/security-credentials/", "imds-token-1") in stub.seen
    fetches = [s for s in stub.seen if s[1].endswith("/smalgo-role")]
    assert len(fetches) >= min_fetches
    if minutes > 5:
        assert len(fetches) == 1  # long-lived credentials are fetched once per process


def test_reset_in_a_part_fetched_ahead(tmp_path, smalgo_bin, moto):
    """A 22 MiB object in parts of 5 MiB (two in flight): the third part's connection
    is reset half-way; the stream is still every byte once, in order."""
    data = np.random.default_rng(5).bytes(22 << 20)
    client = moto.client()
    client.create_bucket(Bucket="ahead-bkt")
    client.put_object(Bucket="ahead-bkt", Key="obj", Body=data)
    proxy = FaultProxy(moto.port, ["pass", "pass", "reset:0.5"], match="GET /ahead-bkt/obj")
    try:
        got, out, rc = pipe_once(smalgo_bin, tmp_path, "s3://ahead-bkt/obj",
                                 s3_env(proxy.endpoint, SMALGO_S3_PART_MB=5))
    finally:
        proxy.stop()
    assert rc == 0, out
    assert got == data
    gets = [e for e in proxy.requests() if e[1].startswith("/ahead-bkt/obj")]
    part = 5 << 20
    assert [e[2] for e in gets[:3]] == [f"bytes={i * part}-{(i + 1) * part - 1}"
                                        for i in range(3)]
    retry = [e for e in gets[3:] if int(e[2].split("=")[1].split("-")[0]) % part != 0]
    assert len(retry) == 1 and int(retry[0][2].split("=")[1].split("-")[0]) > 2 * part
    assert sum(e[3] for e in gets) - len(data) <= gets[2][3]  # at most the in-flight loss


@pytest.mark.parametrize("options", [
    ("--shuffle-seed", "3"),
    ("--host-index", "1", "--host-count", "3", "--gunzip"),
    ("--shuffle-seed", "9", "--host-index", "0", "--host-count", "2", "--gunzip",
     "--recordio-wrap"),
])
def test_pipe_options_same_from_s3_as_local(tmp_path, smalgo_bin, moto, options):
    """Shuffle, ShardedByS3Key host split, gunzip and recordIO wrapping give the same
    bytes from an S3 prefix as from a local folder of the same files."""
    import gzip
    folder = tmp_path / "local"
    folder.mkdir()
    rng = np.random.default_rng(11)
    for i in range(10):
        body = rng.bytes(int(rng.integers(1, 50000)))
        (folder / f"f{i:02d}.bin.gz").write_bytes(gzip.compress(body))
    upload(moto.client(), "opts-bkt", "data/", folder)
    local, out1, rc1 = pipe_once(smalgo_bin, tmp_path / "a", folder, {}, *options)
    remote, out2, rc2 = pipe_once(smalgo_bin, tmp_path / "b", "s3://opts-bkt/data/",
                                  s3_env(moto.endpoint), *options)
    assert rc1 == 0 and rc2 == 0, out1 + out2
    assert len(local) > 0 and remote == local
