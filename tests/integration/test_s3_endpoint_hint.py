"""An S3 endpoint that cannot be reached: the failure names the endpoint, and for a
loopback one says why it fails in a container (SageMaker SDK local mode passes the
host's endpoint to the training container unchanged, where 127.0.0.1 is the
container itself: docker/README.md, "Use the SDK's built-in classes locally").

Nothing listens on the port (a free port of 127.0.0.1, closed again); a few fast
retries (SMALGO_S3_BACKOFF_MS) keep the test short.
"""
import subprocess

from smgkit.mlroot import CSV, MLRoot, channel
from smgkit.mpi import MPI_ENV
from smgkit.net import free_port
from smgkit.s3servers import clean_env


def test_unreachable_loopback_endpoint_says_what_to_do(tmp_path, smalgo_bin):
    root = MLRoot(tmp_path / "ml")
    root.write_hyperparameters({"k": 2, "feature_dim": 4, "mini_batch_size": 10})
    root.write_inputdataconfig({"train": channel(CSV, "File")})
    root.write_resourceconfig()
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {**MPI_ENV, "AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "k",
           "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-west-2",
           "SMALGO_S3_MAX_ATTEMPTS": "2", "SMALGO_S3_BACKOFF_MS": "1"}
    proc = subprocess.run([str(smalgo_bin), "train", "--ml-root", str(root.root), "--algorithm",
                           "kmeans", "--channel", "train=s3://bkt/train/"],
                          capture_output=True, text=True, timeout=60, env=clean_env(env))
    assert proc.returncode != 0
    failure = root.failure.read_text()
    assert "s3://bkt/" in failure, failure
    assert f"the S3 endpoint {endpoint} (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) is not " \
           "reachable from here" in failure, failure
    assert "docker/local-s3.sh prints one" in failure, failure
