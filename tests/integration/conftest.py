"""Shared pytest fixtures for smalgo's integration tests.

The tests run the real smalgo binary (SMALGO_BIN, default build/runtime/smalgo)
against temporary /opt/ml trees, and read SageMaker's real artifacts from the
shared folder beside the checkout (SMALGO_SHARED_DIR, default ../shared); tests
that need those artifacts skip when the folder is absent.
"""
import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def smalgo_bin():
    path = pathlib.Path(os.environ.get("SMALGO_BIN", REPO / "build" / "runtime" / "smalgo"))
    if not path.exists():
        pytest.fail(f"smalgo binary not found at {path}; run `make build` first")
    return path


@pytest.fixture(scope="session")
def shared_dir():
    path = pathlib.Path(os.environ.get("SMALGO_SHARED_DIR", REPO.parent / "shared"))
    return path


@pytest.fixture(scope="session")
def fixtures_dir(shared_dir):
    path = shared_dir / "fixtures" / "sagemaker"
    if not path.is_dir():
        pytest.skip(f"SageMaker fixtures not present at {path}")
    return path


class MLRoot:
    """A temporary /opt/ml tree: config files, channels, and the job's outputs."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        for sub in ("input/config", "input/data", "model", "output"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    @property
    def config(self):
        return self.root / "input" / "config"

    @property
    def data(self):
        return self.root / "input" / "data"

    @property
    def model(self):
        return self.root / "model"

    @property
    def failure(self):
        return self.root / "output" / "failure"

    def write_hyperparameters(self, hp):
        (self.config / "hyperparameters.json").write_text(
            json.dumps({k: str(v) for k, v in hp.items()}))

    def write_inputdataconfig(self, channels):
        (self.config / "inputdataconfig.json").write_text(json.dumps(channels))

    def write_resourceconfig(self, current_host="algo-1", hosts=("algo-1",)):
        (self.config / "resourceconfig.json").write_text(json.dumps(
            {"current_host": current_host, "hosts": list(hosts),
             "network_interface_name": "eth0"}))

    def channel_dir(self, name):
        d = self.data / name
        d.mkdir(parents=True, exist_ok=True)
        return d


@pytest.fixture
def ml_root(tmp_path):
    return MLRoot(tmp_path / "ml")


@pytest.fixture
def run_smalgo(smalgo_bin):
    """Run `smalgo ARGS...`; returns the CompletedProcess (text, stdout+stderr)."""

    def run(*args, timeout=300, env=None, **kwargs):
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        return subprocess.run([str(smalgo_bin), *map(str, args)], capture_output=True,
                              text=True, timeout=timeout, env=full_env, **kwargs)

    return run
