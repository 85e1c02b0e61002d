"""Fixtures for the Docker tests: the images (built once per session when missing)
and small data sets written with the SageMaker SDK's own writer (jobdata.py).
The shared helpers are the kit tests/kit/smgkit, put on sys.path here.

The images are smalgo-pca:$SMALGO_IMAGE_TAG and smalgo-kmeans:$SMALGO_IMAGE_TAG
(tag `latest` by default), as docker/build-images.sh (`make image`) makes them.
If either is missing, the session builds both once; SMALGO_BUILD_IMAGES=1 forces
a rebuild (docker's layer cache keeps it quick when nothing changed). Without a
Docker engine every test here is skipped.
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "kit"))
import harness  # noqa: E402
from jobdata import DataSet  # noqa: E402
from smgkit import paths  # noqa: E402

REPO = paths.REPO
TAG = os.environ.get("SMALGO_IMAGE_TAG", "latest")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/docker" in str(item.fspath):
            item.add_marker(pytest.mark.docker)


def pytest_configure(config):
    config.addinivalue_line("markers", "docker: needs a Docker engine (tests/docker)")


def _docker_ok():
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _have(image):
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def images():
    """{"pca": "smalgo-pca:TAG", "kmeans": "smalgo-kmeans:TAG"}, built if needed."""
    if not _docker_ok():
        pytest.skip("no Docker engine")
    harness.compose_command()  # fails loudly when compose is missing
    names = {"pca": f"smalgo-pca:{TAG}", "kmeans": f"smalgo-kmeans:{TAG}"}
    if os.environ.get("SMALGO_BUILD_IMAGES") == "1" or not all(map(_have, names.values())):
        env = dict(os.environ, SMALGO_IMAGE_TAG=TAG)
        subprocess.run(["sh", str(REPO / "docker" / "build-images.sh")], check=True, env=env)
    return names


@pytest.fixture(scope="session")
def host_smalgo():
    """The smalgo binary on this machine (Pipe-mode agent, model inspection)."""
    path = paths.smalgo_bin()
    if not path.exists():
        pytest.fail(f"smalgo binary not found at {path}; run `make build` first")
    return path


@pytest.fixture(scope="session")
def pca_data(tmp_path_factory):
    """1800 x 16 float32 rows: 4 strong directions plus noise, off-centre."""
    rng = np.random.default_rng(7)
    basis = rng.normal(size=(4, 16))
    def make(n):
        z = rng.normal(size=(n, 4)) * np.array([5.0, 3.0, 2.0, 1.0])
        return z @ basis + 0.1 * rng.normal(size=(n, 16)) + 3.0
    return DataSet(tmp_path_factory.mktemp("pca-data"), make(1800), make(300))


@pytest.fixture(scope="session")
def kmeans_data(tmp_path_factory):
    """2400 x 8 float32 rows in 5 well separated blobs."""
    rng = np.random.default_rng(11)
    centres = rng.normal(scale=10.0, size=(5, 8))
    def make(n):
        labels = rng.integers(0, 5, size=n)
        return centres[labels] + rng.normal(size=(n, 8))
    return DataSet(tmp_path_factory.mktemp("kmeans-data"), make(2400), make(400))


@pytest.fixture(scope="session")
def ecr_images(images):
    """The images also tagged as the ECR names of sagemaker.KMeans/PCA in
    sdkbuiltin.REGION (docker/tag-as-ecr.sh); the names are put back afterwards."""
    import sdkbuiltin

    with sdkbuiltin.tagged_as_ecr(TAG) as names:
        yield names


@pytest.fixture(scope="session")
def local_s3(images):
    """A local S3/STS server from docker/local-s3.sh (image built on first use), on
    the sagemaker-local network under a name of this session; removed at the end."""
    import sdkbuiltin

    s3 = sdkbuiltin.LocalS3(os.environ.get("SMALGO_S3_IMAGE", f"smalgo-local-s3:{TAG}"),
                            f"smalgo-local-s3-test-{os.getpid()}")
    try:
        yield s3
    finally:
        s3.stop()
