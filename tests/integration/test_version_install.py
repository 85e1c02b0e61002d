"""`smalgo --version` names the build and its libraries; `make install` puts a
working smalgo under DESTDIR/PREFIX; `smalgo --help` reads as a manual page."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_version_names_build_and_libraries(run_smalgo):
    out = run_smalgo("--version")
    assert out.returncode == 0, out.stdout
    text = out.stdout
    assert re.match(r"smalgo \d+\.\d+\.\d+ \(git \S+", text), text
    for lib in ("OpenBLAS", "BLAS kernel", "LAPACKE", "protobuf-c", "libcurl", "MPI", "cJSON",
                "microhttpd"):
        assert re.search(rf"^  {lib} +\S", text, re.M), f"{lib} missing:\n{text}"
    # The kernel line is OpenBLAS's own answer, a single word like Haswell.
    kernel = re.search(r"^  BLAS kernel +(\S+)$", text, re.M).group(1)
    assert kernel and kernel != "unknown"
    assert re.search(r"^  LAPACKE .*\(LAPACK \d+\.\d+\.\d+\)$", text, re.M)
    assert run_smalgo("version").stdout == text


def test_version_revision_is_the_checkout(run_smalgo):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    revision = re.search(r"\(git (\S+)\)", run_smalgo("--version").stdout).group(1)
    # describe --always gives the hash, maybe after a tag and before -dirty; the
    # binary may predate the last commit (built, then committed), so it must name
    # HEAD or one of its ancestors.
    commit = re.sub(r"-dirty$", "", revision).rsplit("-g", 1)[-1]
    known = subprocess.run(["git", "-C", str(REPO), "merge-base", "--is-ancestor", commit, "HEAD"],
                           capture_output=True, text=True)
    assert known.returncode == 0, f"binary says {revision}: not HEAD or before it; rebuild"


def test_help_is_a_manual_page(run_smalgo):
    out = run_smalgo("--help")
    assert out.returncode == 0
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "ENVIRONMENT", "FILES",
                    "EXIT STATUS", "EXAMPLES"):
        assert re.search(rf"^{section}$", out.stdout, re.M), f"no {section} section"
    for command in ("train", "serve", "inspect", "pipe", "version"):
        assert re.search(rf"^    {command} ", out.stdout, re.M)


def test_unknown_command_is_short(run_smalgo):
    out = run_smalgo("no-such-command")
    assert out.returncode == 2
    assert "smalgo --help" in out.stderr and len(out.stderr.splitlines()) <= 2


def test_make_install_honours_prefix_and_destdir(smalgo_bin, tmp_path):
    if smalgo_bin.resolve() != (REPO / "build" / "runtime" / "smalgo").resolve():
        pytest.skip("SMALGO_BIN is not this checkout's build/; make install installs that one")
    # Its own stage logs, and none of an outer make's flags (make test runs this).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env["SMALGO_STAGE_DIR"] = str(tmp_path / "logs")
    dest = tmp_path / "dest"
    out = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), "install",
                          "PREFIX=/opt/smalgo-test", f"DESTDIR={dest}"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    installed = dest / "opt/smalgo-test/bin/smalgo"
    assert installed.is_file() and os.access(installed, os.X_OK)
    version = subprocess.run([str(installed), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("smalgo ")
