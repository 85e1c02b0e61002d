"""Multi-host faults: a lost worker, a worker that never comes up, a stopped leader.

To hold a job "mid-training" for as long as a test needs, the train channel is in
Pipe mode and only some hosts get a Pipe agent: the others' ranks wait for their
FIFO (SMALGO_PIPE_TIMEOUT_MS is long) while the leader's rank waits for them in
the allreduce. Every rank is then running, as in the middle of a long job.
"""
import time

from jobdata import PCA_HP
from harness import Channel, LocalJob

STALL_ENV = {"SMALGO_PIPE_TIMEOUT_MS": "600000"}


def stalled_job(tmp_path, images, pca_data, hosts, env=None):
    job = LocalJob(tmp_path / "job", images["pca"], hosts=hosts, hyperparameters=PCA_HP,
                   channels={"train": Channel(pca_data.train, mode="Pipe",
                                              distribution="ShardedByS3Key")},
                   env={**STALL_ENV, **(env or {})})
    return job


def test_worker_killed_mid_training(tmp_path, images, pca_data):
    job = stalled_job(tmp_path, images, pca_data, 3)
    with job:
        job.start(pipe_hosts=["algo-1"])
        for host in job.hosts:
            job.wait_for_process(host, "smalgo")
        time.sleep(1)
        job.kill("algo-2")
        killed = time.monotonic()
        codes = job.wait(timeout=120)
    log = job.log_text()
    assert codes["algo-2"] == 137
    assert codes["algo-1"] != 0 and codes["algo-3"] != 0, (codes, log)
    assert job.ended_at["algo-1"] - killed <= 60, log
    assert job.ended_at["algo-3"] - killed <= 60, log
    failure = job.failure("algo-1")
    assert failure and "algo-2" in failure, (failure, log)
    other = job.failure("algo-3")  # the job's cause first, then what its own rank saw
    assert other and other.startswith(failure.strip()), (other, log)
    assert not job.model().exists()


def test_worker_never_comes_up(tmp_path, images, pca_data):
    job = stalled_job(tmp_path, images, pca_data, 2, env={"SMALGO_HOST_WAIT_SECONDS": "8"})
    job.start_hosts = ["algo-1"]
    with job:
        job.start()
        codes = job.wait(timeout=120)
    elapsed = job.ended_at["algo-1"] - job.started_at
    assert codes == {"algo-1": 1}, job.log_text()
    assert elapsed < 40, elapsed
    failure = job.failure("algo-1")
    assert failure.startswith("ClientError") and "algo-2" in failure, failure


def test_leader_stopped(tmp_path, images, pca_data):
    """docker stop (SIGTERM, then SIGKILL after 120 s) on the leader ends every host."""
    job = stalled_job(tmp_path, images, pca_data, 3)
    with job:
        job.start(pipe_hosts=["algo-1"])
        for host in job.hosts:
            job.wait_for_process(host, "smalgo")
        stopper = job.stop("algo-1", grace=120)
        stopped = time.monotonic()
        codes = job.wait(timeout=150)
        stopper.wait(timeout=30)
    log = job.log_text()
    for host in job.hosts:
        assert job.ended_at[host] - stopped <= 120, (host, log)
        assert codes[host] not in (0, 137), (codes, log)  # ended on SIGTERM, not SIGKILL
    assert not job.model().exists()


def test_single_host_stopped(tmp_path, images, pca_data):
    """One host: smalgo itself is PID 1 (exec form, exec'd by the entrypoint) and
    ends on SIGTERM at once, without waiting for docker's SIGKILL."""
    job = stalled_job(tmp_path, images, pca_data, 1)
    with job:
        job.start(pipe_hosts=[])
        job.wait_for_process("algo-1", "smalgo")
        stopper = job.stop("algo-1", grace=120)
        stopped = time.monotonic()
        codes = job.wait(timeout=150)
        stopper.wait(timeout=30)
    assert job.ended_at["algo-1"] - stopped <= 20, job.log_text()
    assert codes["algo-1"] not in (0, 137), (codes, job.log_text())
