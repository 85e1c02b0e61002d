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

HP = {"pca": PCA_HP, "kmeans": KMEANS_HP}


@pytest.fixture
def offline_aws(monkeypatch, tmp_path):
    """No credentials, no config files, no instance metadata: nothing to find."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")


@pytest.fixture
def remove_sdk_containers(images):
    """The SDK leaves its exited containers behind; remove the ones this test made
    (new since the test began, from our images, named <10 chars>-algo-N-<5 chars>)."""
    def ids():
        found = set()
        for image in images.values():
            out = subprocess.run(["docker", "ps", "-a", "--no-trunc", "--filter",
                                  f"ancestor={image}", "--format", "{{.ID}} {{.Names}}"],
                                 capture_output=True, text=True)
            for line in out.stdout.split("\n"):
                parts = line.split()
                if len(parts) == 2 and re.fullmatch(r"[a-z0-9]{10}-algo-\d+-[a-z0-9]{5}",
                                                    parts[1]):
                    found.add(parts[0])
        return found
    before = ids()
    yield
    new = sorted(ids() - before)
    if new:
        subprocess.run(["docker", "rm", "-f", *new], capture_output=True)


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("algo", ["pca", "kmeans"])
def test_sdk_local_mode(tmp_path, images, pca_data, kmeans_data, offline_aws, capfd,
                        remove_sdk_containers, algo, count):
    import boto3
    from sagemaker.estimator import Estimator
    from sagemaker.local import LocalSession

    data = pca_data if algo == "pca" else kmeans_data
    out = tmp_path / "out"
    out.mkdir()
    # Telemetry opted out: offline it would only log a stack trace per call.
    session = LocalSession(boto_session=boto3.Session(region_name="us-east-1"),
                           sagemaker_config={"SchemaVersion": "1.0", "SageMaker": {
                               "PythonSDK": {"Modules": {"TelemetryOptOut": True}}}})
    session.config = {"local": {"local_code": True}}
    estimator = Estimator(image_uri=images[algo], role="arn:aws:iam::111111111111:role/dummy",
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
