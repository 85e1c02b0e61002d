"""Issue 13's reproductions, end to end on the real binary: each test is one of
the probe campaign's findings and fails on the code before its fix.

Servers listen on 127.0.0.1 on ports chosen at run time; every loop is bounded
in count and time. Models are written here with the shared NDArray writer, so
no fixture is needed.
"""
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
import requests

from smgkit import ndarray
from smgkit.mlroot import CSV, setup_job
from smgkit.net import free_port
from smgkit.pipe import open_writer


# ---- helpers ------------------------------------------------------------------------------

def kmeans_model(folder, centers):
    folder.mkdir(parents=True, exist_ok=True)
    ndarray.write(folder / "model_algo-1", [np.asarray(centers, dtype=np.float32)])
    return folder


def pca_model(folder, v, mean=None):
    folder.mkdir(parents=True, exist_ok=True)
    v = np.asarray(v, dtype=np.float32)
    arrays, names = [np.ones(v.shape[1], np.float32), v], ["s", "v"]
    if mean is not None:
        arrays.append(np.asarray(mean, np.float32).reshape(1, -1))
        names.append("mean")
    ndarray.write(folder / "model_algo-1", arrays, names)
    return folder


def start_server(smalgo_bin, model_dir, port=None, env=None, threads=2, wait=True):
    port = port or free_port()
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.Popen([str(smalgo_bin), "serve", "--model-dir", str(model_dir), "--bind",
                             "127.0.0.1", "--port", str(port), "--threads", str(threads)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full_env)
    if wait:
        deadline = time.time() + 10
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.time() < deadline, "serve did not answer /ping within 10 s"
            time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}", port


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    return out.decode(errors="replace")


# ---- point 3: a second server on a port in use -------------------------------------------

def test_second_server_on_same_port_fails_at_start(tmp_path, smalgo_bin):
    first, url, port = start_server(smalgo_bin, kmeans_model(tmp_path / "a", [[0, 0], [1, 1]]))
    try:
        second = subprocess.run([str(smalgo_bin), "serve", "--model-dir",
                                 str(kmeans_model(tmp_path / "b", [[5, 5], [6, 6]])), "--bind",
                                 "127.0.0.1", "--port", str(port)],
                                capture_output=True, text=True, timeout=20)
        assert second.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in second.stderr
        # Every request still reaches the first server (its centers are near 0).
        for _ in range(20):
            r = requests.post(url + "/invocations", data="0.1,0.1", timeout=10,
                              headers={"Content-Type": "text/csv",
                                       "Accept": "application/json"})
            assert r.json()["predictions"][0]["distance_to_cluster"] < 1
    finally:
        stop(first)


# ---- points 5 and 9: 64-bit hyperparameters, memory a setting implies --------------------

def blobs_csv(ml_root, n=400, d=8, seed=3, channel_name="train"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) + 6 * rng.integers(0, 3, size=(n, 1))
    np.savetxt(ml_root.channel_dir(channel_name) / "part-0.csv", x, fmt="%.6f", delimiter=",")
    return x


def train(smalgo_bin, ml_root, env=None, timeout=120):
    return subprocess.run([str(smalgo_bin), "train", "--ml-root", str(ml_root.root)],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def train_until(smalgo_bin, ml_root, needle, timeout=60):
    """Start a train, read its log until needle appears (True) or it exits (False), then stop it."""
    proc = subprocess.Popen([str(smalgo_bin), "train", "--ml-root", str(ml_root.root)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline, seen, lines = time.time() + timeout, False, []
    try:
        for line in proc.stdout:
            lines.append(line)
            if needle in line:
                seen = True
                break
            assert time.time() < deadline, f"{needle!r} not seen in {timeout} s"
    finally:
        proc.kill()
        proc.wait(timeout=20)
    return seen, "".join(lines)


KM = {"k": "3", "feature_dim": "8", "mini_batch_size": "100", "extra_center_factor": "4"}


def test_epochs_2_pow_32_is_not_cut_to_zero(ml_root, smalgo_bin):
    setup_job(ml_root, dict(KM, epochs=str(2**32)), content_type=CSV)
    blobs_csv(ml_root)
    seen, log = train_until(smalgo_bin, ml_root, "epoch 2:")
    assert seen, log


def test_num_trials_2_pow_32_makes_more_than_one_attempt(ml_root, smalgo_bin):
    setup_job(ml_root, dict(KM, local_lloyd_num_trials=str(2**32 + 1)), content_type=CSV)
    blobs_csv(ml_root)
    seen, log = train_until(smalgo_bin, ml_root, "local kmeans attempt #1.")
    assert seen, log


def test_max_iter_2_pow_32_runs_lloyd_to_convergence(ml_root, smalgo_bin, tmp_path):
    models = []
    for max_iter in (2**32, 10**6):
        setup_job(ml_root, dict(KM, local_lloyd_max_iter=str(max_iter)), content_type=CSV)
        blobs_csv(ml_root)
        r = train(smalgo_bin, ml_root)
        assert r.returncode == 0, r.stdout + r.stderr
        models.append(ndarray.read(ml_root.model_file())[0][0])
        assert "0 iteration(s)" not in r.stdout + r.stderr
    np.testing.assert_array_equal(models[0], models[1])


@pytest.mark.parametrize("key,value,allowed", [
    ("k", str(2**53 + 1), "an integer >= 2"),
    ("epochs", "0", "a positive integer"),
    ("mini_batch_size", str(2**63), "a positive integer"),
])
def test_out_of_range_names_key_and_range(ml_root, smalgo_bin, key, value, allowed):
    setup_job(ml_root, dict(KM, **{key: value}), content_type=CSV)
    blobs_csv(ml_root)
    r = train(smalgo_bin, ml_root)
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and first.startswith("ClientError: "), first
    assert f"'{key}' = '{value}'" in first and allowed in first, first


def test_huge_mini_batch_is_a_client_error_with_the_figure(ml_root, smalgo_bin):
    setup_job(ml_root, dict(KM, mini_batch_size=str(2**31 - 1)), content_type=CSV)
    blobs_csv(ml_root)
    r = train(smalgo_bin, ml_root, env={"SMALGO_MEMORY_LIMIT_BYTES": str(8 << 30)})
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and first.startswith("ClientError: "), first
    assert "need at least 192 GiB" in first and "allows 8 GiB" in first, first
    assert "mini_batch_size x feature_dim" in first


@pytest.mark.parametrize("algo_hp", [
    {"k": "3", "feature_dim": "10000000", "mini_batch_size": "5000"},
    {"num_components": "2", "feature_dim": "10000000", "mini_batch_size": "100"},
])
def test_feature_dim_far_above_the_data_is_the_dimension_mismatch(ml_root, smalgo_bin, algo_hp):
    setup_job(ml_root, algo_hp, content_type=CSV)
    blobs_csv(ml_root)
    r = train(smalgo_bin, ml_root, env={"SMALGO_MEMORY_LIMIT_BYTES": str(8 << 30)})
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and first.startswith("ClientError: "), first
    assert "feature_dim=10000000 does not match the data" in first, first
    assert "has 8 features" in first, first


def test_pca_d_squared_over_memory_is_refused_before_allocating(ml_root, smalgo_bin):
    setup_job(ml_root, {"num_components": "2", "feature_dim": "8", "mini_batch_size": "100"},
              content_type=CSV)
    blobs_csv(ml_root)
    r = train(smalgo_bin, ml_root, env={"SMALGO_MEMORY_LIMIT_BYTES": "1000"})
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and "feature_dim x feature_dim matrix" in first, first


# ---- point 10: text after a NUL in hyperparameters.json -----------------------------------

def test_text_after_nul_in_hyperparameters_is_refused(ml_root, smalgo_bin):
    setup_job(ml_root, KM, content_type=CSV)
    blobs_csv(ml_root)
    path = ml_root.config / "hyperparameters.json"
    good = path.read_bytes()
    path.write_bytes(good + b"\0" + b'{"k": "not a number"}')
    r = train(smalgo_bin, ml_root)
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and first.startswith("ClientError: "), first
    assert f"NUL byte at byte {len(good)}" in first and "hyperparameters.json" in first, first


# ---- point 10 and 9: stale temporary model files, unusable model folder -------------------

def test_stale_temporary_model_file_is_removed_at_start(ml_root, smalgo_bin):
    setup_job(ml_root, KM, content_type=CSV)
    blobs_csv(ml_root)
    stale = ml_root.model / ".model_algo-1.tmp-Ab3xYz"
    stale.write_bytes(b"half a model")
    keep = ml_root.model / ".model_notes"
    keep.write_text("not ours")
    r = train(smalgo_bin, ml_root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not stale.exists() and keep.exists() and ml_root.model_file().exists()
    assert "left by an earlier model write" in r.stdout + r.stderr


@pytest.fixture
def tiny_mount(tmp_path):
    """Mount a 64 KiB tmpfs at a folder (options given), skipping where mounting is not allowed."""
    mounted = []

    def mount(folder, options):
        folder.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
        mounted.append(folder)

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_unusable_model_folder_is_found_before_training(ml_root, smalgo_bin, tiny_mount, kind):
    setup_job(ml_root, dict(KM, epochs="1000000"), content_type=CSV)  # hours if it trained
    blobs_csv(ml_root)
    if kind == "full":
        tiny_mount(ml_root.model, "size=64k")
        fd = os.open(ml_root.model / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass
        os.close(fd)
    else:
        tiny_mount(ml_root.model, "size=64k,ro")
    t0 = time.time()
    r = train(smalgo_bin, ml_root, timeout=60)
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and first.startswith("ClientError: "), first
    reason = "No space left on device" if kind == "full" else "Read-only file system"
    assert "cannot take the model" in first and reason in first, first
    assert "epoch 0:" not in r.stdout + r.stderr and time.time() - t0 < 30


def test_failure_file_escapes_invalid_utf8(ml_root, smalgo_bin):
    setup_job(ml_root, KM, content_type=CSV)
    blobs_csv(ml_root)
    with open(ml_root.channel_dir("train") / "part-0.csv", "ab") as f:
        f.write(b"1,2,3,4,5,6,7,\xff\xfe\xc3\n")
    r = train(smalgo_bin, ml_root)
    raw = ml_root.failure.read_bytes()
    assert r.returncode != 0
    text = raw.decode("utf-8")  # raises on invalid UTF-8
    assert "not a number" in text and '"\\xFF\\xFE\\xC3"' in text, text


# ---- point 4: no Infinity or NaN in responses --------------------------------------------

@pytest.mark.parametrize("accept", ["application/json", "application/jsonlines", "text/csv",
                                    "application/x-recordio-protobuf"])
def test_kmeans_overflowing_distance_is_a_400_naming_the_row(tmp_path, smalgo_bin, accept):
    proc, url, _ = start_server(smalgo_bin, kmeans_model(tmp_path / "m", [[0, 0], [1, 1]]))
    try:
        headers = {"Content-Type": "text/csv", "Accept": accept}
        r = requests.post(url + "/invocations", data="1,2\n3.4e38,-3.4e38\n", headers=headers,
                          timeout=10)
        assert r.status_code == 400, r.text
        assert "row 2 of the request: distance_to_cluster overflows float32" in r.json()["error"]
        ok = requests.post(url + "/invocations", data="1,2\n3.4e38,0\n", headers=headers,
                           timeout=10)
        assert ok.status_code == 200 and b"Infinity" not in ok.content
    finally:
        stop(proc)


def test_pca_overflowing_projection_is_a_400_naming_the_row(tmp_path, smalgo_bin):
    proc, url, _ = start_server(smalgo_bin, pca_model(tmp_path / "m", [[1, 1], [1, -1]]))
    try:
        body = json.dumps({"instances": [{"features": [1, 2]}, {"features": [2, 1]},
                                         {"features": [3.4e38, 3.4e38]}]})
        r = requests.post(url + "/invocations", data=body, timeout=10,
                          headers={"Content-Type": "application/json",
                                   "Accept": "application/json"})
        assert r.status_code == 400, r.text
        assert "row 3 of the request: projection overflows float32" in r.json()["error"]
    finally:
        stop(proc)


# ---- point 6: Pipe mode, a writer that stalls or never writes ----------------------------

class StallingWriter:
    """Opens the FIFO for writing (a real writer, in a thread), writes `data`, then holds the
    write end open without writing for `hold` seconds."""

    def __init__(self, path, data, hold):
        import threading
        os.mkfifo(path)
        self.path, self.data, self.hold = path, data, hold
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        fd = open_writer(self.path, 30)
        if fd is None:
            return
        try:
            view = memoryview(self.data)
            while len(view):
                view = view[os.write(fd, view):]
            self.done.wait(self.hold)
        except BrokenPipeError:
            pass
        finally:
            os.close(fd)

    def stop(self):
        self.done.set()
        self.thread.join(10)


def pipe_job(ml_root):
    setup_job(ml_root, KM, content_type=CSV, mode="Pipe")
    rows = np.random.default_rng(0).normal(size=(20000, 8))
    return "".join(",".join(f"{v:.5f}" for v in r) + "\n" for r in rows).encode()


def test_pipe_writer_that_stalls_after_1mib_times_out_from_the_last_byte(ml_root, smalgo_bin):
    data = pipe_job(ml_root)
    assert len(data) > (1 << 20)
    writer = StallingWriter(ml_root.fifo("train"), data[:1 << 20], hold=60)
    try:
        t0 = time.time()
        r = train(smalgo_bin, ml_root, env={"SMALGO_PIPE_STALL_TIMEOUT": "0.5"}, timeout=60)
        elapsed = time.time() - t0
    finally:
        writer.stop()
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and "the writer stalled: no data for 0.5 s after 1048576 bytes" \
        in first, first
    assert elapsed < 30  # not the 60 s the writer holds on


def test_pipe_writer_that_opens_and_never_writes_is_named_as_such(ml_root, smalgo_bin):
    pipe_job(ml_root)
    writer = StallingWriter(ml_root.fifo("train"), b"", hold=60)
    try:
        r = train(smalgo_bin, ml_root, env={"SMALGO_PIPE_TIMEOUT_MS": "1000"}, timeout=60)
    finally:
        writer.stop()
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and "a writer opened it but wrote nothing" in first, first


def test_pipe_fifo_without_writer_is_named_as_such(ml_root, smalgo_bin):
    pipe_job(ml_root)
    os.mkfifo(ml_root.fifo("train"))
    r = train(smalgo_bin, ml_root, env={"SMALGO_PIPE_TIMEOUT_MS": "500"}, timeout=60)
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and "it exists but no writer opened it" in first, first


def test_pipe_stall_timeout_setting_is_checked(ml_root, smalgo_bin):
    pipe_job(ml_root)
    r = train(smalgo_bin, ml_root, env={"SMALGO_PIPE_STALL_TIMEOUT": "soon"})
    first = ml_root.failure.read_text().splitlines()[0]
    assert r.returncode != 0 and "SMALGO_PIPE_STALL_TIMEOUT='soon'" in first, first


# ---- point 7: what the failure file says after a late stop or a dead rank -----------------

def test_sigterm_while_scoring_test_channel_writes_the_complete_model(ml_root, smalgo_bin):
    """The test channel is a FIFO whose writer sends a little and stalls, so the job is
    scoring it when SIGTERM arrives. The test channel is scored before the model is
    written (a bad one must leave none), so no model exists yet; a stop still saves the
    complete model, as SageMaker gives a stopped job time to, and says so."""
    from smgkit.mlroot import channel
    setup_job(ml_root, KM, content_type=CSV)
    ml_root.write_inputdataconfig({"train": channel(CSV), "test": channel(CSV, "Pipe")})
    blobs_csv(ml_root)
    writer = StallingWriter(ml_root.fifo("test"), b"1,2,3,4,5,6,7,8\n" * 10, hold=60)
    proc = subprocess.Popen([str(smalgo_bin), "train", "--ml-root", str(ml_root.root)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, log = time.time() + 30, []
        for line in proc.stdout:  # the job ends (EOF) if it fails, so this loop does too
            log.append(line)
            if "train msd" in line:
                break
            assert time.time() < deadline, "".join(log)
        assert proc.poll() is None, "".join(log)
        time.sleep(0.3)
        assert not ml_root.model_file().exists(), "the model was written before scoring"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        writer.stop()
        if proc.poll() is None:
            proc.kill()
    first = ml_root.failure.read_text().splitlines()[0]
    assert proc.returncode != 0
    assert "no model was written" not in first, first
    assert "after the model was written to" in first and "(it is complete)" in first, first
    assert ndarray.read(ml_root.model_file())[0][0].shape == (3, 8)
    assert "test msd" not in out


def rank_pids(ml_root):
    """{rank: pid} of the smalgo processes mpirun started on this ML root."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
            env = open(f"/proc/{entry}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if str(ml_root.root).encode() not in cmd or b"train" not in cmd or b"mpirun" in cmd[0]:
            continue
        for var in env:
            if var.startswith(b"OMPI_COMM_WORLD_RANK="):
                found[int(var.split(b"=")[1])] = int(entry)
    return found


def test_kill_9_of_one_mpi_rank_names_it_in_the_failure_file(ml_root, smalgo_bin):
    from smgkit.mpi import MPI_ENV, have_mpirun, mpirun
    if not have_mpirun():
        pytest.skip("mpirun not installed")
    setup_job(ml_root, dict(KM, epochs="1000000"), content_type=CSV)
    blobs_csv(ml_root, n=2000)
    blobs_csv(ml_root, n=2000, seed=4, channel_name="train/more")
    cmd = mpirun(2, [smalgo_bin, "train", "--ml-root", ml_root.root])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, **MPI_ENV))
    try:
        lines, deadline = [], time.time() + 60
        for line in proc.stdout:  # rank 0 logs each epoch: both ranks are training
            lines.append(line)
            if "epoch 3:" in line:
                break
            assert time.time() < deadline, "".join(lines)
        pids = rank_pids(ml_root)
        assert set(pids) == {0, 1}, pids
        os.kill(pids[1], signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=20)
    assert proc.returncode != 0
    first = ml_root.failure.read_text().splitlines()[0]
    assert first == (f"AlgorithmError: rank 1 (pid {pids[1]} on host algo-1) ended unexpectedly "
                     "(killed or crashed) and mpirun stopped the other ranks; the job did not "
                     "finish"), first


# ---- point 2: memory per request, streamed answers, /ping under load ---------------------

def vm_hwm_bytes(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def bodies_at_the_limit(limit):
    """Request bodies just under `limit` bytes for a 1-feature model, the most rows per byte."""
    csv = b"1\n" * (limit // 2 - 1)
    js = json.dumps({"instances": [[1]] * (limit // 4)}).encode()
    js = json.dumps({"instances": [[1]] * int(limit // 4 * limit / len(js) * 0.99)}).encode()
    rows = json.dumps({"features": [1]}).encode() + b"\n"
    jsl = rows * (limit // len(rows) - 1)
    return {"text/csv": csv, "application/json": js, "application/jsonlines": jsl}


def test_memory_per_request_is_at_most_4x_the_payload_limit(tmp_path, smalgo_bin):
    mb = 6
    limit = mb << 20
    proc, url, _ = start_server(smalgo_bin, kmeans_model(tmp_path / "m", [[0.0], [5.0]]),
                                env={"SAGEMAKER_MAX_PAYLOAD_IN_MB": str(mb)})
    try:
        s = requests.Session()
        s.post(url + "/invocations", data=b"1\n2\n", headers={"Content-Type": "text/csv"},
               timeout=10)
        base = vm_hwm_bytes(proc.pid)
        for ctype, body in bodies_at_the_limit(limit).items():
            assert len(body) <= limit
            r = s.post(url + "/invocations", data=body, timeout=300,
                       headers={"Content-Type": ctype, "Accept": "application/json"})
            assert r.status_code == 200, r.text[:200]
            # A 6 MB body of one-feature rows answers ~160 MB of JSON: streamed, not held.
            if ctype == "text/csv":
                assert len(r.content) > 20 * len(body)
                assert r.json()["predictions"][-1] == {"closest_cluster": 0.0,
                                                       "distance_to_cluster": 1.0}
            peak = vm_hwm_bytes(proc.pid) - base
            print(f"{ctype}: body {len(body) >> 20} MB, answer {len(r.content) >> 20} MB, "
                  f"peak above idle {peak / 2**20:.1f} MB")
            assert peak <= 4 * limit, (ctype, peak)
    finally:
        stop(proc)


def test_ping_is_answered_while_scoring_threads_are_saturated(tmp_path, smalgo_bin):
    """Four clients keep both scoring threads busy with maximum-size requests (20 MB, each
    seconds of scoring against 1000 centers) while /ping is timed. Before the scoring pool,
    /ping waited behind them for seconds. The bound here is loose because the test machine may
    be shared; the figures are printed."""
    mb, d = 20, 10
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(1000, d))
    proc, url, _ = start_server(smalgo_bin, kmeans_model(tmp_path / "m", centers), threads=2,
                                env={"SAGEMAKER_MAX_PAYLOAD_IN_MB": str(mb)})
    body = tmp_path / "body.csv"
    row = b",".join(b"%.4f" % v for v in rng.normal(size=d)) + b"\n"
    body.write_bytes(row * ((mb << 20) // len(row) - 1))
    loaders, lat = [], []
    try:
        for _ in range(4):
            loaders.append(subprocess.Popen(
                ["sh", "-c", "for i in 1 2; do curl -s -o /dev/null -H 'Content-Type: text/csv' "
                 f"--data-binary @{body} {url}/invocations; done"]))
        s = requests.Session()
        deadline = time.time() + 240
        while any(p.poll() is None for p in loaders) and time.time() < deadline:
            t = time.time()
            assert s.get(url + "/ping", timeout=10).status_code == 200
            lat.append(time.time() - t)
            time.sleep(0.01)
    finally:
        for p in loaders:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=20)
        stop(proc)
    lat.sort()
    p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"/ping under load: {len(lat)} pings, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"max {lat[-1] * 1000:.1f} ms")
    assert len(lat) >= 50 and p50 < 0.1 and p99 < 1.0
