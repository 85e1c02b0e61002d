"""Training and request data as bytes: what the SageMaker SDK writes, CSV, and
channel files.

What:
  - sdk_dense / sdk_sparse: recordIO-protobuf written by the real SDK
    (sagemaker.amazon.common.write_numpy_to_dense_tensor and
    write_spmatrix_to_sparse_tensor), the oracle for smalgo's decoder;
  - csv_bytes: numpy rows as CSV, %.9g by default, which round-trips float32;
  - encode / write_parts: either format, and a data set split into channel files;
  - encode_dense / decode_dense: a numpy encoder and decoder of the one fixed
    layout the SDK gives a dense float32 row without a label (a Record with a
    Float32Tensor under features["values"]). encode_dense is byte-identical to
    the SDK (benchmarks/taxi_gen.py --verify checks it) and millions of rows a
    second faster, for benchmark data; decode_dense reads such a stream back as
    one array, for the benchmarks' peers.

Why here: the tests, the Docker tests and the benchmarks each wrote these.
"""
import io
import os
import pathlib

import numpy as np

from .mlroot import CSV, RECORDIO

__all__ = ["CSV", "RECORDIO", "RECORDIO_MAGIC", "sdk_dense", "sdk_sparse", "csv_bytes",
           "encode", "write_parts", "record_size", "encode_dense", "decode_dense"]

RECORDIO_MAGIC = 0xCED7230A


def _sdk():
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import sagemaker.amazon.common as common

    return common


def sdk_dense(x, labels=None):
    """x (and labels) as recordIO-protobuf bytes, written by the SDK."""
    buf = io.BytesIO()
    _sdk().write_numpy_to_dense_tensor(buf, x, labels)
    return buf.getvalue()


def sdk_sparse(matrix, labels=None):
    """A scipy sparse matrix (and labels) as recordIO-protobuf bytes, by the SDK."""
    buf = io.BytesIO()
    _sdk().write_spmatrix_to_sparse_tensor(buf, matrix, labels)
    return buf.getvalue()


def csv_bytes(x, fmt="%.9g"):
    """Rows of x as CSV bytes, no header; %.9g round-trips float32 exactly."""
    buf = io.StringIO()
    np.savetxt(buf, x, fmt=fmt, delimiter=",")
    return buf.getvalue().encode()


def encode(x, content_type=RECORDIO):
    """x encoded as content_type (RECORDIO by the SDK, or CSV) bytes."""
    return sdk_dense(x) if content_type == RECORDIO else csv_bytes(x)


def write_parts(folder, x, parts=1, content_type=RECORDIO, ext=None):
    """x split into `parts` files part-NN.<ext> in folder (made if missing);
    ext defaults to pbr or csv. Returns the paths, in order."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ext = ext or ("pbr" if content_type == RECORDIO else "csv")
    paths = []
    for i, chunk in enumerate(np.array_split(x, parts)):
        p = folder / ("part-%02d.%s" % (i, ext))
        p.write_bytes(encode(chunk, content_type))
        paths.append(p)
    return paths


# ---- the SDK's fixed dense layout, in numpy ------------------------------------------

def _varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _record_prefix(d):
    """Protobuf bytes before the floats of one dense Record with d float32 values:
    Record.features(1) { key(1)="values", value(2)=Value{ float32_tensor(2)=
    Float32Tensor{ values(1) packed } } }; and the payload length."""
    vals = 4 * d
    tensor = b"\x0a" + _varint(vals)  # Float32Tensor.values, packed
    tensor_len = len(tensor) + vals
    value = b"\x12" + _varint(tensor_len)  # Value.float32_tensor
    value_len = len(value) + tensor_len
    entry = b"\x0a\x06values" + b"\x12" + _varint(value_len)
    entry_len = len(entry) + value_len
    record = b"\x0a" + _varint(entry_len)  # Record.features
    prefix = record + entry + value + tensor
    return prefix, len(prefix) + vals


def _head(d):
    prefix, payload = _record_prefix(d)
    return np.frombuffer(np.array([RECORDIO_MAGIC, payload], dtype="<u4").tobytes() + prefix,
                         dtype=np.uint8)


def record_size(d):
    """Bytes of one framed dense record of d floats (header, payload, padding)."""
    _, payload = _record_prefix(d)
    return 8 + ((payload + 3) & ~3)


def encode_dense(x):
    """Bytes of x (n x d) as float32 records, framed exactly as
    write_numpy_to_dense_tensor frames them."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n, d = x.shape
    head = _head(d)
    buf = np.zeros((n, record_size(d)), dtype=np.uint8)
    buf[:, :len(head)] = head
    buf[:, len(head):len(head) + 4 * d] = x.astype("<f4").view(np.uint8).reshape(n, 4 * d)
    return buf.tobytes()


def decode_dense(data, d):
    """The float32 rows (n x d) of a stream of fixed-layout dense records (bytes or
    a uint8 array); ValueError when the stream is not exactly that layout."""
    rec = record_size(d)
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size % rec:
        raise ValueError("recordIO data is not a whole number of %d-byte records" % rec)
    raw = raw.reshape(-1, rec)
    head = _head(d)
    if raw.shape[0] and not (raw[:, :len(head)] == head).all():
        raise ValueError("recordIO data is not the fixed dense layout for d=%d" % d)
    rows = np.ascontiguousarray(raw[:, len(head):len(head) + 4 * d]).view("<f4")
    return rows.astype(np.float32, copy=False)
