#!/usr/bin/env python3
"""Load benchmark of `smalgo serve` with wrk (a benchmark, not a test).

Serves a synthetic k-means model (k=10, d=16 by default; float32 NDArray list
file written here) and drives POST /invocations over keep-alive connections
with wrk at several concurrency levels, for a single-row CSV request and a
1000-row CSV request. Prints requests/s, rows/s, p50/p99 latency and the error
count for each run (wrk's "Non-2xx" and socket errors; both must be 0).

    python3 benchmarks/bench_serve.py [--bin build/runtime/smalgo] [--duration 5]
        [--connections 1,4,16,64] [--threads 2] [--k 10] [--d 16]

Needs wrk (Debian: apt-get install wrk). The server and wrk share this
machine's CPUs, so the figures are a floor for what the server does alone.
"""
import argparse
import os
import pathlib
import re
import signal
import subprocess
import tempfile
import time
import urllib.request

import numpy as np

import common  # noqa: F401  (puts tests/kit on sys.path)
from smgkit import ndarray, paths
from smgkit.net import free_port


def write_kmeans_model(path, centroids):
    """MXNet NDArray list file (one unnamed float32 (k, d) array)."""
    ndarray.write(path, [centroids])


def to_us(value, unit):
    return float(value) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]


def run_wrk(url, body_path, ctype, connections, duration, wrk_threads):
    script = pathlib.Path(body_path).with_suffix(".lua")
    script.write_text(
        'wrk.method = "POST"\n'
        f'local f = io.open("{body_path}", "rb")\n'
        "wrk.body = f:read(\"*a\")\nf:close()\n"
        f'wrk.headers["Content-Type"] = "{ctype}"\n')
    out = subprocess.run(["wrk", "-t", str(min(wrk_threads, connections)), "-c",
                          str(connections), "-d", f"{duration}s", "--latency", "-s", str(script),
                          url + "/invocations"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: to_us(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out,
                                                    re.M)}
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(g) for g in m.groups())
    return rps, lat.get("50"), lat.get("99"), errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=paths.smalgo_bin())
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", default="1,4,16,64")
    ap.add_argument("--threads", type=int, default=2, help="server worker threads")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--rows", type=int, default=1000)
    args = ap.parse_args()

    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "model").mkdir()
        write_kmeans_model(tmp / "model" / "model_algo-1",
                           rng.standard_normal((args.k, args.d)).astype(np.float32))
        bodies = {}
        for rows in (1, args.rows):
            x = rng.standard_normal((rows, args.d)).astype(np.float32)
            p = tmp / f"body_{rows}.csv"
            p.write_text("\n".join(",".join("%.7g" % v for v in r) for r in x) + "\n")
            bodies[rows] = p
        port = free_port()
        proc = subprocess.Popen([str(args.bin), "serve", "--model-dir", str(tmp / "model"),
                                 "--bind", "127.0.0.1", "--port", str(port), "--threads",
                                 str(args.threads)], stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(url + "/ping", timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
            print(f"smalgo serve: k-means k={args.k} d={args.d}, {args.threads} server threads, "
                  f"{os.cpu_count()} CPUs, wrk {args.duration}s per run, CSV in, JSON out")
            print(f"{'rows/req':>8} {'conns':>5} {'req/s':>10} {'rows/s':>12} {'p50 us':>9} "
                  f"{'p99 us':>9} {'errors':>6}")
            for rows, path in bodies.items():
                for c in (int(v) for v in args.connections.split(",")):
                    rps, p50, p99, errors = run_wrk(url, path, "text/csv", c, args.duration,
                                                    args.wrk_threads)
                    print(f"{rows:>8} {c:>5} {rps:>10.0f} {rps * rows:>12.0f} {p50:>9.0f} "
                          f"{p99:>9.0f} {errors:>6}", flush=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
