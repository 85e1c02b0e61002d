#!/usr/bin/env python3
"""S3 in, three ways, side by side in one run against one loopback S3 server.

  pipe      `smalgo pipe --channel train=s3://...` streaming the prefix into a
            FIFO while `smalgo train` (Pipe mode, k-means, 1 epoch) reads it:
            one step from S3 to a model;
  boto3     the user's alternative: download the prefix with boto3
            (download_file, its default multi-threaded transfer) to local disk,
            then train in File mode; both steps timed;
  local     File mode from local disk, the data already there (the ceiling).

Then the memory check: `smalgo pipe` streaming 1 GiB and 4 GiB (x --scale)
into a FIFO drained by a reader (a manifest naming one 256 MiB object 4 and
16 times); its peak RSS must not grow with the bytes streamed. And the resume
check: a 1 GiB object through a fault proxy (tests/kit/smgkit/faultproxy.py)
that resets the connection half-way through the part holding the object's
middle; the bytes fetched twice are counted.

Server: moto's server mode on 127.0.0.1 (in-memory; s3s-fs re-reads the
whole file for every ranged GET, which makes it the bottleneck). Uploads are
not timed. smalgo and boto3 both use their defaults except the part size:
SMALGO_S3_PART_MB=64 here (moto's cost is per request). Figures are medians
of --repeats runs; the machine is shared, so the ratios (taken within one run)
matter more than absolute MB/s. Writes benchmarks/results/s3.json and prints
a table.

    python benchmarks/bench_s3.py [--scale 1] [--repeats 3] [--mib 256]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "kit"))
import common  # noqa: E402
from common import log, median  # noqa: E402
from smgkit import paths  # noqa: E402
from smgkit.faultproxy import FaultProxy  # noqa: E402
from smgkit.mlroot import MLRoot, channel  # noqa: E402
from smgkit.mpi import MPI_ENV  # noqa: E402
from smgkit.s3servers import S3Server, clean_env, s3_env  # noqa: E402

HP = {"k": "10", "feature_dim": "17", "mini_batch_size": "5000", "epochs": "1"}
RECORDIO = "application/x-recordio-protobuf"
BUCKET = "bench"


def make_shards(work, mib, smalgo):
    """Dense recordIO shards of about mib MiB (17 float32 features, as the taxi data)."""
    import numpy as np
    rows = int(mib * (1 << 20) / 100)  # ~100 bytes a record
    shards = max(4, int(mib // 32))
    x = np.random.default_rng(2015).normal(size=(rows, 17)).astype(np.float32)
    npy = os.path.join(work, "x.npy")
    np.save(npy, x)
    out = os.path.join(work, "shards")
    subprocess.run([smalgo, "convert", "--input", npy, "--output", out, "--shards",
                    str(shards)], check=True, capture_output=True)
    os.unlink(npy)
    return out


def new_root(work, name, mode):
    root = MLRoot(os.path.join(work, name))
    root.write_hyperparameters(HP)
    root.write_inputdataconfig({"train": channel(RECORDIO, mode)})
    root.write_resourceconfig()
    return root


def train_cmd(smalgo, root):
    return [smalgo, "train", "--ml-root", str(root.root), "--algorithm", "kmeans"]


def run_pipe(smalgo, work, env, i):
    root = new_root(work, f"pipe{i}", "Pipe")
    t0 = time.monotonic()
    feeder = subprocess.Popen([smalgo, "pipe", "--dir", str(root.data), "--channel",
                               f"train=s3://{BUCKET}/shards/", "--epochs", "1", "--quiet"],
                              env=env)
    child = common.run(train_cmd(smalgo, root), env={**env, **MPI_ENV}).check()
    elapsed = time.monotonic() - t0
    if feeder.wait(60) != 0:
        raise RuntimeError("smalgo pipe failed")
    return elapsed, child.maxrss_mb


def run_boto3(server, smalgo, work, env, i):
    client = server.client()
    root = new_root(work, f"boto{i}", "File")
    dest = root.channel_dir("train")
    t0 = time.monotonic()
    for obj in client.list_objects_v2(Bucket=BUCKET, Prefix="shards/")["Contents"]:
        client.download_file(BUCKET, obj["Key"], str(dest / os.path.basename(obj["Key"])))
    t_dl = time.monotonic() - t0
    common.run(train_cmd(smalgo, root), env={**env, **MPI_ENV}).check()
    return t_dl, time.monotonic() - t0


def run_local(smalgo, work, shards, env, i):
    root = new_root(work, f"local{i}", "File")
    for f in os.listdir(shards):
        os.link(os.path.join(shards, f), root.channel_dir("train") / f)
    t0 = time.monotonic()
    common.run(train_cmd(smalgo, root), env={**env, **MPI_ENV}).check()
    return time.monotonic() - t0


def drain(path, counter):
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return
            counter[0] += len(b)


def stream_rss(smalgo, work, uri, env):
    """smalgo pipe's peak RSS (MiB) and wall time streaming uri into a drained FIFO."""
    d = tempfile.mkdtemp(dir=work)
    handle = common.start([smalgo, "pipe", "--dir", d, "--channel", f"train={uri}",
                           "--epochs", "1", "--quiet"], env=env)
    fifo = os.path.join(d, "train_0")
    deadline = time.time() + 60
    while not os.path.exists(fifo) and time.time() < deadline:
        time.sleep(0.01)
    got = [0]
    t = threading.Thread(target=drain, args=(fifo, got))
    t.start()
    child = common.finish(handle).check()
    t.join()
    return child.maxrss_mb, child.wall_s, got[0]


def put_object(client, work, key, mib):
    """An object of mib MiB of random bytes (uploaded from a scratch file)."""
    path = os.path.join(work, "object.bin")
    with open(path, "wb") as f:
        for _ in range(int(mib)):
            f.write(os.urandom(1 << 20))
    client.upload_file(path, BUCKET, key)
    os.unlink(path)
    return int(mib) << 20


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--mib", type=int, default=256, help="training data size at scale 1")
    p.add_argument("--results", default=os.path.join(HERE, "results"))
    a = p.parse_args()
    smalgo = str(paths.smalgo_bin())
    common.SPAWN = os.environ.get("SMALGO_BENCH_SPAWN",
                                  os.path.join(HERE, "..", "build", "benchmarks", "bench_spawn"))
    work = tempfile.mkdtemp(prefix="smg_bench_s3_")
    server = S3Server("moto", work)
    try:
        client = server.client()
        client.create_bucket(Bucket=BUCKET)
        mib = int(a.mib * a.scale)
        shards = make_shards(work, mib, smalgo)
        for f in sorted(os.listdir(shards)):
            client.upload_file(os.path.join(shards, f), BUCKET, "shards/" + f)
        nbytes = sum(os.path.getsize(os.path.join(shards, f)) for f in os.listdir(shards))
        env = clean_env(s3_env(server.endpoint, SMALGO_S3_PART_MB=64))
        log(f"moto on {server.endpoint}; {nbytes / 2**20:.0f} MiB in "
            f"{len(os.listdir(shards))} shards; {a.repeats} repeats")
        pipe_s, pipe_rss, boto_dl, boto_total, local_s = [], [], [], [], []
        for i in range(a.repeats):
            s, rss = run_pipe(smalgo, work, env, i)
            pipe_s.append(s)
            pipe_rss.append(rss)
            dl, total = run_boto3(server, smalgo, work, env, i)
            boto_dl.append(dl)
            boto_total.append(total)
            local_s.append(run_local(smalgo, work, shards, env, i))
            log(f"run {i}: pipe {s:.1f} s, boto3 download {dl:.1f} s (+train {total:.1f} s), "
                f"local {local_s[-1]:.1f} s")
        mb = nbytes / 1e6
        res = {"env": common.env_record(), "bytes": nbytes, "repeats": a.repeats,
               "server": "moto", "part_mb": 64,
               "pipe_train_s": median(pipe_s), "boto3_download_s": median(boto_dl),
               "boto3_download_then_train_s": median(boto_total),
               "local_file_train_s": median(local_s),
               "pipe_train_MBps": mb / median(pipe_s), "boto3_download_MBps": mb / median(boto_dl),
               "local_file_train_MBps": mb / median(local_s), "train_peak_rss_mb": median(pipe_rss)}
        one = put_object(client, work, "big", 256 * a.scale)
        rss = []
        for times in (4, 16):
            client.put_object(Bucket=BUCKET, Key=f"x{times}.manifest", Body=json.dumps(
                [{"prefix": f"s3://{BUCKET}/"}] + ["big"] * times).encode())
            mb_rss, wall, got = stream_rss(smalgo, work, f"s3://{BUCKET}/x{times}.manifest", env)
            assert got == one * times, (got, one * times)
            rss.append({"gib": got / 2**30, "pipe_peak_rss_mb": mb_rss, "MBps": got / 1e6 / wall})
            log(f"{got / 2**30:g} GiB streamed: smalgo pipe peak RSS {mb_rss:.1f} MiB, "
                f"{got / 1e6 / wall:.0f} MB/s")
        res["stream_rss"] = rss
        size = put_object(client, work, "reset", 1024 * a.scale)
        middle_part = (size // 2) // (64 << 20)
        proxy = FaultProxy(server.port, ["pass"] * middle_part + ["reset:0.5"],
                           match=f"GET /{BUCKET}/reset")
        try:
            _, _, got = stream_rss(smalgo, work, f"s3://{BUCKET}/reset",
                                   clean_env(s3_env(proxy.endpoint, SMALGO_S3_PART_MB=64)))
        finally:
            proxy.stop()
        gets = [e for e in proxy.requests() if e[1].startswith(f"/{BUCKET}/reset")]
        relayed = sum(e[3] for e in gets)
        assert got == size
        res["reset_1gib"] = {"bytes_delivered": got, "bytes_served": relayed,
                             "bytes_fetched_twice": relayed - size, "requests": len(gets),
                             "ranges": [e[2] for e in gets]}
        log(f"{size / 2**30:g} GiB with a reset in the middle: {relayed - size} bytes fetched "
            f"twice; ranges {[e[2] for e in gets]}")
        common.write_json(os.path.join(a.results, "s3.json"), res)
        print(summary(res))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def summary(r):
    lines = ["| S3 -> model, %.0f MiB, k-means 1 epoch (median of %d) | time (s) | MB/s |"
             % (r["bytes"] / 2**20, r["repeats"]), "| --- | ---: | ---: |",
             "| smalgo pipe s3:// -> train (Pipe mode) | %.1f | %.0f |"
             % (r["pipe_train_s"], r["pipe_train_MBps"]),
             "| boto3 download alone | %.1f | %.0f |"
             % (r["boto3_download_s"], r["boto3_download_MBps"]),
             "| boto3 download, then train (File mode) | %.1f | |" % r["boto3_download_then_train_s"],
             "| File mode, data already on local disk | %.1f | %.0f |"
             % (r["local_file_train_s"], r["local_file_train_MBps"]), "",
             "| object streamed by smalgo pipe | peak RSS (MiB) | MB/s |", "| --- | ---: | ---: |"]
    for s in r["stream_rss"]:
        lines.append("| %g GiB | %.1f | %.0f |" % (s["gib"], s["pipe_peak_rss_mb"], s["MBps"]))
    z = r["reset_1gib"]
    lines.append("")
    lines.append("%.2g GiB object, connection reset in the middle: %d bytes fetched twice "
                 "(of %d), %d requests" % (z["bytes_delivered"] / 2**30, z["bytes_fetched_twice"],
                                           z["bytes_delivered"], z["requests"]))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
