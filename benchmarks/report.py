"""The printed summary of a benchmark run: Markdown tables built from
benchmarks/results/*.json (whatever parts are there), with every smalgo
throughput also given as a fraction of the machine's measured limits, and the
headline ratios (Pipe vs File; smalgo vs each peer).

    python benchmarks/report.py [results-folder]
"""

import os
import sys

from common import read_json


def _f(x, fmt="%.2f"):
    return "—" if x is None else fmt % x


def summary(folder):
    out = []
    run = read_json(folder, "run")
    lim = read_json(folder, "limits")
    study = read_json(folder, "study")
    mpi = read_json(folder, "mpi")
    peers = read_json(folder, "peers")
    env = (run or {}).get("env") or (lim or {}).get("env") or {}
    out.append("## smalgo benchmarks")
    out.append("")
    if run:
        out.append("Command: `%s`; %s; %s, %s CPUs; load average %s at start, %s at end; "
                   "suite time %.0f s." % (
                       run["command"], env.get("date_utc"), env.get("cpu", "?"),
                       env.get("cpus"), _f(env.get("loadavg_at_start", [None])[0], "%.1f"),
                       _f(run.get("loadavg_at_end", [None])[0], "%.1f"), run["elapsed_s"]))
        out.append("")
    if lim:
        out.append("### Machine limits (same run)")
        out.append("")
        out.append("| limit | value |")
        out.append("|---|---|")
        out.append("| memcpy, 1 thread / all threads | %.1f / %.1f GB/s |" % (
            lim["memcpy_gbs_1thread"], lim["memcpy_gbs_all_threads"]))
        out.append("| FIFO, 1 MiB pipe (F_SETPIPE_SZ) / default %d B pipe | %.2f / %.2f GB/s |" % (
            lim["fifo_pipe_size_default"], lim["fifo_gbs_1mib_pipe"], lim["fifo_gbs_default_pipe"]))
        out.append("| SGEMM %d³, 1 thread / all threads | %.0f / %.0f GFLOP/s |" % (
            lim["sgemm_n"], lim["sgemm_gflops_1thread"], lim["sgemm_gflops_all_threads"]))
        out.append("| k-means distance GEMM (65536×10×17), 1 thread | %.1f M rows/s |" % (
            lim["kmeans_gemm_rows_per_s_1thread"] / 1e6))
        out.append("| PCA ssyrk d=17, 1 thread | %.1f M rows/s |" % (
            lim["pca_ssyrk_d17_rows_per_s_1thread"] / 1e6))
        out.append("| smalgo's BLAS | %s (core %s) |" % (lim["openblas_config"],
                                                       lim["openblas_corename"]))
        out.append("| OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE | %s / %s |" % (
            lim["OPENBLAS_CORETYPE"], lim["OPENBLAS_L2_SIZE"]))
        pyblas = env.get("python_blas") or []
        out.append("| Python side's BLAS (threadpoolctl) | %s |" % "; ".join(
            "%s %s %s ×%s" % (b.get("internal_api"), b.get("version"), b.get("architecture"),
                              b.get("num_threads")) for b in pyblas))
        out.append("")
    if study:
        rb = env.get("record_bytes", 92)
        out.append("### File vs Pipe mode (medians)")
        out.append("")
        out.append("| algorithm | size | mode | start-up s | total s | peak RSS MB | read GB/s "
                   "(logged) | of FIFO limit | runs |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        fifo = (lim or {}).get("fifo_gbs_1mib_pipe")
        for key in sorted(study["median"], key=lambda k: (k.split("/")[0],
                                                           int(k.split("/")[2][:-1]),
                                                           k.split("/")[1])):
            m = study["median"][key]
            algo, mode, size = key.split("/")
            g = m.get("logged_read_gb_s")
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
                algo, size, mode, _f(m["startup_s"]), _f(m["total_s"]), _f(m["maxrss_mb"], "%.0f"),
                _f(g, "%.3f"), _f(g / fifo * 100 if g and fifo else None, "%.1f%%"),
                m["n_runs"]))
        out.append("")
        out.append("Pipe / File ratios (lower is better for Pipe mode):")
        out.append("")
        out.append("| algorithm/size | start-up | total time | peak RSS |")
        out.append("|---|---|---|---|")
        for k, r in study["ratios"].items():
            out.append("| %s | %.3f | %.3f | %.2f |" % (k, r["pipe_over_file_startup"],
                                                     r["pipe_over_file_total"],
                                                     r["pipe_over_file_maxrss"]))
        out.append("")
        del rb
    if mpi:
        out.append("### MPI ranks (File mode, %s, one run each)" % mpi["size"])
        out.append("")
        out.append("| algorithm | ranks | total s | train s | peak RSS MB |")
        out.append("|---|---|---|---|---|")
        for r in mpi["runs"]:
            out.append("| %s | %d | %.2f | %.2f | %.0f |" % (r["algo"], r["ranks"], r["total_s"],
                                                           r["train_wall_s"], r["maxrss_mb"]))
        out.append("")
    if peers:
        out.append("### Peers on the same data (1x unless stated; medians)")
        out.append("")
        out.append("| program | size | load s | fit s | load+fit s | peak RSS MB | quality |")
        out.append("|---|---|---|---|---|---|---|")
        sm = (study or {}).get("median", {})
        sq = peers.get("smalgo_quality", {})
        for algo, qname in (("pca", "explained_variance"), ("kmeans", "msd")):
            m = sm.get("%s/file/1x" % algo)
            if m:
                q = sq.get(algo, {}).get(qname)
                out.append("| smalgo %s (File mode, streaming) | 1x | — | — | %s | %s | %s %s |"
                           % (algo, _f(m["train_wall_s"]), _f(m["maxrss_mb"], "%.0f"),
                              "EV" if algo == "pca" else "msd", _f(q, "%.5g")))
        for key, m in peers["median"].items():
            name, size = key.split("/")
            q = ("EV %.5g" % m["explained_variance"] if m.get("explained_variance") is not None
                 else "msd %.5g" % m["msd"] if m.get("msd") is not None else "—")
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, size, _f(m["load_s"]), _f(m["fit_s"]), _f(m["load_fit_s"]),
                _f(m["maxrss_mb"], "%.0f"), q))
        if peers.get("failed"):
            out.append("")
            out.append("Failed peers: %s (see peers.json)." % ", ".join(peers["failed"]))
        out.append("")
        if sm:
            out.append("smalgo / peer ratios at 1x (time: smalgo train wall time incl. process "
                       "start vs peer load+fit; RSS: peak RSS):")
            out.append("")
            out.append("| peer | time ratio | RSS ratio | quality (smalgo vs peer) |")
            out.append("|---|---|---|---|")
            for key, m in peers["median"].items():
                name, size = key.split("/")
                if size != "1x":
                    continue
                algo = "pca" if name.endswith("pca") else "kmeans"
                s = sm.get("%s/file/1x" % algo)
                if not s or not m.get("load_fit_s"):
                    continue
                qn = "explained_variance" if algo == "pca" else "msd"
                qs = sq.get(algo, {}).get(qn)
                out.append("| %s | %.3f | %.3f | %s vs %s |" % (
                    name, s["train_wall_s"] / m["load_fit_s"], s["maxrss_mb"] / m["maxrss_mb"],
                    _f(qs, "%.5g"), _f(m.get(qn), "%.5g")))
            out.append("")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(summary(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")))
