"""PNG charts of a benchmark run, from benchmarks/results/*.json (matplotlib,
Agg backend, no display needed):

  study_startup.png  start-up time against data size, File vs Pipe mode
  study_total.png    total job time against data size, File vs Pipe mode
  scale_rss.png      peak RSS against data size: smalgo File/Pipe and peers
  peers_time.png     load and fit time of smalgo and each peer at 1x

    python benchmarks/charts.py [results-folder]
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from common import read_json  # noqa: E402


def _series(study, algo, mode, field):
    xs, ys = [], []
    for key, m in study["median"].items():
        a, md, size = key.split("/")
        if a == algo and md == mode and m.get(field) is not None:
            xs.append(int(size[:-1]))
            ys.append(m[field])
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    return [xs[i] for i in order], [ys[i] for i in order]


def _mb(study, size):
    rows = [r for r in study["runs"] if r["size"] == "%dx" % size]
    return rows[0]["bytes"] / 1e6 if rows else size


def _study_chart(study, field, ylabel, title, path):
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for algo, colour in (("pca", "tab:blue"), ("kmeans", "tab:orange")):
        for mode, style in (("file", "-o"), ("pipe", "--s")):
            xs, ys = _series(study, algo, mode, field)
            if xs:
                ax.plot([_mb(study, x) for x in xs], ys, style, color=colour,
                        label="%s, %s mode" % (algo, mode.capitalize()))
    ax.set_xscale("log")
    ax.set_xlabel("channel size, MB of recordIO-protobuf")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw(folder):
    out = []
    study = read_json(folder, "study")
    peers = read_json(folder, "peers")
    if study:
        out.append(_study_chart(study, "startup_s", "seconds (job start to first data read)",
                                "Start-up: File mode (copy first) vs Pipe mode",
                                os.path.join(folder, "study_startup.png")))
        out.append(_study_chart(study, "total_s", "seconds (job start to exit)",
                                "Total time: File vs Pipe mode",
                                os.path.join(folder, "study_total.png")))
    if study or peers:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        if study:
            for algo, colour in (("pca", "tab:blue"), ("kmeans", "tab:orange")):
                for mode, style in (("file", "-o"), ("pipe", "--s")):
                    xs, ys = _series(study, algo, mode, "maxrss_mb")
                    if xs:
                        ax.plot([_mb(study, x) for x in xs], ys, style, color=colour,
                                label="smalgo %s, %s" % (algo, mode))
        if peers and study:
            for name, colour in (("sklearn_pca", "tab:green"), ("faiss_kmeans", "tab:red")):
                pts = sorted((int(k.split("/")[1][:-1]), m["maxrss_mb"])
                             for k, m in peers["median"].items() if k.split("/")[0] == name)
                if pts:
                    ax.plot([_mb(study, p[0]) for p in pts], [p[1] for p in pts], ":^",
                            color=colour, label=name + " (loads all)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("channel size, MB of recordIO-protobuf")
        ax.set_ylabel("peak RSS, MB")
        ax.set_title("Peak memory against data size")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        p = os.path.join(folder, "scale_rss.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append(p)
    if peers:
        names, load, fit = [], [], []
        sm = (study or {}).get("median", {})
        for algo in ("pca", "kmeans"):
            m = sm.get("%s/file/1x" % algo)
            if m:
                names.append("smalgo %s" % algo)
                load.append(0.0)
                fit.append(m["train_wall_s"])
            for key, pm in peers["median"].items():
                name, size = key.split("/")
                if size == "1x" and (name.endswith("pca") == (algo == "pca")):
                    names.append(name)
                    load.append(pm["load_s"])
                    fit.append(pm["fit_s"])
        fig, ax = plt.subplots(figsize=(7.0, 4.4))
        y = range(len(names))
        ax.barh(y, load, color="tab:gray", label="load (peers: decode recordIO into memory)")
        ax.barh(y, fit, left=load, color="tab:blue",
                label="fit (smalgo: whole job, streaming its input)")
        ax.set_yticks(list(y))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("seconds (median), 1x")
        ax.set_title("smalgo and peers on the same data")
        ax.legend(fontsize=7)
        ax.grid(True, axis="x", alpha=0.3)
        fig.tight_layout()
        p = os.path.join(folder, "peers_time.png")
        fig.savefig(p, dpi=110)
        plt.close(fig)
        out.append(p)
    return out


if __name__ == "__main__":
    for p in draw(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")):
        print(p)
