#!/usr/bin/env python3
"""The benchmark suite behind `make bench`: one command, every figure, one run.

What it runs, in order (each part writes <results>/<part>.json; --results is
build/bench/ by default, untracked; benchmarks/results/ holds the committed run):
  limits  bench_limits (C): memcpy, FIFO with a 1 MiB pipe, SGEMM, BLAS config
  data    taxi_gen.py: NYC-taxi-like recordIO-protobuf shards at 1x, 4x, 16x
  study   the SageMaker Pipe-mode study at our scale: smalgo PCA and k-means
          (3 epochs) in File mode (channel copied into place first, counted as
          start-up, as SageMaker downloads it) against Pipe mode (`smalgo pipe`
          streaming the same shards into FIFOs); start-up (job start to first
          data read), total time, read throughput, peak RSS, at every size
  mpi     smalgo with 1 and 2 MPI ranks (mpirun, File mode) at 4x
  checkpoint  bench_checkpoint.py: what checkpoints cost (time at the default
          interval and every second, file size) for k-means and PCA
  peers   scikit-learn PCA, IncrementalPCA, KMeans, MiniBatchKMeans,
          faiss.Kmeans, scikit-learn-intelex PCA/KMeans at 1x, each in its own
          process: load and fit time, peak RSS, quality; smalgo's models scored
          by the same code; PCA and faiss again at 4x and 16x for the RSS curve
  real    bench_real.py: the real NYC taxi trips of ../shared/data/nyc-taxi
          (skipped when absent): smalgo convert, smalgo vs the same peers, 1 vs
          2 workers with the stage split, the map and PCA-spectrum pictures
Then charts.py draws PNGs and a summary table is printed (and saved as
<results>/summary.md).

How: every measured program is a child process (common.py) reaped with
os.wait4 for its own peak RSS; start-up is read from /proc/<pid>/io. Figures are
medians of --repeats runs at 1x (fewer at the larger sizes, as recorded in the
JSON); ratios are taken between runs of the same invocation.

    python benchmarks/run.py --scale 1            # default: < 15 min on 2 cores
    python benchmarks/run.py --scale 4 --repeats 5
    python benchmarks/run.py --only limits,study

Environment: SMALGO_BIN (default build/runtime/smalgo), SMALGO_BENCH_LIMITS
(default build/benchmarks/bench_limits). OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are
recorded and passed through unchanged to every child.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import taxi_gen  # noqa: E402
from common import log, median  # noqa: E402
from smgkit import joblog, ndarray, paths  # noqa: E402
from smgkit.mlroot import MLRoot, setup_job  # noqa: E402
from smgkit.mpi import MPI_ENV, mpirun  # noqa: E402

BASE_ROWS = int(os.environ.get("SMG_BENCH_BASE_ROWS", "500000"))  # 1x at --scale 1: 46 MB of recordIO
ROWS_PER_SHARD = 62_500  # ~5.75 MB files, many files as in the study
SIZES = [1, 4, 16]
PCA_HP = {"num_components": "5", "feature_dim": "17", "mini_batch_size": "5000"}
KMEANS_HP = {"k": "10", "feature_dim": "17", "mini_batch_size": "5000", "epochs": "3"}
PEER_ORDER = ["sklearn_pca", "sklearnex_pca", "sklearn_ipca", "sklearn_kmeans",
              "sklearnex_kmeans", "sklearn_minibatch", "faiss_kmeans"]


def make_root(root, hp, mode):
    ml = MLRoot(root)
    setup_job(ml, hp, mode=mode)
    ml.channel_dir("train")


def parse_log(text):
    """Figures smalgo prints: throughput, training msd."""
    out = {}
    tput = joblog.throughput(text)
    if tput is not None:
        out["throughput_records_s"] = tput
    msd = joblog.quality_metric(text, "train msd")
    if msd is not None:
        out["smalgo_train_msd"] = msd
    m = re.search(r"#metrics (\{.*\})", text)
    if m:
        try:
            met = json.loads(m.group(1))["Metrics"]
            out["smalgo_metrics_ms"] = {k: v["sum"] for k, v in met.items()}
        except (ValueError, KeyError):
            pass
    return out


class Suite:
    def __init__(self, a):
        self.a = a
        self.smalgo = os.path.abspath(paths.smalgo_bin())
        self.limits_bin = os.path.abspath(os.environ.get(
            "SMALGO_BENCH_LIMITS", paths.bench_bin("bench_limits")))
        common.SPAWN = os.path.abspath(os.environ.get(
            "SMALGO_BENCH_SPAWN", os.path.join(os.path.dirname(self.limits_bin), "bench_spawn")))
        self.work = a.work or tempfile.mkdtemp(prefix="smg_bench_")
        self.results = a.results
        self.rows = {s: BASE_ROWS * a.scale * s for s in SIZES}
        self.env = common.env_record()
        self.env["scale"] = a.scale
        self.env["rows_per_size"] = {"%dx" % s: r for s, r in self.rows.items()}
        self.env["record_bytes"] = taxi_gen.record_size()
        self.summary = {}

    def data_dir(self, s):
        return os.path.join(self.work, "data", "%dx" % s)

    # ---- limits -------------------------------------------------------------------
    def limits(self):
        log("limits: %s" % self.limits_bin)
        args = [self.limits_bin] + (["--quick"] if self.a.quick else [])
        c = common.run(args).check()
        lim = json.loads(c.stdout)
        lim["env"] = self.env
        lim["smalgo_openblas"] = lim.get("openblas_config")
        common.write_json(os.path.join(self.results, "limits.json"), lim)
        log(c.stderr.strip())
        self.lim = lim
        return lim

    # ---- data ---------------------------------------------------------------------
    def data(self):
        out = {"sizes": {}}
        for s in SIZES:
            d = self.data_dir(s)
            rows = self.rows[s]
            if os.path.isdir(d) and len(os.listdir(d)) == max(1, rows // ROWS_PER_SHARD):
                continue
            shutil.rmtree(d, ignore_errors=True)
            t0 = time.monotonic()
            n = taxi_gen.write(self.a.seed, rows, "recordio", d, max(1, rows // ROWS_PER_SHARD),
                               quiet=True)
            dt = time.monotonic() - t0
            out["sizes"]["%dx" % s] = {"rows": rows, "bytes": n, "files": len(os.listdir(d)),
                                       "gen_s": dt, "gen_mb_s": n / 1e6 / dt}
            log("data %dx: %d rows, %.0f MB, %d files in %.1f s" %
                (s, rows, n / 1e6, len(os.listdir(d)), dt))
        if out["sizes"]:
            common.write_json(os.path.join(self.results, "data.json"), out)

    # ---- one smalgo job -----------------------------------------------------------
    def job(self, algo, mode, s, ranks=1, keep_model=None):
        hp = PCA_HP if algo == "pca" else KMEANS_HP
        epochs = int(hp.get("epochs", "1"))
        root = os.path.join(self.work, "runs", "%s_%s_%dx_r%d" % (algo, mode, s, ranks))
        shutil.rmtree(root, ignore_errors=True)
        make_root(root, hp, "File" if mode == "file" else "Pipe")
        src = self.data_dir(s)
        nbytes = sum(os.path.getsize(os.path.join(src, f)) for f in os.listdir(src))
        train = [self.smalgo, "train", "--ml-root", root, "--algorithm", algo]
        if ranks > 1 or self.a.mpi_always:
            train = mpirun(ranks, train, "--bind-to", "none")
        env = dict(os.environ, **MPI_ENV)
        rec = {"algo": algo, "mode": mode, "size": "%dx" % s, "rows": self.rows[s],
               "bytes": nbytes, "epochs": epochs, "ranks": ranks}
        t0 = time.monotonic()
        if mode == "file":
            dst = os.path.join(root, "input/data/train")
            for f in sorted(os.listdir(src)):
                shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
            copy_s = time.monotonic() - t0
            c = common.run(train, env=env).check()
            rec.update(copy_s=copy_s, startup_s=copy_s + (c.first_read_s or 0.0),
                       total_s=copy_s + c.wall_s, train_wall_s=c.wall_s)
        else:
            agent = [self.smalgo, "pipe", "--dir", os.path.join(root, "input/data"),
                     "--channel", "train=" + src, "--epochs", str(epochs), "--quiet"]
            ah = common.start(agent, env=env)
            at0 = ah[1]
            c = common.run(train, env=env)
            ac = common.finish(ah)
            c.check()
            ac.check()
            end = max(c.t_start + c.wall_s, at0 + ac.wall_s)
            rec.update(copy_s=0.0, startup_s=(c.t_start - at0) + (c.first_read_s or 0.0),
                       total_s=end - at0, train_wall_s=c.wall_s, agent_maxrss_mb=ac.maxrss_mb)
        rec["first_read_after_launch_s"] = c.first_read_s
        rec["maxrss_mb"] = c.maxrss_mb
        rec.update(parse_log(c.stdout + c.stderr))
        # Read throughput over the whole job (bytes of all epochs / time after first read).
        busy = rec["total_s"] - rec["startup_s"]
        rec["read_gb_s_after_startup"] = nbytes * epochs / busy / 1e9 if busy > 0 else None
        if "throughput_records_s" in rec:
            rec["logged_read_gb_s"] = rec["throughput_records_s"] * taxi_gen.record_size() / 1e9
        if keep_model:
            model = os.path.join(root, "model", "model_algo-1")
            self.model_json(model, algo, keep_model)
            rec["model_json"] = os.path.basename(keep_model)
        if mode == "file":
            shutil.rmtree(os.path.join(root, "input/data/train"), ignore_errors=True)
        return rec

    def model_json(self, path, algo, out):
        """The model file -> components (rows) or centres, as a JSON list."""
        arrays = ndarray.read_named(path, dtype=float)
        if algo == "pca":
            m = arrays["v"].T  # columns of v are the components
        else:
            m = arrays["0"]
        with open(out, "w") as f:
            json.dump(m.tolist(), f)
        return out

    # ---- the study ----------------------------------------------------------------
    def study(self):
        runs = []
        for s in SIZES:
            reps = self.a.repeats if s == 1 else max(1, self.a.repeats // 3)
            for algo in ("pca", "kmeans"):
                for r in range(reps):
                    for mode in ("file", "pipe"):  # alternate so load drifts hit both
                        keep = None
                        if s == 1 and r == 0 and mode == "file":
                            keep = os.path.join(self.work, "model_%s.json" % algo)
                        rec = self.job(algo, mode, s, keep_model=keep)
                        rec["repeat"] = r
                        runs.append(rec)
                        log("study %s %s %dx #%d: start-up %.2f s, total %.2f s, RSS %.0f MB"
                            % (algo, mode, s, r, rec["startup_s"], rec["total_s"],
                               rec["maxrss_mb"]))
        agg = aggregate(runs, ("algo", "mode", "size"),
                        ("startup_s", "total_s", "copy_s", "maxrss_mb", "train_wall_s",
                         "read_gb_s_after_startup", "logged_read_gb_s", "throughput_records_s",
                         "first_read_after_launch_s"))
        ratios = {}
        for algo in ("pca", "kmeans"):
            for s in SIZES:
                f = agg.get("%s/file/%dx" % (algo, s))
                p = agg.get("%s/pipe/%dx" % (algo, s))
                if f and p:
                    ratios["%s/%dx" % (algo, s)] = {
                        "pipe_over_file_startup": p["startup_s"] / f["startup_s"],
                        "pipe_over_file_total": p["total_s"] / f["total_s"],
                        "pipe_over_file_maxrss": p["maxrss_mb"] / f["maxrss_mb"]}
        self.study_res = {"runs": runs, "median": agg, "ratios": ratios, "env": self.env,
                          "hyperparameters": {"pca": PCA_HP, "kmeans": KMEANS_HP}}
        common.write_json(os.path.join(self.results, "study.json"), self.study_res)

    # ---- MPI ----------------------------------------------------------------------
    def mpi(self):
        if shutil.which("mpirun") is None:
            log("mpi: no mpirun, skipped")
            return
        s = 4
        runs = []
        for algo in ("pca", "kmeans"):
            for ranks in (1, 2):
                old = self.a.mpi_always
                self.a.mpi_always = True
                try:
                    rec = self.job(algo, "file", s, ranks=ranks)
                finally:
                    self.a.mpi_always = old
                runs.append(rec)
                log("mpi %s %d rank(s) %dx: total %.2f s (train %.2f s), RSS %.0f MB" %
                    (algo, ranks, s, rec["total_s"], rec["train_wall_s"], rec["maxrss_mb"]))
        self.mpi_res = {"runs": runs, "env": self.env, "size": "%dx" % s,
                        "note": "File mode, mpirun -np N on this one 2-core host; one run each"}
        common.write_json(os.path.join(self.results, "mpi.json"), self.mpi_res)

    # ---- peers --------------------------------------------------------------------
    def peer(self, name, s):
        cmd = [sys.executable, os.path.join(common.HERE, "peers.py"), "fit", "--peer", name,
               "--data", self.data_dir(s), "--epochs", KMEANS_HP["epochs"],
               "--k", KMEANS_HP["k"], "--components", PCA_HP["num_components"],
               "--mini-batch-size", KMEANS_HP["mini_batch_size"]]
        c = common.run(cmd)
        if c.rc != 0:
            return {"peer": name, "size": "%dx" % s, "error": c.stderr.strip()[-600:]}
        rec = json.loads(c.stdout.strip().splitlines()[-1])
        rec.update(size="%dx" % s, maxrss_mb=c.maxrss_mb, process_wall_s=c.wall_s,
                   load_fit_s=rec["load_s"] + rec["fit_s"])
        return rec

    def peers(self):
        runs = []
        reps = self.a.peer_repeats if self.a.peer_repeats else self.a.repeats
        for r in range(reps):
            for name in PEER_ORDER:
                if name in self.a.skip_peers:
                    continue
                rec = self.peer(name, 1)
                rec["repeat"] = r
                runs.append(rec)
                if "error" in rec:
                    log("peer %s: FAILED %s" % (name, rec["error"][-200:]))
                else:
                    log("peer %s 1x #%d: load %.2f s, fit %.2f s, RSS %.0f MB, %s" % (
                        name, r, rec["load_s"], rec["fit_s"], rec["maxrss_mb"],
                        "EV %.5f" % rec["explained_variance"] if "explained_variance" in rec
                        else "msd %.4g" % rec["msd"]))
        for s in SIZES[1:]:
            for name in ("sklearn_pca", "faiss_kmeans"):
                rec = self.peer(name, s)
                rec["repeat"] = 0
                runs.append(rec)
                if "error" not in rec:
                    log("peer %s %dx: fit %.2f s, RSS %.0f MB" % (name, s, rec["fit_s"],
                                                                  rec["maxrss_mb"]))
        # smalgo's models (1x, File mode) scored by the same code.
        smalgo_quality = {}
        for algo in ("pca", "kmeans"):
            path = os.path.join(self.work, "model_%s.json" % algo)
            if not os.path.exists(path):
                continue
            c = common.run([sys.executable, os.path.join(common.HERE, "peers.py"), "eval",
                            "--data", self.data_dir(1), "--model", path, "--kind", algo])
            if c.rc == 0:
                smalgo_quality[algo] = json.loads(c.stdout.strip().splitlines()[-1])
        ok = [r for r in runs if "error" not in r]
        agg = aggregate(ok, ("peer", "size"), ("load_s", "fit_s", "load_fit_s", "maxrss_mb",
                                               "explained_variance", "msd"))
        self.peers_res = {"runs": runs, "median": agg, "smalgo_quality": smalgo_quality,
                          "failed": sorted({r["peer"] for r in runs if "error" in r}),
                          "env": self.env}
        common.write_json(os.path.join(self.results, "peers.json"), self.peers_res)


def aggregate(runs, keys, fields):
    groups = {}
    for r in runs:
        groups.setdefault("/".join(str(r[k]) for k in keys), []).append(r)
    out = {}
    for g, rs in groups.items():
        out[g] = {f: median([r.get(f) for r in rs]) for f in fields}
        out[g]["n_runs"] = len(rs)
    return out


def main():
    p = argparse.ArgumentParser(description="smalgo benchmark suite")
    p.add_argument("--scale", type=int, default=1, help="multiply every data size")
    p.add_argument("--repeats", type=int, default=3, help="runs per figure at 1x (median)")
    p.add_argument("--peer-repeats", type=int, default=0, help="runs per peer (default: --repeats)")
    p.add_argument("--only", default="limits,data,study,mpi,checkpoint,peers,real,charts")
    p.add_argument("--skip-peers", default="", help="comma-separated peer names")
    p.add_argument("--seed", type=int, default=2015)
    p.add_argument("--quick", action="store_true", help="short limits run (for testing)")
    p.add_argument("--work", default=None, help="scratch folder (default: a new temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    # build/bench is untracked; `make bench BENCH_REFRESH=1` passes benchmarks/results.
    p.add_argument("--results", default=os.path.join(common.HERE, "..", "build", "bench"))
    a = p.parse_args()
    os.makedirs(a.results, exist_ok=True)
    a.skip_peers = set(filter(None, a.skip_peers.split(",")))
    a.mpi_always = False
    parts = a.only.split(",")
    t_start = time.monotonic()
    s = Suite(a)
    for b in (s.smalgo, s.limits_bin, common.SPAWN):
        if not os.access(b, os.X_OK):
            sys.exit("run.py: no %s (build first: cmake --build build)" % b)
    log("smalgo %s, work %s, scale %d, repeats %d" % (s.smalgo, s.work, a.scale, a.repeats))
    try:
        if "limits" in parts:
            s.limits()
        if any(x in parts for x in ("data", "study", "mpi", "peers")):
            s.data()
        if "study" in parts:
            s.study()
        if "mpi" in parts:
            s.mpi()
        if "checkpoint" in parts:
            import subprocess

            subprocess.run([sys.executable, os.path.join(common.HERE, "bench_checkpoint.py"),
                            "--repeats", str(a.repeats), "--json",
                            os.path.join(a.results, "checkpoint.json")], check=True)
        if "peers" in parts:
            s.peers()
        if "real" in parts:  # real NYC taxi trips (bench_real.py); skipped without the data
            import bench_real

            for path in bench_real.run(argparse.Namespace(
                    repeats=a.repeats, skip_peers=a.skip_peers, no_peers=False), s.smalgo,
                    os.path.join(s.work, "real"), a.results):
                log("chart %s" % path)
    finally:
        if not a.keep and a.work is None:
            shutil.rmtree(s.work, ignore_errors=True)
    elapsed = time.monotonic() - t_start
    run_info = {"elapsed_s": elapsed, "command": " ".join(["benchmarks/run.py"] + sys.argv[1:]),
                "env": s.env, "loadavg_at_end": list(os.getloadavg())}
    common.write_json(os.path.join(a.results, "run.json"), run_info)
    import report

    text = report.summary(a.results)
    print(text)
    with open(os.path.join(a.results, "summary.md"), "w") as f:
        f.write(text)
    if "charts" in parts:
        try:
            import charts

            for path in charts.draw(a.results):
                log("chart %s" % path)
        except ImportError as e:
            log("charts skipped (%s); pip install -r benchmarks/requirements.txt" % e)
    log("suite finished in %.0f s" % elapsed)


if __name__ == "__main__":
    main()
