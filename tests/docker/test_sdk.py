"""The real client: SageMaker Python SDK v2 local mode drives the images.

sagemaker.estimator.Estimator(instance_type="local", instance_count=1 or 2) with a
LocalSession that has a fixed region and no AWS credentials at all, file://
channels written by the SDK's own write_numpy_to_dense_tensor, and a file://
output path. The SDK lays out /opt/ml per host itself, writes its own compose
file (hosts algo-1-<suffix>, algo-2-<suffix> on the `sagemaker-local` network)
and runs `docker compose up --abort-on-container-exit` (or docker-compose v1,
which it falls back to when the v2 plugin is absent, as on Debian 12).

The model file is model_<current_host>: in SDK local mode current_host carries
the SDK's random suffix (algo-1-ab12c), on SageMaker it is algo-1.
"""
import re
import subprocess
import tarfile

import pytest

from jobdata import KMEANS_HP, PCA_HP
from smgkit.sdklocal import ROLE, container_ids, go_offline, local_session

HP = {"pca": PCA_HP, "kmeans": KMEANS_HP}


@pytest.fixture
def offline_aws(monkeypatch, tmp_path):
    """No credentials, no config files, no instance metadata: nothing to find."""
    go_offline(monkeypatch, tmp_path)


@pytest.fixture
def remove_sdk_containers(images):
    """The SDK leaves its exited containers behind; remove the ones this test made
    (new since the test began, from our images, named <10 chars>-algo-N-<5 chars>)."""
    before = container_ids(images.values())
    yield
    new = sorted(container_ids(images.values()) - before)
    if new:
        subprocess.run(["docker", "rm", "-f", *new], capture_output=True)


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("algo", ["pca", "kmeans"])
def test_sdk_local_mode(tmp_path, images, pca_data, kmeans_data, offline_aws, capfd,
                        remove_sdk_containers, algo, count):
    from sagemaker.estimator import Estimator

    data = pca_data if algo == "pca" else kmeans_data
    out = tmp_path / "out"
    out.mkdir()
    session = local_session()
    estimator = Estimator(image_uri=images[algo], role=ROLE,
                          instance_count=count, instance_type="local",
                          hyperparameters=HP[algo], sagemaker_session=session,
                          output_path=f"file://{out}")
    estimator.fit({"train": f"file://{data.train}", "test": f"file://{data.test}"})
    log = capfd.readouterr().out

    with tarfile.open(out / "model.tar.gz") as tar:
        names = tar.getnames()
    assert len(names) == 1 and re.fullmatch(r"model_algo-1(-[a-z0-9]{5})?", names[0]), names
    assert "#metrics {" in log, log
    assert re.search(r"#quality_metric: host=algo-1(-[a-z0-9]{5})?, test \S+ <loss>=", log), log
    if count > 1:
        assert "starting mpirun" in log, log
