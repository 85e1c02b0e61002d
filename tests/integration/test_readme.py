"""The READMEs' runnable shell blocks work when pasted (smgkit/readme.py).

Each file's `<!-- runnable -->` blocks run in order, in one bash session, in a
sandbox that looks like a fresh clone after `make demo`: the checkout's entries
linked in, `build/runtime` being this test run's smalgo, and `build/demo` made
by tests/demo.sh. Port 8080 in the blocks becomes a free port (the machine may
be serving on 8080). Blocks marked `<!-- runnable: docker -->` run in
tests/docker instead, once the images exist.
"""
import subprocess
import sys

import pytest
from smgkit import net, paths, readme

REPO = paths.REPO
# docker/README.md's blocks need the images: tests/docker/test_readme_docker.py.
FILES = ["README.md", "benchmarks/README.md"]


@pytest.fixture(scope="module")
def demo_dir(smalgo_bin, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    done = subprocess.run(["bash", str(REPO / "tests" / "demo.sh"), str(smalgo_bin), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.parametrize("name", FILES)
def test_runnable_blocks(name, smalgo_bin, demo_dir, tmp_path):
    blocks = readme.runnable_blocks(REPO / name)
    if not blocks:
        pytest.skip(f"{name} has no runnable blocks")
    root = readme.sandbox(tmp_path / "clone", {
        "build/runtime": smalgo_bin.resolve().parent,
        "build/demo": demo_dir,
        "build/benchmarks": smalgo_bin.resolve().parents[1] / "benchmarks",
        ".venv": sys.prefix,  # this test's venv: `make venv` finds it made
    })
    # A make run inside must not report into this run's `make test` summary.
    env = {"SMALGO_STAGE_DIR": str(tmp_path / "stage-logs"), "MAKEFLAGS": "", "MAKELEVEL": "",
           "MFLAGS": ""}
    status, out = readme.run(blocks, root, env=env, timeout=600,
                             substitutions={"8080": net.free_port()})
    assert status == 0, f"{name}: a runnable block failed:\n{out[-6000:]}"
