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
  cpus     the scaling a user sees from CPUs: the same job pinned to 1 CPU
           (`taskset -c <first allowed CPU>`: smalgo sizes its threads to 1)
           against 2 CPUs (`taskset -c <first two>`), nothing else set,
           alternating A,B,A,B, medians of --repeats: k-means (d=16, 4x),
           PCA d=16 (4x), PCA d=316 (200,000 rows: the 16 real columns and
           300 random linear mixtures of them plus noise) and PCA d=16 on
           the 1x rows as CSV, each with smalgo's stage split from its
           #metrics line: read (wall time in file reads), decode (CPU of the
           reader and decode threads), the time the trainer waited for
           batches, compute (training) and allreduce; and the process's CPU
           time and CPU/wall. Skipped when fewer than 2 CPUs are allowed.
  threads  the same cases on all allowed CPUs with SMALGO_THREADS=1 against
           2: what a second training worker adds when the reader and decode
           threads already run beside one (the "1 worker" process is not one
           core).
  pictures real_kmeans_map.png: k-means (k=10) on the four coordinates of the
           trips whose pickup and drop-off lie in lon -74.3…-73.6, lat
           40.4…41.0 (the README's box; about 98% of trips), pickup centres
           and drop-off centres joined by arrows, over the pickup density.
           real_pca_variance.png: explained variance per component (PCA with
           all 16 components), smalgo against scikit-learn. real_scaling.png:
           the stage split, 1 vs 2 CPUs. real_scaling.md: the README's table
           of both scalings, ready to paste.

The machine may be shared: figures are medians and the load average is
recorded at start and end; prefer the ratios taken within one run.

    python benchmarks/bench_real.py [--results DIR] [--repeats 3] [--work DIR]
                                    [--parts pictures,cpus,threads,peers]
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
PARTS = ("pictures", "cpus", "threads", "peers")


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
    def train(self, algo, data, hp, threads=None, name="job", content_type=None, cpus=None):
        root = os.path.join(self.work, "runs", name)
        shutil.rmtree(root, ignore_errors=True)
        ml = MLRoot(root)
        setup_job(ml, {k: str(v) for k, v in hp.items()}, content_type=content_type or RECORDIO)
        os.symlink(os.path.abspath(data), os.path.join(root, "input", "data", "train"))
        pin = ["taskset", "-c", cpus] if cpus is not None else []
        text, rec = spawn(pin + [self.smalgo, "train", "--ml-root", root, "--algorithm", algo],
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
        w = re.search(r"Training on (\d+) worker thread", text)
        rec["workers"] = int(w.group(1)) if w else None
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

    def scaling(self, cases, key, variants):
        """Each case under the two variants {"1": {...}, "2": {...}} (train's threads/cpus),
        alternating 1,2,1,2; medians, the ratio of the medians and the median of the
        paired ratios, for the training pass (update) and the whole process (wall)."""
        res = {}
        for name, (algo, data, hp, *ct) in cases.items():
            runs = {"1": [], "2": []}
            load0 = os.getloadavg()[0]
            for _ in range(self.a.repeats):
                for v in ("1", "2"):
                    r = self.train(algo, data, hp, name="scale_%s_%s" % (name, v),
                                   content_type=ct[0] if ct else None, **variants[v]["opts"])
                    r.pop("model")
                    runs[v].append(r)
            agg = {v: {k: median([r.get(k) for r in rs]) for k in
                       ("wall_s", "cpu_s", "cpu_per_wall", "update_s", "read_s", "decode_cpu_s",
                        "decode_threads", "workers", "wait_s", "allreduce_s", "compute_s")}
                   for v, rs in runs.items()}
            res[name] = {"1": agg["1"], "2": agg["2"], "runs": runs,
                         "loadavg": [load0, os.getloadavg()[0]],
                         "speedup_update": ratio(agg["1"]["update_s"], agg["2"]["update_s"]),
                         "speedup_update_paired": median(
                             [ratio(a["update_s"], b["update_s"])
                              for a, b in zip(runs["1"], runs["2"])]),
                         "speedup_wall": ratio(agg["1"]["wall_s"], agg["2"]["wall_s"]),
                         "speedup_compute": ratio(agg["1"]["compute_s"], agg["2"]["compute_s"])}
            log("real %s %s: update %.3f s -> %.3f s (x%.2f, paired x%.2f), process wall x%.2f,"
                " load %.1f -> %.1f" % (
                    key, name, agg["1"]["update_s"], agg["2"]["update_s"],
                    res[name]["speedup_update"], res[name]["speedup_update_paired"],
                    res[name]["speedup_wall"], load0, os.getloadavg()[0]))
            for v in ("1", "2"):
                log("  %s: %s" % (variants[v]["label"], split_text(agg[v])))
        self.out[key] = {"variants": {v: variants[v]["label"] for v in variants}, "cases": res,
                         "env": common.env_record()}

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

        key = "scaling_cpus" if self.out.get("scaling_cpus") else "scaling_threads"
        sc = self.out.get(key)
        if not sc:
            return None
        fig, ax = plt.subplots(figsize=(9, 4.5))
        labels, bottoms = [], None
        parts = [("compute_s", "compute"), ("wait_s", "waiting for batches"),
                 ("allreduce_s", "allreduce")]
        bars = []
        for name, r in sc["cases"].items():
            for v in ("1", "2"):
                labels.append("%s\n%s" % (name, sc["variants"][v]))
                bars.append(r[v])
        x = np.arange(len(bars))
        bottoms = np.zeros(len(bars))
        for k, lab in parts:
            val = np.array([b.get(k) or 0.0 for b in bars])
            ax.bar(x, val, bottom=bottoms, label=lab)
            bottoms += val
        ax.plot(x, [b.get("decode_cpu_s") or 0.0 for b in bars], "k_", ms=30, mew=2,
                label="decode CPU (all decode threads)")
        reads = [b.get("read_s") or 0.0 for b in bars]
        ax.plot(x, reads, "rx", ms=8, label="read (I/O wait)")
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_ylabel("seconds (median)")
        # the scaling part's own env: with --parts, the top-level one may be another run's
        load = (sc.get("env") or self.out.get("env", {})).get("loadavg_at_start") or [float("nan")]
        ax.set_title("smalgo training pass, %s against %s, same run (load average %.1f at the "
                     "start)" % (sc["variants"]["1"], sc["variants"]["2"], load[0]))
        ax.legend(fontsize=8)
        fig.tight_layout()
        p = os.path.join(self.results, "real_scaling.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        return p

    def scaling_tables(self):
        """The README's scaling tables (markdown), from this run's figures."""
        env = self.out.get("env", {})
        out = ["<!-- benchmarks/bench_real.py --parts cpus,threads --repeats %d; %s; load average "
               "%s at the start, %s at the end; OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s -->" % (
                   self.a.repeats, env.get("date_utc"),
                   "%.2f" % (env.get("loadavg_at_start") or [float("nan")])[0],
                   "%.2f" % os.getloadavg()[0], env.get("OPENBLAS_CORETYPE"),
                   env.get("OPENBLAS_L2_SIZE"))]
        for key in ("scaling_cpus", "scaling_threads"):
            sc = self.out.get(key)
            if not sc:
                continue
            v1, v2 = sc["variants"]["1"], sc["variants"]["2"]
            out += ["", "| case | %s | %s | ratio (paired) | process wall, CPU: %s → %s |"
                    % (v1, v2, v1, v2), "|---|---|---|---|---|"]
            for name, r in sc["cases"].items():
                a, b = r["1"], r["2"]
                out.append("| %s | %s | %s | %.2f× (%.2f×) | %.3f → %.3f s, %.3f → %.3f s |" % (
                    name, cell(a), cell(b), r["speedup_update"] or 0.0,
                    r["speedup_update_paired"] or 0.0, a["wall_s"] or 0.0, b["wall_s"] or 0.0,
                    a["cpu_s"] or 0.0, b["cpu_s"] or 0.0))
        text = "\n".join(out) + "\n"
        with open(os.path.join(self.results, "real_scaling.md"), "w") as f:
            f.write(text)
        return text


def ratio(a, b):
    return a / b if a and b else None


def cell(a):
    """A table cell: the training pass and its stage split (medians)."""
    return ("%.3f s (compute %.3f, waited %.3f; decode %.3f CPU on %s, read %.3f)" % (
        a["update_s"] or 0.0, a["compute_s"] or 0.0, a["wait_s"] or 0.0, a["decode_cpu_s"] or 0.0,
        a["decode_threads"], a["read_s"] or 0.0))


def split_text(a):
    """One case's stage split (medians) on one line."""
    return ("%s worker(s); read %.3f s, decode %.3f s CPU on %s thread(s), wait %.3f s, "
            "compute %.3f s, allreduce %.3f s (update %.3f s; process wall %.3f s, CPU %.3f s, "
            "CPU/wall %.2f)" % (
                a["workers"], a["read_s"] or 0.0, a["decode_cpu_s"] or 0.0, a["decode_threads"],
                a["wait_s"] or 0.0, a["compute_s"] or 0.0, a["allreduce_s"] or 0.0,
                a["update_s"] or 0.0, a["wall_s"] or 0.0, a["cpu_s"] or 0.0,
                a["cpu_per_wall"] or 0.0))


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
    parts = getattr(a, "parts", None) or set(PARTS)
    if a.no_peers:
        parts = parts - {"peers"}
    if "pictures" in parts:
        try:
            charts += r.pictures(x, box)
        except ImportError as e:
            log("real: pictures skipped (%s); pip install -r benchmarks/requirements.txt" % e)
    cases = {
        "kmeans d=16": ("kmeans", real4x, {"k": K, "feature_dim": 16, "mini_batch_size": BATCH}),
        "PCA d=16": ("pca", real4x, {"num_components": COMPONENTS, "feature_dim": 16,
                                     "mini_batch_size": BATCH}),
        "PCA d=316": ("pca", wide, {"num_components": 10, "feature_dim": 316,
                                    "mini_batch_size": 2000}),
        "PCA d=16 CSV": ("pca", csv1x, {"num_components": COMPONENTS, "feature_dim": 16,
                                        "mini_batch_size": BATCH}, "text/csv"),
    }
    os.sync()  # the sets just written: their write-back would otherwise run beside the timings
    allowed = sorted(os.sched_getaffinity(0))
    if "cpus" in parts and (len(allowed) < 2 or shutil.which("taskset") is None):
        log("real: CPU scaling skipped (%d CPUs allowed, taskset %s)" % (
            len(allowed), "found" if shutil.which("taskset") else "not found"))
    elif "cpus" in parts:
        one, two = str(allowed[0]), "%d,%d" % (allowed[0], allowed[1])
        r.scaling(cases, "scaling_cpus", {
            "1": {"label": "1 CPU", "opts": {"cpus": one}},
            "2": {"label": "2 CPUs", "opts": {"cpus": two}}})
    if "threads" in parts:
        r.scaling(cases, "scaling_threads", {
            "1": {"label": "SMALGO_THREADS=1", "opts": {"threads": 1}},
            "2": {"label": "SMALGO_THREADS=2", "opts": {"threads": 2}}})
    if "cpus" in parts or "threads" in parts:
        log("real: scaling tables (also in real_scaling.md):\n" + r.scaling_tables())
        try:
            p = r.scaling_chart()
            charts += [p] if p else []
        except ImportError:
            pass
    if "peers" in parts:
        r.versus_peers({"1x": real1x, "4x": real4x})
    r.out["elapsed_s"] = time.monotonic() - t0
    r.out["loadavg_at_end"] = list(os.getloadavg())
    r.out["parts"] = sorted(parts)
    write_results(os.path.join(results, "real.json"), r.out, parts)
    return charts


def write_results(path, out, parts):
    """real.json; a run of some parts only keeps the other parts' figures of the file there
    (its env and dates stay with them: each scaling part carries its own env)."""
    if set(parts) != set(PARTS) and os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        if "skipped" not in old:
            keep = {"pictures": ("pictures",), "peers": ("peers", "env", "elapsed_s",
                                                          "loadavg_at_end")}
            for part, keys in keep.items():
                if part not in parts:
                    out.update({k: old[k] for k in keys if k in old})
            for key in ("scaling_cpus", "scaling_threads"):
                if key not in out and key in old:
                    out[key] = old[key]
    common.write_json(path, out)


def own_autogroup(nice):
    """Re-run this script as the leader of a new session (so of a new autogroup, when the
    kernel has them), then set that autogroup's nice."""
    if os.getsid(0) != os.getpid():
        os.execvp("setsid", ["setsid", "-w", sys.executable] + sys.argv)
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
        log("real: jobs run in autogroup %s" % open("/proc/self/autogroup").read().strip())
    except OSError as e:
        log("real: --nice %d not applied (%s)" % (nice, e))


def main():
    p = argparse.ArgumentParser(description="smalgo on real NYC taxi trips")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--work", default=None)
    p.add_argument("--results", default=os.path.join(common.HERE, "results"))
    p.add_argument("--skip-peers", default="")
    p.add_argument("--no-peers", action="store_true", help="scaling and pictures only")
    p.add_argument("--nice", type=int, default=None,
                   help="run in a session of its own whose scheduler autogroup has nice N (N < "
                        "0 needs root): on a machine shared with other sessions, which the "
                        "kernel's autogroups give equal shares whatever their nice, a way to "
                        "keep the jobs from waiting for a core")
    p.add_argument("--parts", default=",".join(PARTS),
                   help="which parts to run (default all: %(default)s); real.json keeps the "
                        "figures of the others")
    a = p.parse_args()
    if a.nice is not None:
        own_autogroup(a.nice)
    a.parts = set(filter(None, a.parts.split(",")))
    if a.parts - set(PARTS):
        p.error("--parts: unknown %s" % ",".join(sorted(a.parts - set(PARTS))))
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
