"""Helpers for the tests of the SageMaker SDK's first-party classes (sagemaker.KMeans,
sagemaker.PCA, their Model, Predictor and Transformer) in local mode on smalgo.

What they set up is what a user does by hand (docker/README.md, "Use the SDK's
built-in classes locally"):
  - the smalgo images tagged with the region's ECR names, by docker/tag-as-ecr.sh;
  - a local S3 (and STS) server, by docker/local-s3.sh, on the `sagemaker-local`
    network with a port on 127.0.0.1; its `export` lines are the environment of
    the SDK (the endpoint is the server's address on that network, which this
    machine and the training containers both reach);
  - a LocalSession in REGION with telemetry opted out.
Nothing else about the SDK is changed: no patching, no stand-ins.
"""
import contextlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

from smgkit import paths
from smgkit.net import free_port
from smgkit.sdklocal import go_offline

REPO = paths.REPO
REGION = "us-west-2"
ROLE = "arn:aws:iam::111111111111:role/any"
BUCKET = "sagemaker-local"


class LocalS3:
    """A running docker/local-s3.sh server: its environment (`env`), its address
    on this machine's loopback (`loopback_url`), and its container."""

    def __init__(self, image, container, python=sys.executable):
        self.image = image
        self.container = container
        self.script_env = dict(os.environ, SMALGO_S3_IMAGE=image, SMALGO_S3_CONTAINER=container,
                               SMALGO_S3_ALIAS=container, SMALGO_PYTHON=python,
                               AWS_DEFAULT_REGION=REGION)
        out = self._script("start", timeout=900)
        self.env = dict(re.findall(r"([A-Z_]+)=(\S+)", " ".join(
            line[len("export "):] for line in out.splitlines() if line.startswith("export "))))
        self.endpoint = self.env["AWS_ENDPOINT_URL"]
        port = re.search(r"http://127\.0\.0\.1:(\d+)", out).group(1)
        self.loopback_url = f"http://127.0.0.1:{port}"

    def _script(self, command, timeout=120):
        out = subprocess.run(["sh", str(REPO / "docker" / "local-s3.sh"), command],
                             capture_output=True, text=True, env=self.script_env, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"local-s3.sh {command} failed:\n{out.stdout}{out.stderr}")
        return out.stdout

    def stop(self):
        self._script("stop")


def ecr_name(algo, region=REGION):
    from sagemaker import image_uris

    return image_uris.retrieve(algo, region)


def image_id(name):
    out = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", name],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


@contextlib.contextmanager
def tagged_as_ecr(tag, region=REGION):
    """docker/tag-as-ecr.sh REGION on smalgo-*:tag; afterwards each ECR name is put
    back as it was (removed if it was not there, re-pointed if it was)."""
    names = [ecr_name(a, region) for a in ("kmeans", "pca")]
    before = {n: image_id(n) for n in names}
    env = dict(os.environ, SMALGO_IMAGE_TAG=tag, SMALGO_PYTHON=sys.executable)
    subprocess.run(["sh", str(REPO / "docker" / "tag-as-ecr.sh"), region], check=True, env=env,
                   capture_output=True)
    try:
        yield names
    finally:
        for name, old in before.items():
            if old is None:
                subprocess.run(["docker", "rmi", name], capture_output=True)
            else:
                subprocess.run(["docker", "tag", old, name], capture_output=True)


@contextlib.contextmanager
def sdk_environment(s3, tmp_path, **overrides):
    """The process environment a user has after `eval "$(docker/local-s3.sh start)"`:
    no other AWS configuration to find, the server's endpoint, keys and region."""
    mp = pytest.MonkeyPatch()
    go_offline(mp, tmp_path)
    for key, value in {**s3.env, **overrides}.items():
        mp.setenv(key, value)
    try:
        yield
    finally:
        mp.undo()


def builtin_session(serving_port=None):
    """The LocalSession of the README's code: REGION, a named default bucket (else the
    SDK asks Amazon STS for the account, at an endpoint it sets itself), telemetry
    opted out, serving on a free port (so nothing else here collides with 8080)."""
    import boto3
    from sagemaker.local import LocalSession

    session = LocalSession(boto_session=boto3.Session(region_name=REGION), default_bucket=BUCKET,
                           sagemaker_config={"SchemaVersion": "1.0", "SageMaker": {
                               "PythonSDK": {"Modules": {"TelemetryOptOut": True}}}})
    session.config = {"local": {"serving_port": serving_port or free_port()}}
    return session


@contextlib.contextmanager
def user_setup(s3, tmp_path):
    """What the README's user has: the environment of `local-s3.sh start`, the
    LocalSession with its default bucket made, and a boto3 S3 client of that
    environment. The SDK containers started meanwhile are removed at the end."""
    import boto3

    with sdk_environment(s3, tmp_path):
        before = sdk_containers()
        session = builtin_session()
        session.default_bucket()
        try:
            yield session, boto3.client("s3")
        finally:
            new = sorted(sdk_containers() - before)
            if new:
                subprocess.run(["docker", "rm", "-f", *new], capture_output=True)


def model_arrays(s3, model_data, folder):
    """The model file in model_data (an s3:// model.tar.gz) as {name: float64 array}."""
    import io
    import tarfile

    from jobdata import read_model

    bucket, key = model_data[len("s3://"):].split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = tar.getnames()
        assert len(names) == 1 and names[0].startswith("model_algo-1"), names
        tar.extractall(folder)
    return read_model(pathlib.Path(folder) / names[0])


def sdk_containers():
    """Containers of the ECR-named images, named the way the SDK names them."""
    from smgkit.sdklocal import container_ids

    return container_ids([ecr_name("kmeans"), ecr_name("pca")])
