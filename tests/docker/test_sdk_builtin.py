"""The SageMaker SDK's first-party k-means and PCA classes, unchanged, in local mode.

The code is the SDK's own integration-test flow (sagemaker-python-sdk
tests/integ/test_kmeans.py and test_pca.py), run as the README's section "Use the
SDK's built-in classes locally" shows. Its only departures from SageMaker-hosted
code: instance_type="local", a LocalSession (with a named default bucket), the
local S3 server's endpoint in the environment, and record_set(...,
distribution="FullyReplicated"), because local mode refuses the ShardedByS3Key
that record_set asks for by default. No image_uri: the images carry the region's
ECR names (docker/tag-as-ecr.sh).

record_set uploads recordIO shards and a `.amazon.manifest` to S3; local mode puts
only the manifest in the channel folder, and smalgo streams the listed objects
from S3 itself, through the endpoint and keys the SDK passes to the container.

Also here: the images' ECR names as the SDK computes them, and the local S3 server
reached with the same endpoint and keys from this machine and from a container on
the sagemaker-local network.
"""
import re
import subprocess

import numpy as np
import pytest

from sdkbuiltin import (BUCKET, REGION, ROLE, ecr_name, image_id, model_arrays,
                        user_setup)
from test_deploy import check_kmeans, check_pca



@pytest.fixture(scope="module")
def sdk(local_s3, ecr_images, tmp_path_factory):
    with user_setup(local_s3, tmp_path_factory.mktemp("aws")) as setup:
        yield setup


def blobs(seed, n, d, k):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(k, d))
    return (centres[rng.integers(0, k, size=n)] + rng.normal(size=(n, d))).astype(np.float32)


def test_images_carry_the_regions_ecr_names(images, ecr_images, sdk):
    from sagemaker import PCA, KMeans

    session, _ = sdk
    for algo, cls in (("kmeans", KMeans), ("pca", PCA)):
        est = cls(role=ROLE, instance_count=1, instance_type="local", sagemaker_session=session,
                  **({"k": 2} if algo == "kmeans" else {"num_components": 2}))
        assert est.training_image_uri() == ecr_name(algo) in ecr_images
        assert image_id(ecr_name(algo)) == image_id(images[algo]), algo
    assert ecr_name("kmeans", "us-west-2").startswith("174872318107.dkr.ecr.us-west-2.")


def test_local_s3_from_host_and_container(local_s3, sdk):
    """One endpoint and one set of keys serve this machine and a container on
    sagemaker-local (where the SDK runs training): a signed PUT here, a signed GET
    there (boto3 in the S3 server's image, with the environment the SDK passes)."""
    _, s3 = sdk
    s3.put_object(Bucket=BUCKET, Key="reach/probe.txt", Body=b"from the host")
    env = []
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env += ["-e", f"{key}={local_s3.env[key]}"]
    env += ["-e", f"AWS_ENDPOINT_URL_S3={local_s3.endpoint}", "-e", f"AWS_REGION={REGION}"]
    code = (f"import boto3; print(boto3.client('s3').get_object(Bucket='{BUCKET}', "
            "Key='reach/probe.txt')['Body'].read().decode())")
    out = subprocess.run(["docker", "run", "--rm", "--network", "sagemaker-local", *env,
                          "--entrypoint", "/opt/moto/bin/python", local_s3.image, "-c", code],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "from the host", out.stderr
    # The loopback port answers on this machine too.
    import urllib.request
    with urllib.request.urlopen(local_s3.loopback_url + "/moto-api/", timeout=5) as r:
        assert r.status == 200


def kmeans_estimator(session, count):
    """The SDK integration test's estimator (test_kmeans.py), instance_type local."""
    from sagemaker import KMeans

    kmeans = KMeans(role=ROLE, instance_count=count, instance_type="local", k=10,
                    sagemaker_session=session)
    kmeans.init_method = "random"
    kmeans.max_iterations = 1
    kmeans.tol = 1
    kmeans.num_trials = 1
    kmeans.local_init_method = "kmeans++"
    kmeans.half_life_time_size = 1
    kmeans.epochs = 1
    kmeans.center_factor = 1
    kmeans.eval_metrics = ["ssd", "msd"]
    return kmeans


def test_kmeans_sdk_flow(sdk, tmp_path):
    from sagemaker import KMeansModel

    session, s3 = sdk
    x = blobs(1, 200, 32, 10)
    kmeans = kmeans_estimator(session, 1)
    # What SDK 2.257.7 (tests/requirements.txt) sends for them: max_iterations, tol,
    # num_trials and local_init_method go out as local_lloyd_* names.
    assert kmeans.hyperparameters() == {
        "k": "10", "force_dense": "True", "init_method": "random",
        "local_lloyd_max_iter": "1", "local_lloyd_tol": "1.0", "local_lloyd_num_trials": "1",
        "local_lloyd_init_method": "kmeans++", "half_life_time_size": "1", "epochs": "1",
        "extra_center_factor": "1", "eval_metrics": '["ssd", "msd"]'}
    kmeans.fit(kmeans.record_set(x[:100], distribution="FullyReplicated"))

    model = KMeansModel(kmeans.model_data, role=ROLE, sagemaker_session=session)
    predictor = model.deploy(1, "local")
    try:
        result = predictor.predict(x[:10])
    finally:
        predictor.delete_endpoint()
    assert len(result) == 10
    for record in result:
        assert record.label["closest_cluster"] is not None
        assert record.label["distance_to_cluster"] is not None
    arrays = model_arrays(s3, kmeans.model_data, tmp_path)
    assert arrays["0"].shape == (10, 32)
    check_kmeans(arrays, x[:10].astype(np.float64),
                 [r.label["closest_cluster"].float32_tensor.values[0] for r in result],
                 [r.label["distance_to_cluster"].float32_tensor.values[0] for r in result])


def test_kmeans_two_instances_with_test_channel(sdk, capfd):
    session, _ = sdk
    x = blobs(2, 400, 16, 10)
    kmeans = kmeans_estimator(session, 2)
    train = kmeans.record_set(x[:300], distribution="FullyReplicated")
    test = kmeans.record_set(x[300:], channel="test", distribution="FullyReplicated")
    kmeans.fit([train, test])
    log = capfd.readouterr().out
    # The lines SageMaker's console and the SDK's metric definitions read.
    for metric in ("msd", "ssd"):
        assert re.search(rf"#quality_metric: host=algo-1-[a-z0-9]{{5}}, test {metric} "
                         r"<loss>=\d", log), log
    assert "starting mpirun" in log, log


def test_pca_sdk_flow(sdk, tmp_path):
    from sagemaker import PCA, PCAModel

    session, s3 = sdk
    x = blobs(3, 100, 64, 12)
    pca = PCA(role=ROLE, instance_count=1, instance_type="local", num_components=48,
              sagemaker_session=session)
    pca.algorithm_mode = "randomized"
    pca.subtract_mean = True
    pca.extra_components = 5
    pca.fit(pca.record_set(x[:100], distribution="FullyReplicated"))

    model = PCAModel(model_data=pca.model_data, role=ROLE, sagemaker_session=session)
    predictor = model.deploy(initial_instance_count=1, instance_type="local")
    try:
        result = predictor.predict(x[:5])
    finally:
        predictor.delete_endpoint()
    assert len(result) == 5
    for record in result:
        assert len(record.label["projection"].float32_tensor.values) == 48
    arrays = model_arrays(s3, pca.model_data, tmp_path)
    check_pca(arrays, x[:5].astype(np.float64),
              [list(r.label["projection"].float32_tensor.values) for r in result])
