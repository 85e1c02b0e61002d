"""FIFO and Pipe-mode throughput: `smalgo pipe` writing, the C reader reading.

    SMALGO_BIN=build/runtime/smalgo BENCH_FIFO_BIN=build/benchmarks/bench_fifo \
        python benchmarks/bench_fifo.py [--runs 5] [--gib 4]

Measures, median of --runs:
  raw      bytes from `smalgo pipe` (splice from the page cache) into 1 MiB
           reads of the FIFO (the reader sets F_SETPIPE_SZ to 1 MiB);
  channel  a recordIO-protobuf stream (dense float32, feature_dim 16, as the
           SageMaker SDK writes it) read end to end in Pipe mode through the
           channel (read-ahead thread, decode, batches of 1000), at 1 GiB and
           at --gib GiB, with the reader's peak RSS.
Data: one 256 MiB file built by repeating SDK-written records, linked 4 or 16
times into the channel folder; everything lives in a temporary folder that is
deleted at the end.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (puts tests/kit on sys.path)
from smgkit import paths

SMALGO = str(paths.smalgo_bin())
BENCH = os.environ.get("BENCH_FIFO_BIN", str(paths.bench_bin("bench_fifo")))
PIECE = 256 << 20


def make_piece(path):
    import numpy as np
    from smgkit.payloads import sdk_dense

    rng = np.random.default_rng(0)
    block = sdk_dense(rng.standard_normal((20000, 16)).astype(np.float32))
    with open(path, "wb") as f:
        written = 0
        while written + len(block) <= PIECE:
            f.write(block)
            written += len(block)
    return written


def run_once(tmp, src, mode):
    data = tmp / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir()
    agent = subprocess.Popen([SMALGO, "pipe", "--dir", str(data), "--channel", f"train={src}",
                              "--epochs", "1", "--quiet"])
    if mode == "raw":
        cmd = [BENCH, "raw", str(data / "train_0")]
    else:
        cmd = [BENCH, "channel", str(data), "train", "16", "1000"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    agent.wait(timeout=60)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {out.stderr}")
    return dict(kv.split("=") for kv in out.stdout.split())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--gib", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="smg_bench_fifo_"))
    try:
        piece = tmp / "piece.pbr"
        size = make_piece(piece)
        for gib in sorted({1, args.gib}):
            src = tmp / f"src{gib}"
            src.mkdir()
            n = max(1, round((gib << 30) / size))
            for i in range(n):
                os.symlink(piece, src / f"part-{i:03d}")
            for mode in ("raw", "channel"):
                if mode == "raw" and gib != args.gib:
                    continue
                runs = [run_once(tmp, src, mode) for _ in range(args.runs)]
                gbps = statistics.median(float(r["gbps"]) for r in runs)
                rss = max(float(r["maxrss_mib"]) for r in runs)
                print(f"{mode:8s} {n * size / 2**30:5.2f} GiB: median {gbps:.2f} GB/s over "
                      f"{args.runs} runs (all: {', '.join(r['gbps'] for r in runs)}), "
                      f"peak RSS {rss:.0f} MiB", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
