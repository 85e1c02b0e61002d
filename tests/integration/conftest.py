"""Shared pytest fixtures for smalgo's integration tests.

The tests run the real smalgo binary (SMALGO_BIN, default build/runtime/smalgo)
against temporary /opt/ml trees, and read SageMaker's real artifacts from the
shared folder beside the checkout (SMALGO_SHARED_DIR, default ../shared); tests
that need those artifacts skip when the folder is absent.

The helpers themselves (job trees, SDK payloads, the NDArray reader, the
Pipe-mode feeder, paths) are the shared kit tests/kit/smgkit, which this file
puts on sys.path for every test module here.

SMALGO_BIN, SHARED_DIR and FIXTURES_DIR are also module constants, for the few
modules that must know the fixtures folder while pytest collects (to
parametrize over its files or mark tests skipped); everything else takes the
fixtures below.
"""
import os
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "kit"))
from smgkit import paths  # noqa: E402
from smgkit.mlroot import MLRoot  # noqa: E402

SMALGO_BIN = paths.smalgo_bin()
SHARED_DIR = paths.shared_dir()
FIXTURES_DIR = paths.fixtures_dir()


@pytest.fixture(scope="session")
def smalgo_bin():
    if not SMALGO_BIN.exists():
        pytest.fail(f"smalgo binary not found at {SMALGO_BIN}; run `make build` first")
    return SMALGO_BIN


@pytest.fixture(scope="session")
def shared_dir():
    return SHARED_DIR


@pytest.fixture(scope="session")
def fixtures_dir():
    if not FIXTURES_DIR.is_dir():
        pytest.skip(f"SageMaker fixtures not present at {FIXTURES_DIR}")
    return FIXTURES_DIR


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
