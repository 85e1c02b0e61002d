"""Checkpoint and resume (issue 15), with real processes, real FIFOs (the
`smalgo pipe` agent) and real mpirun ranks.

For PCA (regular and randomized) and k-means, File and Pipe mode, 1 and 2
ranks (Pipe needs one rank per host, so 2 ranks run in File mode only here;
the Docker test covers 2 hosts): an uninterrupted run gives the reference
model; then jobs are stopped with SIGTERM at points picked from their own log
(after the 1st and 3rd periodic checkpoint, at an epoch boundary, in the
k-means shrink, just before the model write) and with SIGKILL at seeded random
times, and restarted with the same checkpoint folder until they finish. Every
finished model must be byte-identical to the reference, and the tests check
that interruptions really happened and really resumed (not a vacuous pass).
Checkpoints are frequent (SMALGO_CHECKPOINT_INTERVAL_S=0.02) and the data
small, so a case takes seconds; every wait is bounded.

Also: a mismatching checkpoint (other hyperparameters, other data, other rank
count) is a ClientError naming the difference; a corrupt one is reported and
not used; `smalgo inspect` prints a checkpoint's header.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

from smgkit.mlroot import setup_job
from smgkit.mpi import MPI_ENV, have_mpirun, mpirun
from smgkit.payloads import sdk_dense as recordio, write_parts

N_ROWS, N_FILES = 100000, 4
HP = {
    "kmeans": {"k": "6", "feature_dim": "10", "mini_batch_size": "400", "epochs": "3",
               "local_lloyd_max_iter": "300", "local_lloyd_tol": "0", "extra_center_factor": "60"},
    "pca": {"feature_dim": "10", "num_components": "3", "mini_batch_size": "40"},
    "pca-randomized": {"feature_dim": "10", "num_components": "3", "mini_batch_size": "40",
                       "algorithm_mode": "randomized"},
}
# (log line that triggers SIGTERM, seconds after which SIGKILL follows if the
# job still runs). After the stream the job does not poll for SIGTERM (it
# finishes if it can, as SageMaker's 120 s grace allows); the SIGKILL 20 ms
# later stands for a grace period that ran out, so those points test resuming
# from the final (DONE) checkpoint: in the k-means shrink, just before the
# model write (the polish line), after PCA's pass, and just before its write.
STOPS = {
    "kmeans": [("checkpoint 1 written", None), ("checkpoint 3 written", None), ("epoch 1:", None),
               ("local kmeans attempt #1", 0.02), ("k-means polish", 0.0)],
    "pca": [("checkpoint 1 written", None), ("checkpoint 2 written", None),
            ("checkpoint 4 written", None), ("Read ", 0.0), ("PCA (", 0.0)],
}
KILLS = 2  # SIGKILL at seeded random times per case
RUN_TIMEOUT = 120


def data(seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(6, 10))
    x = centres[rng.integers(0, 6, size=N_ROWS)] + rng.normal(size=(N_ROWS, 10))
    x[:, 3] *= 0.1
    return x.astype(np.float32)


def descendants(pid):
    """Every process below pid (from /proc), nearest first."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def rank_pids(proc, ranks):
    """The training processes: proc itself, or with mpirun its rank processes."""
    if ranks == 1:
        return [proc.pid]
    out = []
    for pid in descendants(proc.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"train" in f.read():
                    out.append(pid)
        except OSError:
            pass
    return out


def sigterm(pids):
    """SIGTERM as SageMaker delivers it: to every rank (each host's container
    gets its own SIGTERM)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass


class Job:
    """One job tree, run many times with the same checkpoint folder."""

    def __init__(self, ml_root, smalgo_bin, algo, mode, ranks, tmp_path):
        self.root, self.bin, self.mode, self.ranks = ml_root, smalgo_bin, mode, ranks
        self.algo = "kmeans" if algo == "kmeans" else "pca"
        setup_job(ml_root, HP[algo], mode=mode)
        self.src = tmp_path / "src"
        x = data()
        if mode == "Pipe":
            self.src.mkdir()
            (self.src / "part.pbr").write_bytes(recordio(x))
        else:
            write_parts(ml_root.channel_dir("train"), x, N_FILES)
        self.ckpt = tmp_path / "ckpt"
        # PCA's pass is short: checkpoint more often so the stops land inside it.
        interval = "0.02" if self.algo == "kmeans" else "0.003"
        self.env = dict(os.environ, **MPI_ENV, SMALGO_CHECKPOINT_INTERVAL_S=interval,
                        SMALGO_PIPE_TIMEOUT_MS="20000")
        self.env.pop("SMALGO_KMEANS_POLISH", None)

    def command(self, checkpoints):
        cmd = [str(self.bin), "train", "--ml-root", str(self.root.root), "--algorithm", self.algo]
        if checkpoints:
            cmd += ["--checkpoint-dir", str(self.ckpt)]
        return mpirun(self.ranks, cmd) if self.ranks > 1 else cmd

    def start_agent(self):
        if self.mode != "Pipe":
            return None
        return subprocess.Popen([str(self.bin), "pipe", "--dir", str(self.root.data), "--channel",
                                 f"train={self.src}", "--quiet", "--open-timeout", "20"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @staticmethod
    def stop_agent(agent):
        if agent is None:
            return
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(timeout=20)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait(timeout=10)

    def run(self, checkpoints=True, trigger=None, then_kill=None, kill_after=None):
        """Run once; send SIGTERM when a log line contains trigger (and SIGKILL
        then_kill seconds later if it still runs), or SIGKILL after kill_after
        seconds. Returns (returncode, log, whether a signal was sent)."""
        model = self.root.model_file()
        if model.exists():
            model.unlink()
        agent = self.start_agent()
        proc = subprocess.Popen(self.command(checkpoints), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=self.env,
                                start_new_session=True)
        sent, lines = [], []
        timer = None
        def kill():
            if proc.poll() is None:
                sent.append(True)
                os.killpg(proc.pid, signal.SIGKILL)

        if kill_after is not None:
            timer = threading.Timer(kill_after, kill)
            timer.start()
        deadline = time.time() + RUN_TIMEOUT
        pids = []
        for line in proc.stdout:
            lines.append(line)
            if trigger and "Checkpoints: on" in line:  # found now, so the stop is quick
                pids = rank_pids(proc, self.ranks)
            if trigger and not sent and trigger in line and proc.poll() is None:
                sent.append(True)
                sigterm(pids or rank_pids(proc, self.ranks))
                if then_kill is not None:
                    timer = threading.Timer(then_kill, kill)
                    timer.start()
            assert time.time() < deadline, "job ran too long:\n" + "".join(lines[-30:])
        rc = proc.wait(timeout=RUN_TIMEOUT)
        if timer is not None:
            timer.cancel()
        self.stop_agent(agent)
        return rc, "".join(lines), bool(sent)

    def finish(self):
        """Restart until the job ends well (bounded); the model's bytes and the logs."""
        logs = []
        for _ in range(3):
            rc, log, _ = self.run()
            logs.append(log)
            if rc == 0:
                return self.root.model_file().read_bytes(), logs
        pytest.fail("the restarted job did not finish:\n" + logs[-1][-3000:])


def cases():
    out = []
    for algo in ("kmeans", "pca", "pca-randomized"):
        for mode, ranks in (("File", 1), ("Pipe", 1), ("File", 2)):
            out.append(pytest.param(algo, mode, ranks, id=f"{algo}-{mode}-{ranks}rank"))
    return out


@pytest.mark.parametrize("algo,mode,ranks", cases())
def test_stopped_and_restarted_job_gives_the_same_model(ml_root, smalgo_bin, tmp_path, algo, mode,
                                                        ranks):
    if ranks > 1 and not have_mpirun():
        pytest.skip("mpirun not installed")
    job = Job(ml_root, smalgo_bin, algo, mode, ranks, tmp_path)
    t0 = time.time()
    rc, log, _ = job.run(checkpoints=False)
    assert rc == 0, log[-3000:]
    elapsed = time.time() - t0
    reference = job.root.model_file().read_bytes()
    stops = [(t, k, None) for t, k in STOPS["kmeans" if algo == "kmeans" else "pca"]]
    rnd = random.Random(f"{algo}-{mode}-{ranks}")
    stops += [(None, None, rnd.uniform(0.4, 0.95) * elapsed) for _ in range(KILLS)]
    interrupted = resumed = 0
    for trigger, then_kill, kill_after in stops:
        shutil.rmtree(job.ckpt, ignore_errors=True)
        rc, log, sent = job.run(trigger=trigger, then_kill=then_kill, kill_after=kill_after)
        if rc != 0:
            assert sent, log[-3000:]
            interrupted += 1
            if rc == 1 and ranks == 1:
                assert "stopped by SIGTERM" in log, log[-3000:]
        model, logs = job.finish() if rc != 0 else (job.root.model_file().read_bytes(), [])
        resumed += any("resuming from checkpoint" in x for x in logs)
        print(f"stop {trigger or kill_after}: rc {rc}, sent {sent}, restarts {len(logs)}, "
              f"resumed {any('resuming from checkpoint' in x for x in logs)}")
        assert model == reference, f"stop at {trigger or kill_after}: model differs"
    # Not vacuous: stops landed while the job ran and restarts resumed (how many
    # depends on the machine's load: a busy machine lets a short job finish first).
    assert interrupted >= 3 and resumed >= 2, (interrupted, resumed)


# ---- what a checkpoint must match, damage, inspect, where it goes ------------------------


def small_job(ml_root, smalgo_bin, tmp_path, hp=None):
    job = Job(ml_root, smalgo_bin, "kmeans", "File", 1, tmp_path)
    if hp:
        ml_root.write_hyperparameters(dict(HP["kmeans"], **hp))
    return job


def failure(ml_root):
    return ml_root.failure.read_text() if ml_root.failure.exists() else ""


def test_resume_log_and_inspect(ml_root, smalgo_bin, tmp_path, run_smalgo):
    job = small_job(ml_root, smalgo_bin, tmp_path)
    rc, log, sent = job.run(trigger="checkpoint 2 written")
    assert sent and rc == 1, log[-3000:]
    assert "its progress is in a checkpoint" in failure(ml_root)
    files = sorted(job.ckpt.glob("smalgo-kmeans-rank0.*.ckpt"))
    assert files, list(job.ckpt.iterdir())
    newest = max(files, key=lambda p: p.stat().st_mtime)
    out = run_smalgo("inspect", newest)
    assert out.returncode == 0, out.stderr
    info = __import__("json").loads(out.stdout)
    assert info["algorithm"] == "kmeans" and info["ranks"] == 1 and info["generation"] >= 3
    assert info["phase"] == "streaming" and info["input_mode"] == "File"
    assert info["data_files"] == N_FILES
    assert [s["tag"] for s in info["sections"]] == ["CONF", "KMST", "SMPL"]
    rc, log, _ = job.run()
    assert rc == 0, log[-3000:]
    m = re.search(r"resuming from checkpoint: epoch (\d+), ([\d,]+) records", log)
    assert m and int(m.group(1)) == info["epoch"]
    assert int(m.group(2).replace(",", "")) == info["epoch_records"]


@pytest.mark.parametrize("change,needle", [
    ("hp", "the hyperparameters differ"),
    ("data", "the data differ"),
    ("ranks", "made by 1 ranks and this job has 2"),
])
def test_mismatching_checkpoint_is_client_error(ml_root, smalgo_bin, tmp_path, change, needle):
    if change == "ranks" and not have_mpirun():
        pytest.skip("mpirun not installed")
    job = small_job(ml_root, smalgo_bin, tmp_path)
    rc, log, _ = job.run(trigger="checkpoint 1 written")
    assert rc == 1, log[-3000:]
    if change == "hp":
        ml_root.write_hyperparameters(dict(HP["kmeans"], k="7"))
    elif change == "data":
        write_parts(ml_root.channel_dir("train"), data(1)[:1000], 1, ext="extra.pbr")
    else:
        job.ranks = 2
    rc, log, _ = job.run()
    assert rc != 0, log[-3000:]
    text = failure(ml_root)
    assert text.startswith("ClientError") and needle in text, text
    assert "to start fresh, delete the smalgo-*.ckpt files in" in text
    assert not ml_root.model_file().exists()


def test_corrupt_checkpoint_is_reported_not_used(ml_root, smalgo_bin, tmp_path):
    job = small_job(ml_root, smalgo_bin, tmp_path)
    rc, log, _ = job.run(trigger="checkpoint 2 written")
    assert rc == 1, log[-3000:]
    victim = sorted(job.ckpt.glob("*.ckpt"))[0]
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    victim.write_bytes(bytes(raw))
    rc, log, _ = job.run()
    text = failure(ml_root)
    assert rc == 1 and "CRC32C" in text and "damaged and was not used" in text, text
    victim.write_bytes(bytes(raw[: len(raw) // 3]))  # truncated
    rc, log, _ = job.run()
    assert rc == 1 and "truncated" in failure(ml_root), failure(ml_root)


def test_checkpoints_folder_of_the_ml_root_is_used(ml_root, smalgo_bin, tmp_path):
    job = small_job(ml_root, smalgo_bin, tmp_path)
    folder = ml_root.root / "checkpoints"
    folder.mkdir()
    env = dict(job.env)
    cmd = [str(smalgo_bin), "train", "--ml-root", str(ml_root.root), "--algorithm", "kmeans"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in folder.iterdir()) == ["smalgo-kmeans-rank0.a.ckpt",
                                                        "smalgo-kmeans-rank0.b.ckpt"]
    assert "Checkpoints: on" in proc.stdout + proc.stderr
    shutil.rmtree(folder)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
    assert proc.returncode == 0 and "Checkpoints: on" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("value", ["0", "-1", "soon", "1e9"])
def test_bad_interval_is_client_error(ml_root, smalgo_bin, tmp_path, value):
    job = small_job(ml_root, smalgo_bin, tmp_path)
    job.env["SMALGO_CHECKPOINT_INTERVAL_S"] = value
    rc, log, _ = job.run()
    assert rc == 1
    assert "SMALGO_CHECKPOINT_INTERVAL_S" in failure(ml_root), failure(ml_root)


def test_default_interval_spares_a_short_job(ml_root, smalgo_bin, tmp_path):
    """At the default interval (60 s or more) a job of a few seconds writes no
    checkpoint at all, not even the final one: starting it over costs less."""
    job = small_job(ml_root, smalgo_bin, tmp_path)
    del job.env["SMALGO_CHECKPOINT_INTERVAL_S"]
    rc, log, _ = job.run()
    assert rc == 0, log[-3000:]
    assert "Checkpoints: on" in log and "60 s or more" in log
    assert not list(job.ckpt.glob("*.ckpt")), log[-3000:]


def test_open_group_of_minibatches_resumes_to_the_same_model(ml_root, smalgo_bin, tmp_path,
                                                            run_smalgo):
    """k-means on 2 ranks merging all of an epoch's local mini-batches into one
    allreduce (SMALGO_KMEANS_ALLREDUCE_EVERY=1000, more than the 125 batches a
    rank has): a checkpoint taken inside an epoch holds the open group (section
    KMGR, algorithms/kmeans_group.h), and a job stopped there resumes to the
    uninterrupted model, byte for byte. 20 epochs: with one step per epoch the
    stream is short, and the stops must land inside it. No polish: the model is
    then the shrink of the streaming centers, so a group lost or counted twice
    changes it (the polish's restarts on the sample could hide that)."""
    if not have_mpirun():
        pytest.skip("mpirun not installed")
    job = Job(ml_root, smalgo_bin, "kmeans", "File", 2, tmp_path)
    ml_root.write_hyperparameters(dict(HP["kmeans"], epochs="20"))
    job.env.update(SMALGO_KMEANS_ALLREDUCE_EVERY="1000", SMALGO_KMEANS_POLISH="0")
    rc, log, _ = job.run(checkpoints=False)
    assert rc == 0, log[-3000:]
    assert "every 1000 mini-batch(es) per rank (SMALGO_KMEANS_ALLREDUCE_EVERY)" in log
    reference = job.root.model_file().read_bytes()
    with_group = resumed = 0
    for trigger in ("checkpoint 2 written", "checkpoint 5 written", "epoch 3:"):
        shutil.rmtree(job.ckpt, ignore_errors=True)
        rc, log, sent = job.run(trigger=trigger)
        print(f"stop {trigger}: rc {rc}, sent {sent}")
        if rc == 0:
            continue  # the job finished before the stop landed (a busy machine)
        assert sent, log[-3000:]
        for path in job.ckpt.glob("*.ckpt"):
            out = run_smalgo("inspect", path)
            assert out.returncode == 0, out.stderr
            tags = [s["tag"] for s in __import__("json").loads(out.stdout)["sections"]]
            with_group += "KMGR" in tags
        model, logs = job.finish()
        resumed += any("resuming from checkpoint" in x for x in logs)
        assert model == reference, f"stop at {trigger}: model differs"
    assert resumed >= 2 and with_group >= 2, (resumed, with_group)
