#!/usr/bin/env python3
"""Memory and CPU of `smalgo serve` on one sparse request at d = 100,000 (a benchmark, not a test).

Trains a k-means model (k=4) with `smalgo train` on sparse recordIO-protobuf
written by the SDK's write_spmatrix_to_sparse_tensor (d = 100,000, 0.02% of the
values stored), then sends one sparse request of --rows rows written the same
way to each server binary given, at each payload limit given. Prints, per
server and limit: the HTTP status (and error), the server's peak RSS (VmHWM,
/proc/<pid>/status) before and after the request, and the server's CPU time
(user + sys, /proc/<pid>/stat) spent on it. Each run starts a fresh server.

    python3 benchmarks/bench_serve_sparse.py [--bin build/runtime/smalgo]
        [--baseline OTHER_SMALGO] [--rows 2000] [--payload-mb 6,1000] [--runs 3]

A server that densifies requests holds rows x d x 4 bytes (800 MB at the
defaults) once its payload limit lets the request through.
"""
import argparse
import json
import os
import pathlib
import subprocess
import tempfile
import time

import numpy as np
import requests
import scipy.sparse as sp

import common  # noqa: F401  (puts tests/kit on sys.path)
from smgkit import paths
from smgkit.mlroot import RECORDIO, MLRoot, setup_job
from smgkit.net import free_port
from smgkit.payloads import sdk_sparse

D = 100_000


def sparse_rows(n, seed):
    rng = np.random.default_rng(seed)
    m = sp.random(n, D, density=0.0002, format="csr", dtype=np.float32, random_state=rng)
    m.data = (m.data * 4 - 2).astype(np.float32)
    return m


def proc_figures(pid):
    """(CPU seconds, VmHWM bytes) of a live process."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return cpu, int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def one_run(binary, model_dir, body, payload_mb):
    port = free_port()
    p = subprocess.Popen([binary, "serve", "--model-dir", str(model_dir), "--bind", "127.0.0.1",
                          "--port", str(port), "--threads", "1"],
                         env={**os.environ, "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(payload_mb)},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if requests.get(url + "/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        cpu0, hwm0 = proc_figures(p.pid)
        r = requests.post(url + "/invocations", data=body, timeout=600,
                          headers={"Content-Type": RECORDIO, "Accept": "application/json"})
        cpu1, hwm1 = proc_figures(p.pid)
        return {"status": r.status_code, "error": r.json()["error"] if r.status_code != 200 else "",
                "vmhwm_before_mb": round(hwm0 / 1e6, 1), "vmhwm_after_mb": round(hwm1 / 1e6, 1),
                "server_cpu_s": round(cpu1 - cpu0, 2)}
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(paths.smalgo_bin()))
    ap.add_argument("--baseline", help="another smalgo binary to measure the same way")
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--payload-mb", default="6,1000")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = MLRoot(pathlib.Path(tmp) / "ml")
        setup_job(root, {"k": 4, "feature_dim": D, "mini_batch_size": 500}, RECORDIO, "File")
        (root.channel_dir("train") / "part-00.pbr").write_bytes(sdk_sparse(sparse_rows(1500, 5)))
        subprocess.run([args.bin, "train", "--ml-root", str(root.root), "--algorithm", "kmeans"],
                       check=True, capture_output=True)
        q = sparse_rows(args.rows, 6)
        body = sdk_sparse(q)
        print(json.dumps({"rows": args.rows, "d": D, "stored_values": int(q.nnz),
                          "body_bytes": len(body), "dense_bytes": args.rows * D * 4}))
        servers = [("smalgo", args.bin)] + ([("baseline", args.baseline)] if args.baseline else [])
        for run in range(args.runs):
            for name, binary in servers:
                for mb in args.payload_mb.split(","):
                    print(json.dumps({"run": run, "server": name, "payload_mb": int(mb),
                                      **one_run(binary, root.model, body, int(mb))}), flush=True)


if __name__ == "__main__":
    main()
