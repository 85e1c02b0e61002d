#!/usr/bin/env python3
"""The "real data" part of `make bench`: NYC TLC yellow-taxi trips.

Data: the 2015-01 … 2016-06 files of ../shared/data/nyc-taxi (430,662 real
trips; read in place, never copied into the project). When that folder is
absent the part is skipped with a message and real.json says why.

What it does, in one run:
  convert  `smalgo convert --header --columns <16 numeric> --skip-bad-rows`
           on each month: the 16 numeric columns (the two datetimes and
           store_and_fwd_flag are dropped), as a user holding the TLC files
           would. Dirty rows are kept as published (pickups at (0, 0),
           negative fares, zero passengers): they are real, and SageMaker
           would see them too. Only the map below leaves out trips outside
           the NYC box.
  peers    smalgo PCA (regular, 5 components) and k-means (k=10, 1 epoch)
           against scikit-learn PCA / IncrementalPCA / KMeans /
           MiniBatchKMeans, faiss.Kmeans and scikit-learn-intelex, on the
           same rows (peers.py, each in its own process): time and quality
           (explained variance, msd), at 1x (the real rows) and 4x (real rows
           resampled with replacement plus a small jitter: 1% of each
           column's standard deviation, so no row repeats exactly).
  scaling  smalgo with SMALGO_THREADS=1 and 2 in the same run, alternating,
           medians of --repeats: k-means (d=16, 4x), PCA d=16 (4x), PCA
           d=316 (200,000 rows: the 16 real columns and 300 random linear
           mixtures of them plus noise) and PCA d=16 on the 1x rows as CSV,
           each with smalgo's stage split from its #metrics line: read
           (wall time in file reads), decode (CPU of the reader and decode
           threads; with 2 workers a batch is decoded on 2 threads), the time
           the trainer waited for batches, compute (training) and allreduce.
           The split is printed per case and worker count.
  pictures real_kmeans_map.png: k-means (k=10) on the four coordinates of the
           trips whose pickup and drop-off lie in lon -74.3…-73.6, lat
           40.4…41.0 (the README's box; about 98% of trips), pickup centres
           and drop-off centres joined by arrows, over the pickup density.
           real_pca_variance.png: explained variance per component (PCA with
           all 16 components), smalgo against scikit-learn. real_scaling.png:
           the stage split, 1 vs 2 workers.

The machine may be shared: figures are medians and the load average is
recorded at start and end; prefer the ratios taken within one run.

    python benchmarks/bench_real.py [--results DIR] [--repeats 3] [--work DIR]
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import log, median  # noqa: E402
from smgkit import ndarray, paths  # noqa: E402
from smgkit.mlroot import RECORDIO, MLRoot, setup_job  # noqa: E402

NUMERIC16 = ["VendorID", "passenger_count", "trip_distance", "pickup_longitude",
             "pickup_latitude", "RateCodeID", "dropoff_longitude", "dropoff_latitude",
             "payment_type", "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
             "improvement_surcharge", "total_amount"]
COORDS = ["pickup_longitude", "pickup_latitude", "dropoff_longitude", "dropoff_latitude"]
BOX = (-74.3, -73.6, 40.4, 41.0)
PEERS = {"pca": ["sklearn_pca", "sklearnex_pca", "sklearn_ipca"],
         "kmeans": ["sklearn_kmeans", "sklearnex_kmeans", "sklearn_minibatch", "faiss_kmeans"]}
K, COMPONENTS, BATCH = 10, 5, 5000


def months(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if re.match(r"yellow_tripdata_201(5-\d\d|6-0[1-6])\.csv$", f))


def smalgo_env(threads=None):
    env = dict(os.environ)
    env.pop("SMALGO_THREADS", None)
    env.pop("SMALGO_DECODE_THREADS", None)  # decode threads follow the worker count
    if threads is not None:
        env["SMALGO_THREADS"] = str(threads)
    return env


class Real:
    def __init__(self, a, smalgo, work, results):
        self.a, self.smalgo, self.work, self.results = a, smalgo, work, results
        self.out = {"env": common.env_record(), "columns": NUMERIC16}

    # ---- data -----------------------------------------------------------------------
    def convert(self, files):
        dst = os.path.join(self.work, "real1x")
        os.makedirs(dst, exist_ok=True)
        recs, t_all = [], 0.0
        for f in files:
            out = os.path.join(dst, os.path.basename(f)[:-4] + ".pbr")
            c = common.run([self.smalgo, "convert", "--input", f, "--output", out, "--header",
                            "--columns", ",".join(NUMERIC16), "--skip-bad-rows"]).check()
            m = re.search(r"(\d+) rows of 16 features", c.stderr)
            sk = re.search(r"skipped (\d+) row", c.stderr)
            recs.append({"file": os.path.basename(f), "rows": int(m.group(1)),
                         "skipped": int(sk.group(1)) if sk else 0, "wall_s": c.wall_s})
            t_all += c.wall_s
        rows = sum(r["rows"] for r in recs)
        nbytes = sum(os.path.getsize(os.path.join(dst, f)) for f in os.listdir(dst))
        self.out["convert"] = {"files": recs, "rows": rows, "bytes": nbytes, "wall_s": t_all}
        log("real: converted %d months, %d rows (%d skipped), %.0f MB in %.1f s" % (
            len(files), rows, sum(r["skipped"] for r in recs), nbytes / 1e6, t_all))
        return dst

    def load(self, folder, d=16):
        import peers

        return peers.load(folder, d)

    def write_npy_shards(self, x, folder, shards=8):
        """x through `smalgo convert` (.npy in, recordIO-protobuf shards out)."""
        shutil.rmtree(folder, ignore_errors=True)
        npy = folder + ".npy"
        np.save(npy, np.ascontiguousarray(x, dtype=np.float32))
        common.run([self.smalgo, "convert", "--input", npy, "--output", folder, "--shards",
                    str(shards)]).check()
        os.unlink(npy)
        return folder

    def resample(self, x, n, seed=4):
        rng = np.random.default_rng(seed)
        y = x[rng.integers(0, len(x), n)].astype(np.float64)
        y += rng.normal(size=y.shape) * (0.01 * x.std(axis=0, dtype=np.float64))
        return y.astype(np.float32)

    # ---- smalgo jobs ----------------------------------------------------------------
    def train(self, algo, data, hp, threads=None, name="job", content_type=None):
        root = os.path.join(self.work, "runs", name)
        shutil.rmtree(root, ignore_errors=True)
        ml = MLRoot(root)
        setup_job(ml, {k: str(v) for k, v in hp.items()}, content_type=content_type or RECORDIO)
        os.symlink(os.path.abspath(data), os.path.join(root, "input", "data", "train"))
        text, rec = spawn([self.smalgo, "train", "--ml-root", root, "--algorithm", algo],
                          smalgo_env(threads))
        m = re.search(r"#metrics (\{.*\})", text)
        if m:
            met = {k: v["sum"] for k, v in json.loads(m.group(1))["Metrics"].items()}
            upd = met.get("update.time", 0.0)
            wait, red = met.get("_wait.time", 0.0), met.get("_allreduce.time", 0.0)
            compute = met.get("_compute.time",
                              max(0.0, upd - wait - (red if algo == "kmeans" else 0.0)))
            rec.update(update_s=upd / 1e3, decode_cpu_s=met.get("_decode.time", 0.0) / 1e3,
                       read_s=met.get("_read.time", 0.0) / 1e3, wait_s=wait / 1e3,
                       allreduce_s=red / 1e3, compute_s=compute / 1e3,
                       total_ms=met.get("totaltime"))
        d = re.search(r"decode [0-9.]+ s CPU on (\d+) thread", text)
        rec["decode_threads"] = int(d.group(1)) if d else 1
        rec["model"] = ndarray.read_named(os.path.join(root, "model", "model_algo-1"), dtype=float)
        return rec

    def peer(self, name, data, d, extra=()):
        cmd = [sys.executable, os.path.join(common.HERE, "peers.py"), "fit", "--peer", name,
               "--data", data, "--dim", str(d), "--k", str(K), "--components", str(COMPONENTS),
               "--epochs", "1", "--mini-batch-size", str(BATCH)] + list(extra)
        c = common.run(cmd)
        if c.rc != 0:
            return {"peer": name, "error": c.stderr.strip()[-400:]}
        rec = json.loads(c.stdout.strip().splitlines()[-1])
        rec.update(maxrss_mb=c.maxrss_mb)
        rec.pop("blas", None)
        return rec

    def score(self, kind, data, d, model):
        path = os.path.join(self.work, "model_%s.json" % kind)
        with open(path, "w") as f:
            json.dump(np.asarray(model).tolist(), f)
        c = common.run([sys.executable, os.path.join(common.HERE, "peers.py"), "eval", "--data",
                        data, "--dim", str(d), "--model", path, "--kind", kind]).check()
        return json.loads(c.stdout.strip().splitlines()[-1])

    # ---- parts ----------------------------------------------------------------------
    def versus_peers(self, sets):
        res = {}
        for label, data in sets.items():
            for algo in ("pca", "kmeans"):
                hp = ({"num_components": COMPONENTS, "feature_dim": 16, "mini_batch_size": BATCH}
                      if algo == "pca" else
                      {"k": K, "feature_dim": 16, "mini_batch_size": BATCH})
                runs = [self.train(algo, data, hp, name="%s_%s" % (algo, label))
                        for _ in range(self.a.repeats)]
                model = runs[0]["model"]["v"].T if algo == "pca" else runs[0]["model"]["0"]
                q = self.score(algo, data, 16, model)
                row = {"smalgo": {"wall_s": median([r["wall_s"] for r in runs]),
                                  "maxrss_mb": median([r["maxrss_mb"] for r in runs]),
                                  "quality": q.get("explained_variance", q.get("msd"))}}
                for p in PEERS[algo]:
                    if p in self.a.skip_peers:
                        continue
                    rec = self.peer(p, data, 16)
                    if "error" in rec:
                        row[p] = {"error": rec["error"]}
                        log("real %s %s: %s FAILED %s" % (label, algo, p, rec["error"][-160:]))
                        continue
                    row[p] = {"fit_s": rec["fit_s"], "load_s": rec["load_s"],
                              "maxrss_mb": rec["maxrss_mb"],
                              "quality": rec.get("explained_variance", rec.get("msd"))}
                res["%s/%s" % (algo, label)] = row
                log("real %s %s: smalgo %.2f s q=%.6g; %s" % (
                    label, algo, row["smalgo"]["wall_s"], row["smalgo"]["quality"], "; ".join(
                        "%s %.2f s q=%.6g" % (p, v["fit_s"], v["quality"])
                        for p, v in row.items() if p != "smalgo" and "fit_s" in v)))
        self.out["peers"] = res

    def scaling(self, cases):
        res = {}
        for name, (algo, data, hp, *ct) in cases.items():
            runs = {1: [], 2: []}
            for _ in range(self.a.repeats):
                for t in (1, 2):
                    r = self.train(algo, data, hp, threads=t, name="scale_%s_%d" % (name, t),
                                   content_type=ct[0] if ct else None)
                    r.pop("model")
                    runs[t].append(r)
            agg = {t: {k: median([r.get(k) for r in rs]) for k in
                       ("wall_s", "cpu_s", "cpu_per_wall", "update_s", "read_s", "decode_cpu_s",
                        "decode_threads", "wait_s", "allreduce_s", "compute_s")}
                   for t, rs in runs.items()}
            res[name] = {"1": agg[1], "2": agg[2], "runs": {str(t): rs for t, rs in runs.items()},
                         "speedup_update": agg[1]["update_s"] / agg[2]["update_s"]
                         if agg[2]["update_s"] else None,
                         "speedup_compute": agg[1]["compute_s"] / agg[2]["compute_s"]
                         if agg[2]["compute_s"] else None}
            log("real scaling %s: update %.3f s -> %.3f s (x%.2f), load %.1f" % (
                name, agg[1]["update_s"], agg[2]["update_s"], res[name]["speedup_update"],
                os.getloadavg()[0]))
            for t in (1, 2):
                log("  %d worker%s: %s" % (t, "s" if t > 1 else " ", split_text(agg[t])))
        self.out["scaling"] = res

    def pictures(self, x, box_data):
        """k-means on the coordinates (the box) and the PCA spectrum."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        km = self.train("kmeans", box_data, {"k": K, "feature_dim": 4, "mini_batch_size": BATCH},
                        name="map")["model"]["0"]
        coords = x[:, [NUMERIC16.index(c) for c in COORDS]]
        inbox = inside(coords)
        fig, ax = plt.subplots(figsize=(8, 8))
        ax.hexbin(coords[inbox, 0], coords[inbox, 1], gridsize=300, bins="log", cmap="Greys",
                  extent=(-74.05, -73.75, 40.6, 40.9))
        ax.scatter(km[:, 0], km[:, 1], s=90, c="tab:blue", label="pickup centres", zorder=3)
        ax.scatter(km[:, 2], km[:, 3], s=90, c="tab:red", marker="X", label="drop-off centres",
                   zorder=3)
        for c in km:
            ax.annotate("", xy=(c[2], c[3]), xytext=(c[0], c[1]),
                        arrowprops={"arrowstyle": "->", "color": "tab:purple", "lw": 1.2})
        ax.set_xlim(-74.05, -73.75)
        ax.set_ylim(40.6, 40.9)
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        ax.set_title("smalgo k-means (k=%d) on %d real NYC taxi trips (2015-01 to 2016-06):\n"
                     "pickup -> drop-off centres over the pickup density" % (K, inbox.sum()))
        ax.legend(loc="upper left")
        fig.tight_layout()
        p1 = os.path.join(self.results, "real_kmeans_map.png")
        fig.savefig(p1, dpi=110)
        plt.close(fig)

        full = self.train("pca", os.path.join(self.work, "real1x"),
                          {"num_components": 16, "feature_dim": 16, "mini_batch_size": BATCH},
                          name="spectrum")["model"]
        s = np.sort(np.asarray(full["s"]).ravel())[::-1]
        ours = s ** 2 / np.sum(s ** 2)
        xc = x.astype(np.float64) - x.mean(axis=0, dtype=np.float64)
        ev = np.sort(np.linalg.eigvalsh(xc.T @ xc))[::-1]
        ref = ev / ev.sum()
        fig, ax = plt.subplots(figsize=(8, 5))
        idx = np.arange(1, 17)
        ax.bar(idx - 0.2, ours, width=0.4, label="smalgo PCA (regular)")
        ax.bar(idx + 0.2, ref, width=0.4, label="float64 eigen-solve (numpy)")
        ax.plot(idx, np.cumsum(ours), "o-", c="k", label="cumulative (smalgo)")
        ax.set_yscale("log")
        ax.set_xticks(idx)
        ax.set_xlabel("component")
        ax.set_ylabel("fraction of variance")
        ax.set_title("PCA explained variance, 16 numeric TLC columns, %d real trips (unscaled)"
                     % len(x))
        ax.legend()
        fig.tight_layout()
        p2 = os.path.join(self.results, "real_pca_variance.png")
        fig.savefig(p2, dpi=110)
        plt.close(fig)
        self.out["pictures"] = {"kmeans_centres": km.tolist(), "trips_in_box": int(inbox.sum()),
                                "explained_variance_smalgo": ours.tolist(),
                                "explained_variance_float64": ref.tolist(),
                                "max_abs_diff": float(np.max(np.abs(ours - ref)))}
        return [p1, p2]

    def scaling_chart(self):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        sc = self.out.get("scaling", {})
        if not sc:
            return None
        fig, ax = plt.subplots(figsize=(9, 4.5))
        labels, bottoms = [], None
        parts = [("compute_s", "compute"), ("wait_s", "waiting for batches"),
                 ("allreduce_s", "allreduce")]
        bars = []
        for name, r in sc.items():
            for t in ("1", "2"):
                labels.append("%s\n%s worker%s" % (name, t, "s" if t == "2" else ""))
                bars.append(r[t])
        x = np.arange(len(bars))
        bottoms = np.zeros(len(bars))
        for key, lab in parts:
            v = np.array([b.get(key) or 0.0 for b in bars])
            ax.bar(x, v, bottom=bottoms, label=lab)
            bottoms += v
        ax.plot(x, [b.get("decode_cpu_s") or 0.0 for b in bars], "k_", ms=30, mew=2,
                label="decode CPU (all decode threads)")
        reads = [b.get("read_s") or 0.0 for b in bars]
        ax.plot(x, reads, "rx", ms=8, label="read (I/O wait)")
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_ylabel("seconds (median)")
        load = self.out.get("env", {}).get("loadavg_at_start") or [float("nan")]
        ax.set_title("smalgo training pass, 1 vs 2 workers, same run (load average %.1f at the "
                     "start)" % load[0])
        ax.legend(fontsize=8)
        fig.tight_layout()
        p = os.path.join(self.results, "real_scaling.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        return p


def split_text(a):
    """One case's stage split (medians) on one line."""
    return ("read %.3f s, decode %.3f s CPU on %s thread(s), wait %.3f s, compute %.3f s, "
            "allreduce %.3f s (update %.3f s; process CPU %.3f s, CPU/wall %.2f)" % (
                a["read_s"] or 0.0, a["decode_cpu_s"] or 0.0, a["decode_threads"],
                a["wait_s"] or 0.0, a["compute_s"] or 0.0, a["allreduce_s"] or 0.0,
                a["update_s"] or 0.0, a["cpu_s"] or 0.0, a["cpu_per_wall"] or 0.0))


def spawn(cmd, env):
    """Run cmd under bench_spawn: its output, wall time, CPU time (user + system, from
    wait4) and its own peak RSS. On a loaded machine wall time includes waiting for a
    core; CPU time does not."""
    c = common.run(cmd, env=env).check()
    cpu = c.cpu_s
    return c.stdout + c.stderr, {"wall_s": c.wall_s, "cpu_s": cpu, "maxrss_mb": c.maxrss_mb,
                                 "cpu_per_wall": cpu / c.wall_s if cpu and c.wall_s else None}


def inside(c):
    lo0, hi0, lo1, hi1 = BOX
    ok = np.ones(len(c), bool)
    for j in (0, 2):
        ok &= (c[:, j] >= lo0) & (c[:, j] <= hi0) & (c[:, j + 1] >= lo1) & (c[:, j + 1] <= hi1)
    return ok


def write_csv_shards(x, folder, shards=4):
    """x as CSV (%.9g: float32 round-trips) in `shards` files."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for i, part in enumerate(np.array_split(x, shards)):
        np.savetxt(os.path.join(folder, "part-%02d.csv" % i), part, fmt="%.9g", delimiter=",")
    return folder


def mixtures(x, n, d=316, seed=9):
    """n rows of d features: the 16 standardised real columns and d-16 noisy mixtures."""
    rng = np.random.default_rng(seed)
    y = x[rng.integers(0, len(x), n)].astype(np.float64)
    y = (y - y.mean(0)) / (y.std(0) + 1e-12)
    mix = y @ rng.normal(size=(16, d - 16)) + 0.1 * rng.normal(size=(n, d - 16))
    return np.hstack([y, mix]).astype(np.float32)


def run(a, smalgo, work, results):
    folder = paths.shared_dir() / "data" / "nyc-taxi"
    os.makedirs(results, exist_ok=True)
    if not folder.is_dir() or not months(str(folder)):
        msg = "real data: %s not present, section skipped" % folder
        log(msg)
        common.write_json(os.path.join(results, "real.json"), {"skipped": msg})
        return []
    t0 = time.monotonic()
    r = Real(a, smalgo, work, results)
    real1x = r.convert(months(str(folder)))
    x = r.load(real1x)
    c = x[:, [NUMERIC16.index(n) for n in COORDS]]
    ok = inside(c)
    r.out["dirty"] = {
        "rows": int(len(x)),
        "pickup_at_0_0": int(np.sum((x[:, 3] == 0) & (x[:, 4] == 0))),
        "negative_fare": int(np.sum(x[:, NUMERIC16.index("fare_amount")] < 0)),
        "outside_box": int(np.sum(~ok)),
        "treatment": "kept in the 16-column sets (as published); the map's k-means uses only "
                     "trips with pickup and drop-off in the box"}
    box = os.path.join(work, "box")
    csv = os.path.join(work, "box.csv")
    np.savetxt(csv, c[ok], delimiter=",", fmt="%.9g", header=",".join(COORDS), comments="")
    common.run([smalgo, "convert", "--input", csv, "--output", box + ".pbr", "--header",
                "--columns", ",".join(COORDS)]).check()
    os.makedirs(box, exist_ok=True)
    os.replace(box + ".pbr", os.path.join(box, "box.pbr"))
    real4x = r.write_npy_shards(r.resample(x, 4 * len(x)), os.path.join(work, "real4x"))
    wide = r.write_npy_shards(mixtures(x, 200_000), os.path.join(work, "wide316"))
    csv1x = write_csv_shards(x, os.path.join(work, "real1x_csv"))
    charts = []
    try:
        charts += r.pictures(x, box)
    except ImportError as e:
        log("real: pictures skipped (%s); pip install -r benchmarks/requirements.txt" % e)
    r.scaling({
        "kmeans d=16": ("kmeans", real4x, {"k": K, "feature_dim": 16, "mini_batch_size": BATCH}),
        "PCA d=16": ("pca", real4x, {"num_components": COMPONENTS, "feature_dim": 16,
                                     "mini_batch_size": BATCH}),
        "PCA d=316": ("pca", wide, {"num_components": 10, "feature_dim": 316,
                                    "mini_batch_size": 2000}),
        "PCA d=16 CSV": ("pca", csv1x, {"num_components": COMPONENTS, "feature_dim": 16,
                                        "mini_batch_size": BATCH}, "text/csv"),
    })
    try:
        p = r.scaling_chart()
        charts += [p] if p else []
    except ImportError:
        pass
    if not a.no_peers:
        r.versus_peers({"1x": real1x, "4x": real4x})
    r.out["elapsed_s"] = time.monotonic() - t0
    r.out["loadavg_at_end"] = list(os.getloadavg())
    common.write_json(os.path.join(results, "real.json"), r.out)
    return charts


def main():
    p = argparse.ArgumentParser(description="smalgo on real NYC taxi trips")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--work", default=None)
    p.add_argument("--results", default=os.path.join(common.HERE, "results"))
    p.add_argument("--skip-peers", default="")
    p.add_argument("--no-peers", action="store_true", help="scaling and pictures only")
    a = p.parse_args()
    a.skip_peers = set(filter(None, a.skip_peers.split(",")))
    smalgo = os.path.abspath(paths.smalgo_bin())
    common.SPAWN = os.path.abspath(os.environ.get("SMALGO_BENCH_SPAWN",
                                                  paths.bench_bin("bench_spawn")))
    work = a.work or tempfile.mkdtemp(prefix="smg_real_")
    try:
        for path in run(a, smalgo, work, a.results):
            log("chart %s" % path)
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
