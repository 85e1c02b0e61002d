"""Benchmark: what checkpoints cost (issue 15).

For k-means at k=10/d=16 (taxi-like data, 3 epochs) and k=500/d=784 (blobs
in 784 dimensions; extra_center_factor 2 and one 10-iteration shrink trial
keep the run short, the checkpoint is the same size), and regular
PCA at d=16 and d=784, on one File-mode rank:
  - wall time of `smalgo train` without checkpoints, with checkpoints at the
    default interval (max(60 s, 100 x the last write): a short job writes
    only its final DONE checkpoint, plus the per-mini-batch poll), and with
    SMALGO_CHECKPOINT_INTERVAL_S=1 (a periodic checkpoint every second);
    medians of --repeats runs, each configuration run in turn so machine noise
    spreads over all of them;
  - the size of one checkpoint file and its write time (from the job's log).

Usage: python benchmarks/bench_checkpoint.py [--repeats R] [--json PATH]
Environment: SMALGO_BIN (default build/runtime/smalgo). The machine may be
shared: compare the ratios, not the absolute seconds.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import common  # noqa: F401  (puts tests/kit on sys.path)
import taxi_gen
from smgkit import paths
from smgkit.mlroot import MLRoot, setup_job
from smgkit.payloads import write_parts

CASES = [
    ("kmeans k=10 d=16", "kmeans", 16, 1_000_000,
     {"k": "10", "feature_dim": "16", "mini_batch_size": "5000", "epochs": "3"}),
    ("kmeans k=500 d=784", "kmeans", 784, 20_000,
     {"k": "500", "feature_dim": "784", "mini_batch_size": "1000", "epochs": "1",
      "extra_center_factor": "2", "local_lloyd_num_trials": "1", "local_lloyd_max_iter": "10"}),
    ("pca d=16", "pca", 16, 1_000_000,
     {"num_components": "5", "feature_dim": "16", "mini_batch_size": "5000"}),
    ("pca d=784", "pca", 784, 20_000,
     {"num_components": "50", "feature_dim": "784", "mini_batch_size": "5000"}),
]
MODES = [("none", None), ("default", ""), ("every 1 s", "1")]


def rows_for(d, n):
    if d == 16:
        return taxi_gen.generate(0, n)[:, :16].astype(np.float32)
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 255, size=(50, d))
    return (centres[rng.integers(0, 50, size=n)] + rng.normal(scale=20, size=(n, d))).astype(
        np.float32)


def run(smalgo, root, algo, ckpt_dir, interval):
    env = dict(os.environ)
    env.pop("SMALGO_CHECKPOINT_INTERVAL_S", None)
    env.pop("SMALGO_CHECKPOINT_DIR", None)
    cmd = [smalgo, "train", "--ml-root", str(root), "--algorithm", algo]
    if interval is not None:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
        cmd += ["--checkpoint-dir", str(ckpt_dir)]
        if interval:
            env["SMALGO_CHECKPOINT_INTERVAL_S"] = interval
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit("bench_checkpoint: %s failed:\n%s" % (" ".join(cmd), proc.stdout[-3000:]))
    writes = [float(m) for m in re.findall(r"checkpoint \d+ written: .* in ([\d.]+) s",
                                           proc.stdout + proc.stderr)]
    sizes = []
    if interval is not None:
        sizes = [p.stat().st_size for p in pathlib.Path(ckpt_dir).glob("*.ckpt")]
    return wall, writes, sizes


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    smalgo = str(paths.smalgo_bin())
    out = []
    with tempfile.TemporaryDirectory(prefix="bench_ckpt_") as tmp:
        for name, algo, d, n, hp in CASES:
            root = MLRoot(pathlib.Path(tmp) / name.replace(" ", "_").replace("=", ""))
            setup_job(root, hp)
            write_parts(root.channel_dir("train"), rows_for(d, n), 4)
            times = {m: [] for m, _ in MODES}
            writes, sizes, counts = [], [], {m: [] for m, _ in MODES}
            for _ in range(a.repeats):
                for mode, interval in MODES:
                    wall, w, s = run(smalgo, root.root, algo, pathlib.Path(tmp) / "ck", interval)
                    times[mode].append(wall)
                    counts[mode].append(len(w))
                    writes += w
                    sizes += s
            med = {m: statistics.median(v) for m, v in times.items()}
            row = {"case": name, "rows": n, "median_wall_s": med,
                   "overhead_default": med["default"] / med["none"] - 1.0,
                   "overhead_every_1s": med["every 1 s"] / med["none"] - 1.0,
                   "checkpoints_per_run": {m: statistics.median(v) for m, v in counts.items()},
                   "checkpoint_bytes": max(sizes) if sizes else 0,
                   "median_write_s": statistics.median(writes) if writes else None}
            out.append(row)
            print("%-20s rows %9d  none %.3f s  default %.3f s (%+.1f%%, %g ckpt)  every 1 s "
                  "%.3f s (%+.1f%%, %g ckpt)  size %.2f MB  write %.3f s" %
                  (name, n, med["none"], med["default"], 100 * row["overhead_default"],
                   row["checkpoints_per_run"]["default"], med["every 1 s"],
                   100 * row["overhead_every_1s"], row["checkpoints_per_run"]["every 1 s"],
                   row["checkpoint_bytes"] / 1e6, row["median_write_s"] or 0.0), flush=True)
    result = {"cases": out, "repeats": a.repeats, "loadavg_at_end": list(os.getloadavg()),
              "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
