"""Real S3 servers on 127.0.0.1 for the S3 tests and benchmarks.

moto's server mode (PyPI `moto[server]`, in tests/requirements.txt) is fast to
start and covers the S3 API broadly; it does not check signatures unless told
to. s3s-fs (crates.io, built once by tests/s3/ensure-s3s-fs.sh into
~/.cache/smalgo) checks every SigV4 signature and the payload hash strictly,
so it is the server that proves smalgo signs correctly. Both listen on a free
loopback port and are stopped (and waited for) by stop().

s3_env(server) gives the environment a smalgo process needs to reach one:
AWS_ENDPOINT_URL_S3, the keys and the region, with the credential sources
that could reach outside (IMDS, container provider, shared file) pointed away.
"""
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

from smgkit.net import free_port

S3S_FS_VERSION = "0.14.1"
ACCESS_KEY = "AKIDSMALGOTEST"
SECRET_KEY = "smalgo-test-secret-key"


def s3s_fs_path():
    """The s3s-fs binary: $SMALGO_S3S_FS, else the cache ensure-s3s-fs.sh fills."""
    if os.environ.get("SMALGO_S3S_FS"):
        return pathlib.Path(os.environ["SMALGO_S3S_FS"])
    cache = pathlib.Path(os.environ.get("SMALGO_TOOLS_CACHE",
                                        pathlib.Path.home() / ".cache" / "smalgo"))
    return cache / f"s3s-fs-{S3S_FS_VERSION}" / "bin" / "s3s-fs"


def _wait_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} within {timeout} s")


class S3Server:
    def __init__(self, kind, workdir):
        self.kind = kind
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(pathlib.Path(workdir) / f"{kind}.log", "wb")
        if kind == "moto":
            cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        else:
            root = pathlib.Path(workdir) / "s3s-root"
            root.mkdir(parents=True, exist_ok=True)
            cmd = [str(s3s_fs_path()), "--host", "127.0.0.1", "--port", str(self.port),
                   "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, str(root)]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            _wait_port(self.port, self.proc)
        except Exception:
            self.stop()
            raise

    def client(self, endpoint=None):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=endpoint or self.endpoint,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def s3_env(endpoint, secret=SECRET_KEY, **extra):
    """The environment for a smalgo process that talks to endpoint."""
    env = {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "SMALGO_S3_BACKOFF_MS": "50"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def clean_env(env):
    """os.environ without AWS_* (so the host's own settings never leak in), plus env."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(env)
    return base


def s3s_fs_available():
    return s3s_fs_path().exists() and shutil.which(str(s3s_fs_path())) is not None
