"""docker/README.md's `<!-- runnable: docker -->` blocks work when pasted, with
the images this session tests (smgkit/readme.py runs them).

In a sandbox like a fresh clone after `make demo` (tests/demo.sh makes
build/demo), the blocks run in order: `docker run` training on the demo's CSV,
the SageMaker SDK's local-mode fit (Python, offline), and `docker run IMAGE
serve` queried with curl. The image tag becomes this session's, the host port
8080 a free port and the container name a unique one; the container is removed
whatever happens.
"""
import subprocess
import sys
import uuid

import pytest
from smgkit import net, paths, readme, sdklocal

REPO = paths.REPO


def test_docker_readme_blocks(images, tmp_path, monkeypatch):
    blocks = readme.runnable_blocks(REPO / "docker" / "README.md", kind="docker")
    if not blocks:
        pytest.skip("docker/README.md has no runnable docker blocks")
    smalgo = paths.smalgo_bin()
    demo = tmp_path / "demo"
    done = subprocess.run(["bash", str(REPO / "tests" / "demo.sh"), str(smalgo), str(demo)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    root = readme.sandbox(tmp_path / "clone", {"build/demo": demo, ".venv": sys.prefix})
    sdklocal.go_offline(monkeypatch, tmp_path)
    name = f"pca-serve-{uuid.uuid4().hex[:8]}"
    tag = images["pca"].split(":", 1)[1]
    port = net.free_port()  # the host's side only: the container listens on 8080
    subs = {"smalgo-pca:latest": f"smalgo-pca:{tag}", "localhost:8080": f"localhost:{port}",
            "127.0.0.1:8080:8080": f"127.0.0.1:{port}:8080", "pca-serve": name}
    try:
        status, out = readme.run(blocks, root, timeout=900, substitutions=subs)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        # The files the containers wrote as root in the sandbox go with tmp_path.
    assert status == 0, f"docker/README.md: a runnable block failed:\n{out[-6000:]}"
    assert "model_algo-1" in out
