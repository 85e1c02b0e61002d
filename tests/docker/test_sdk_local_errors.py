"""The mistakes a user can make on the way to the SDK's built-in classes in local mode,
and the message that says what to do about each.

- The images are not tagged with the region's ECR names: the SDK would try to log
  in to Amazon ECR and pull Amazon's image (its own error says nothing of smalgo,
  and the attempt leaves the machine, so the test does not make it).
  docker/sdk-local-check.py names the missing image and the command that tags it.
- The S3 endpoint is this machine's loopback (the server's 127.0.0.1 port): the
  SDK's uploads work, but it passes the same endpoint to the training container,
  where 127.0.0.1 is the container. The check says so and what to use instead; the
  training job itself fails with smalgo's S3 error naming the endpoint.
- The manifest lists a key that is not in S3: the job fails, and its failure
  message names the s3:// URI and S3's NoSuchKey.
"""
import subprocess
import sys

import pytest

from sdkbuiltin import (BUCKET, REGION, REPO, ROLE, ecr_name, image_id,
                        sdk_environment, user_setup)

CHECK = str(REPO / "docker" / "sdk-local-check.py")


def check(region, timeout=180):
    out = subprocess.run([sys.executable, CHECK, region], capture_output=True, text=True,
                         timeout=timeout)
    return out.returncode, out.stdout + out.stderr


def test_check_passes_when_set_up(local_s3, ecr_images, tmp_path):
    with sdk_environment(local_s3, tmp_path):
        code, out = check(REGION)
    assert code == 0, out
    assert out.count("ok:") == 3, out
    assert f"S3 endpoint {local_s3.endpoint} is reachable from containers" in out, out


def test_images_not_tagged(local_s3, ecr_images, tmp_path):
    candidates = ["ap-southeast-2", "eu-north-1", "ca-central-1", "sa-east-1"]
    region = next((r for r in candidates
                   if image_id(ecr_name("kmeans", r)) is None
                   and image_id(ecr_name("pca", r)) is None), None)
    if region is None:
        pytest.skip(f"every candidate region's ECR names are tagged here: {candidates}")
    with sdk_environment(local_s3, tmp_path):
        code, out = check(region)
    assert code == 1, out
    for algo in ("kmeans", "pca"):
        assert f"error: Docker has no image {ecr_name(algo, region)}" in out, out
    assert f"Fix: SMALGO_TAG_AS_ECR={region} make image" in out, out
    assert f"docker/tag-as-ecr.sh {region}" in out, out


def test_loopback_endpoint(local_s3, ecr_images, tmp_path):
    with sdk_environment(local_s3, tmp_path, AWS_ENDPOINT_URL=local_s3.loopback_url):
        code, out = check(REGION)
    assert code == 1, out
    assert f"the S3 endpoint {local_s3.loopback_url} is a loopback address" in out, out
    assert "inside a container 127.0.0.1 is the container itself" in out, out
    assert 'Fix: eval "$(docker/local-s3.sh start)"' in out, out


def test_no_endpoint(ecr_images, monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    code, out = check(REGION)
    assert code == 1 and "no S3 endpoint is set" in out, out


def test_training_with_a_loopback_endpoint_says_what_to_do(local_s3, ecr_images, tmp_path,
                                                          capfd):
    """The SDK itself accepts the loopback endpoint (its uploads work); the training
    container cannot reach it, and smalgo's failure names the endpoint."""
    import numpy as np
    from sagemaker import KMeans

    with user_setup(local_s3, tmp_path) as (session, _):
        pass  # the bucket now exists
    with sdk_environment(local_s3, tmp_path, AWS_ENDPOINT_URL=local_s3.loopback_url):
        from sdkbuiltin import builtin_session

        session = builtin_session()
        kmeans = KMeans(role=ROLE, instance_count=1, instance_type="local", k=2,
                        sagemaker_session=session)
        x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
        with pytest.raises(Exception):  # local mode: "... exited with code 1"
            kmeans.fit(kmeans.record_set(x, distribution="FullyReplicated"))
    log = capfd.readouterr().out  # the container's log, as the SDK streams it
    assert f"the S3 endpoint {local_s3.loopback_url} (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) " \
           "is not reachable from here" in log, log
    assert "docker/local-s3.sh prints one" in log, log


def test_manifest_with_a_missing_key(local_s3, ecr_images, tmp_path, capfd):
    import numpy as np
    from sagemaker import KMeans

    with user_setup(local_s3, tmp_path) as (session, s3):
        kmeans = KMeans(role=ROLE, instance_count=2, instance_type="local", k=2,
                        sagemaker_session=session)
        x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
        records = kmeans.record_set(x, distribution="FullyReplicated")
        prefix = records.s3_data[len(f"s3://{BUCKET}/"):].rsplit("/", 1)[0]
        missing = f"{prefix}/matrix_1.pbr"
        s3.delete_object(Bucket=BUCKET, Key=missing)
        with pytest.raises(Exception):
            kmeans.fit(records)
    log = capfd.readouterr().out
    assert f"s3://{BUCKET}/{missing}" in log and "NoSuchKey" in log, log
