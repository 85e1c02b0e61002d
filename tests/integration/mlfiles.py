"""Helpers shared by the training tests: data in, model out, through a /opt/ml tree.

What: write a job's config (hyperparameters, a train and optional test channel,
one host) into a conftest.MLRoot; write a channel's data as files or feed it
through a real FIFO as SageMaker's Pipe-mode agent does; and read the model
back with an independent numpy NDArray reader.

How: recordIO-protobuf is written by the real SageMaker SDK
(sagemaker.amazon.common.write_numpy_to_dense_tensor), CSV with numpy (%.9g,
which round-trips float32). The FIFO writer opens without blocking and retries
for up to 120 s, so a test never hangs when the binary does not open its end.

Why here: test_kmeans.py and test_pca.py need the same plumbing; pytest puts
this folder on sys.path (no __init__.py), so they `import mlfiles`.
"""
import io
import os
import struct
import threading
import time

import numpy as np

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
from sagemaker.amazon.common import write_numpy_to_dense_tensor  # noqa: E402

RECORDIO = "application/x-recordio-protobuf"
CSV = "text/csv"


def read_ndarray(path):
    """Decode an MXNet NDArray file (V2 dense float32 arrays on cpu(0)).

    Returns (arrays, names): a list of numpy arrays and the list of their names
    (empty for an unnamed list, as k-means writes)."""
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    magic, _reserved, count = take("QQQ")
    assert magic == 0x112
    arrays = []
    for _ in range(count):
        amagic, stype = take("Ii")
        assert amagic == 0xF993FAC9 and stype == 0
        (ndim,) = take("I")
        shape = take("%dq" % ndim)
        dev_type, dev_id, dtype = take("iii")
        assert (dev_type, dev_id, dtype) == (1, 0, 0)  # cpu(0), float32
        n = int(np.prod(shape))
        arrays.append(np.frombuffer(buf, "<f4", n, pos).reshape(shape).copy())
        pos += 4 * n
    (n_names,) = take("Q")
    names = []
    for _ in range(n_names):
        (ln,) = take("Q")
        names.append(buf[pos:pos + ln].decode())
        pos += ln
    assert pos == len(buf)
    return arrays, names


def recordio(x):
    """x as recordIO-protobuf bytes, written by the SDK."""
    buf = io.BytesIO()
    write_numpy_to_dense_tensor(buf, x)
    return buf.getvalue()


def payload(x, content_type=RECORDIO):
    """x encoded as content_type (RECORDIO or CSV) bytes."""
    if content_type == RECORDIO:
        return recordio(x)
    buf = io.StringIO()
    np.savetxt(buf, x, fmt="%.9g", delimiter=",")  # %.9g round-trips float32
    return buf.getvalue().encode()


def setup_job(ml_root, hp, content_type=RECORDIO, mode="File", test=False):
    """Hyperparameters, a `train` channel (and `test` if asked) and one host algo-1."""
    ml_root.write_hyperparameters(hp)
    channels = {"train": {"ContentType": content_type, "TrainingInputMode": mode,
                          "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"}}
    if test:
        channels["test"] = dict(channels["train"])
    ml_root.write_inputdataconfig(channels)
    ml_root.write_resourceconfig()


def put_files(ml_root, channel, x, content_type=RECORDIO, parts=1):
    """x split into `parts` files part-NN.pbr (or .csv) in the channel's folder."""
    d = ml_root.channel_dir(channel)
    ext = "pbr" if content_type == RECORDIO else "csv"
    for i, chunk in enumerate(np.array_split(x, parts)):
        (d / ("part-%02d.%s" % (i, ext))).write_bytes(payload(chunk, content_type))


class PipeFeeder:
    """Write bytes into <data>/<channel>_<epoch>, a real FIFO, as SageMaker's agent does."""

    def __init__(self, ml_root, channel, data, epoch=0):
        self.path = ml_root.data / ("%s_%d" % (channel, epoch))
        os.mkfifo(self.path)
        self.payload = data
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        deadline = time.time() + 120
        while time.time() < deadline:  # non-blocking open: never hang without a reader
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                time.sleep(0.01)
        else:
            return
        os.set_blocking(fd, True)
        view = memoryview(self.payload)
        try:
            while len(view):
                view = view[os.write(fd, view[:1 << 20]):]
        except BrokenPipeError:
            pass
        finally:
            os.close(fd)
