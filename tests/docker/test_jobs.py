"""Training jobs in the real images, emulated the way SageMaker runs them (harness.py).

PCA and k-means, File and Pipe mode, on 1, 2 and 3 hosts, with the train channel
ShardedByS3Key (so the hosts together read the data set exactly once) and the
test channel FullyReplicated. A multi-host model must agree with the single-host
model of the same data: PCA singular values, mean and components (up to sign)
within 1e-6 relative; k-means test msd within 1 %. Every job must exit 0 on
every host, write model_algo-1 on the leader only, no failure file, and log the
#metrics line and the test metric.
"""
import re

import numpy as np
import pytest

from jobdata import KMEANS_HP, PCA_HP, msd, read_model
from harness import Channel, LocalJob

HP = {"pca": PCA_HP, "kmeans": KMEANS_HP}
_single = {}


def run_job(tmp_path, images, algo, data, hosts, mode, distribution="ShardedByS3Key"):
    channels = {"train": Channel(data.train, mode=mode, distribution=distribution),
                "test": Channel(data.test, mode=mode)}
    job = LocalJob(tmp_path / f"{algo}-{mode}-{hosts}", images[algo], hosts=hosts,
                   hyperparameters=HP[algo], channels=channels)
    codes = job.run(timeout=240)
    log = job.log_text()
    assert codes == {h: 0 for h in job.hosts}, log
    for h in job.hosts:
        assert job.failure(h) is None, (h, job.failure(h))
        written = sorted(p.name for p in (job.host_dir(h) / "model").iterdir())
        assert written == (["model_algo-1"] if h == "algo-1" else []), (h, written)
    leader = job.logs["algo-1"]
    assert "#metrics {" in leader, log
    assert re.search(r"#quality_metric: host=algo-1, test \S+ <loss>=", leader), log
    return job


def single_host(tmp_path_factory, images, algo, data, mode):
    key = (algo, mode)
    if key not in _single:
        job = run_job(tmp_path_factory.mktemp("single"), images, algo, data, 1, mode)
        _single[key] = job.model()
    return _single[key]


def check_pca(model, reference, data):
    got, ref = read_model(model), read_model(reference)
    assert set(got) == {"s", "v", "mean"}
    for name in ("s", "mean"):
        rel = np.abs(got[name] - ref[name]).max() / np.abs(ref[name]).max()
        assert rel <= 1e-6, (name, rel)
    signs = np.sign((got["v"] * ref["v"]).sum(axis=0))
    rel = np.abs(got["v"] * signs - ref["v"]).max() / np.abs(ref["v"]).max()
    assert rel <= 1e-6, ("v", rel)
    # And the model is PCA of the data: singular values of the centred data.
    x = data.train_x.astype(np.float32).astype(np.float64)
    s = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)[:4]
    assert np.allclose(np.sort(got["s"]), np.sort(s), rtol=1e-3)


def check_kmeans(model, reference, data):
    got = read_model(model)["0"]
    ref = read_model(reference)["0"]
    assert got.shape == ref.shape == (5, 8)
    m_got, m_ref = msd(got, data.test_x), msd(ref, data.test_x)
    assert abs(m_got - m_ref) <= 0.01 * m_ref, (m_got, m_ref)
    assert m_got < 1.5 * 8, m_got  # unit-variance blobs in 8 dimensions: msd near 8


@pytest.mark.parametrize("hosts", [1, 2, 3])
@pytest.mark.parametrize("mode", ["File", "Pipe"])
@pytest.mark.parametrize("algo", ["pca", "kmeans"])
def test_train(tmp_path, tmp_path_factory, images, host_smalgo, pca_data, kmeans_data, algo,
               mode, hosts):
    data = pca_data if algo == "pca" else kmeans_data
    reference = single_host(tmp_path_factory, images, algo, data, mode)
    model = reference if hosts == 1 else run_job(tmp_path, images, algo, data, hosts,
                                                 mode).model()
    check = check_pca if algo == "pca" else check_kmeans
    check(model, reference, data)


def test_kmeans_fully_replicated(tmp_path, tmp_path_factory, images, host_smalgo, kmeans_data):
    """Every host reads the whole data set: the centres are those of the same data."""
    reference = single_host(tmp_path_factory, images, "kmeans", kmeans_data, "File")
    job = run_job(tmp_path, images, "kmeans", kmeans_data, 2, "File",
                  distribution="FullyReplicated")
    check_kmeans(job.model(), reference, kmeans_data)


def test_no_argument_trains(tmp_path, images, pca_data):
    """`docker run IMAGE` with no command trains, as SDK v3 local mode starts it."""
    import subprocess

    job = LocalJob(tmp_path / "noarg", images["pca"], hosts=1, hyperparameters=PCA_HP,
                   channels={"train": Channel(pca_data.train)})
    root = job.host_dir("algo-1")
    out = subprocess.run(["docker", "run", "--rm", "--entrypoint", "/usr/local/bin/smalgo-entrypoint",
                          "-v", f"{root}/input:/opt/ml/input", "-v", f"{root}/output:/opt/ml/output",
                          "-v", f"{root}/model:/opt/ml/model", images["pca"]],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert job.model().exists()


def test_missing_interface_falls_back(tmp_path, images, pca_data):
    """network_interface_name "ethwe" (SDK v3 local mode writes it; no docker bridge
    has it): the entrypoint uses the default route's interface instead."""
    job = LocalJob(tmp_path / "ethwe", images["pca"], hosts=2, hyperparameters=PCA_HP,
                   channels={"train": Channel(pca_data.train, distribution="ShardedByS3Key")},
                   interface="ethwe")
    codes = job.run(timeout=240)
    assert codes == {"algo-1": 0, "algo-2": 0}, job.log_text()
    assert "network_interface_name ethwe does not exist here; using eth0" in job.logs["algo-1"]
    assert job.model().exists()
