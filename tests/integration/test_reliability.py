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
