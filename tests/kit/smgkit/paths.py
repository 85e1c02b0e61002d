"""Where things are: the checkout, the smalgo binary, the build's benchmark
programs and the shared fixtures folder beside the checkout.

Every driver used to work these out itself; they follow the same environment
variables, which stay the only way to point elsewhere:

  SMALGO_BIN         the smalgo binary (default build/runtime/smalgo)
  SMALGO_SHARED_DIR  the shared folder (default ../shared next to the checkout),
                     whose fixtures/sagemaker holds SageMaker's real artifacts
"""
import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[3]  # tests/kit/smgkit/paths.py


def smalgo_bin() -> pathlib.Path:
    """$SMALGO_BIN, else build/runtime/smalgo in this checkout (may not exist)."""
    return pathlib.Path(os.environ.get("SMALGO_BIN", REPO / "build" / "runtime" / "smalgo"))


def bench_bin(name) -> pathlib.Path:
    """A program of the build's benchmarks/ folder, in the build tree smalgo_bin()
    belongs to (<build>/runtime/smalgo -> <build>/benchmarks/name)."""
    return smalgo_bin().resolve().parents[1] / "benchmarks" / name


def shared_dir() -> pathlib.Path:
    """$SMALGO_SHARED_DIR, else the folder `shared` beside the checkout."""
    return pathlib.Path(os.environ.get("SMALGO_SHARED_DIR", REPO.parent / "shared"))


def fixtures_dir() -> pathlib.Path:
    """SageMaker's real models, data and recorded outputs (may be absent)."""
    return shared_dir() / "fixtures" / "sagemaker"
