"""Checkpoint and resume across hosts (issue 15): a 2-host k-means job with a
checkpoint folder per host (as SageMaker's checkpoint_local_path), stopped
mid-training with `docker stop` on every host (SIGTERM, as a spot interruption
or StopTrainingJob delivers it), then started again with the same folders,
ends with the model of an uninterrupted run, byte for byte.

The job is made long enough to stop mid-training by many small epochs; the
stop waits for the leader's log to show periodic checkpoints, and every wait
is bounded.
"""
import time

from harness import Channel, LocalJob
from jobdata import KMEANS_HP

# 3000 epochs: with the allreduce grouping (8 mini-batches per step on 2
# hosts here) 600 epochs trained in 1.4 s and ended before the stop landed.
HP = dict(KMEANS_HP, mini_batch_size=40, epochs=3000)
ENV = {"SMALGO_CHECKPOINT_INTERVAL_S": "0.5"}


def make_job(workdir, image, data):
    return LocalJob(workdir, image, hosts=2, hyperparameters=HP,
                    channels={"train": Channel(data.train, distribution="ShardedByS3Key")},
                    env=ENV, checkpoints=True)


def wait_for_log(job, host, needle, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.collect_logs()
        if needle in job.logs.get(host, ""):
            return True
        if not job.running(host):
            return False
        time.sleep(0.3)
    return False


def test_two_host_job_stopped_and_restarted_gives_the_same_model(tmp_path, images, kmeans_data):
    reference = make_job(tmp_path / "reference", images["kmeans"], kmeans_data)
    codes = reference.run(timeout=600)
    assert codes == {"algo-1": 0, "algo-2": 0}, reference.log_text()
    want = reference.model().read_bytes()

    t0 = time.monotonic()
    first = make_job(tmp_path / "job", images["kmeans"], kmeans_data)
    with first:
        first.start()
        reached = wait_for_log(first, "algo-1", "checkpoint 3 written")
        t1 = time.monotonic()
        stoppers = [first.stop(h, grace=120) for h in first.hosts]
        for s in stoppers:
            s.wait(timeout=180)
        first.wait(timeout=180)
    print(f"start to 3rd checkpoint {t1 - t0:.1f} s, stop {time.monotonic() - t1:.1f} s")
    assert reached, "the job ended before its third checkpoint:\n" + first.log_text()
    assert not first.model().exists(), first.log_text()
    assert list((first.host_dir("algo-2") / "checkpoints").glob("smalgo-kmeans-rank1.*.ckpt"))

    again = make_job(tmp_path / "job", images["kmeans"], kmeans_data)  # same folders
    codes = again.run(timeout=600)
    log = again.log_text()
    assert codes == {"algo-1": 0, "algo-2": 0}, log
    assert "resuming from checkpoint: epoch" in log, log
    assert again.model().read_bytes() == want
