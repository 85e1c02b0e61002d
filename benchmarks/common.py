"""Shared helpers of the benchmark suite: child processes with their peak RSS
and time to first data read, medians, the environment record, JSON results
written and read back.

Each measured program runs in its own process under bench_spawn (a small C
launcher, benchmarks/bench_spawn.c) which reaps it with wait4, so its peak RSS
is its own (ru_maxrss includes the children it reaped, e.g. the ranks under
mpirun) and not the Python driver's, and which polls /proc/<pid>/io (rchar:
bytes returned by read()) to find when the program starts reading data, so
"first record" is measured the same way in File and Pipe mode without any help
from the program.

Importing this module also puts the shared Python kit (tests/kit/smgkit: job
trees, SDK payloads, the NDArray reader, paths, ...) on sys.path, so every
benchmark script does `import common` before `from smgkit import ...`.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "kit"))
FIRST_READ_BYTES = 16 * 1024  # more than every config file smalgo reads at start-up


class Child:
    """Result of one child process."""

    def __init__(self, cmd, rc, wall_s, maxrss_kb, first_read_s, stdout, stderr, t_start):
        self.cmd = cmd
        self.rc = rc
        self.wall_s = wall_s
        self.maxrss_mb = maxrss_kb / 1024.0
        self.first_read_s = first_read_s  # since the child started; None if never seen
        self.stdout = stdout
        self.stderr = stderr
        self.t_start = t_start  # time.monotonic() at launch
        self.cpu_s = None  # user + system CPU of the program, when bench_spawn reports it

    def check(self):
        if self.rc != 0:
            raise RuntimeError("%s exited with %s\n--- stderr ---\n%s\n--- stdout ---\n%s" %
                               (" ".join(self.cmd), self.rc, self.stderr[-4000:],
                                self.stdout[-2000:]))
        return self


SPAWN = None  # path of bench_spawn, set by run.py


def start(cmd, env=None):
    """Launch cmd under bench_spawn (stdout/stderr to files: no pipe deadlock).
    Returns a handle for finish()."""
    import tempfile

    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    fd, res = tempfile.mkstemp(prefix="smg_spawn_", suffix=".json")
    os.close(fd)
    t0 = time.monotonic()
    p = subprocess.Popen([SPAWN, res, "--first-read", str(FIRST_READ_BYTES), "--"] + list(cmd),
                         stdout=out, stderr=err, env=env)
    return (p, t0, (out, err), res, list(cmd))


def finish(handle):
    """Wait for a started command; its figures as a Child."""
    p, t0, files, res, cmd = handle
    p.wait()
    texts = []
    for f in files:
        f.seek(0)
        texts.append(f.read().decode("utf-8", "replace"))
        f.close()
    try:
        with open(res) as f:
            r = json.load(f)
    except (OSError, ValueError):
        r = {"status": p.returncode, "wall_s": time.monotonic() - t0, "first_read_s": -1,
             "maxrss_kb": 0}
    finally:
        os.unlink(res)
    first = r["first_read_s"] if r["first_read_s"] >= 0 else None
    c = Child(cmd, p.returncode, r["wall_s"], r["maxrss_kb"], first, texts[0], texts[1], t0)
    c.cpu_s = r.get("cpu_s")
    return c


def run(cmd, env=None):
    return finish(start(cmd, env=env))


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def env_record():
    """What the figures depend on: machine, load, BLAS settings, versions."""
    rec = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
        "python": sys.version.split()[0],
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    rec["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            rec["mem_total_kb"] = int(f.readline().split()[1])
    except OSError:
        pass
    try:
        import numpy
        from threadpoolctl import threadpool_info

        rec["numpy"] = numpy.__version__
        rec["python_blas"] = [
            {k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                                   "prefix")}
            for i in threadpool_info()
        ]
    except ImportError:
        pass
    return rec


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def read_json(folder, name):
    """<folder>/<name>.json as written by write_json, or None when that part was not run."""
    try:
        with open(os.path.join(folder, name + ".json")) as f:
            return json.load(f)
    except OSError:
        return None


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)
