"""An independent numpy reader and writer of the MXNet NDArray file, the format
of model/model_algo-1 (SageMaker's own and smalgo's).

The layout (little-endian), as io/ndarray.h specifies it for the C side:

    u64 0x112 (list magic)  u64 0 (reserved)  u64 count
    count times:
        u32 0xF993FAC9 (V2 magic)  i32 0 (dense storage)
        u32 ndim  i64 shape[ndim]
        i32 1 (cpu)  i32 0 (device 0)  i32 0 (float32)
        float32 values[prod(shape)]
    u64 names count (0 for an unnamed list, as k-means writes)
    names count times: u64 length, bytes

Why independent: the tests judge smalgo's model writer with this reader, so it
shares no code with the C one. Only what smalgo and SageMaker's PCA and k-means
write is accepted (dense float32 on cpu(0)); anything else fails an assert.
"""
import struct

import numpy as np

LIST_MAGIC = 0x112
V2_MAGIC = 0xF993FAC9


def decode(buf):
    """(arrays, names) from the file's bytes: float32 numpy arrays and the list
    of their names (empty for an unnamed list)."""
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    magic, _reserved, count = take("QQQ")
    assert magic == LIST_MAGIC
    arrays = []
    for _ in range(count):
        amagic, stype = take("Ii")
        assert amagic == V2_MAGIC and stype == 0
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


def read(path):
    """(arrays, names) of the NDArray file at path; see decode()."""
    with open(path, "rb") as f:
        return decode(f.read())


def read_named(path, dtype=None):
    """The file as {name: array}; an unnamed list as {"0": ..., "1": ...}.
    dtype, when given, converts every array (float64 for references)."""
    arrays, names = read(path)
    keys = names or [str(i) for i in range(len(arrays))]
    return {k: (a if dtype is None else a.astype(dtype)) for k, a in zip(keys, arrays)}


def encode(arrays, names=()):
    """The bytes of an NDArray file holding arrays (as float32), named or not."""
    out = [struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays))]
    for a in arrays:
        a = np.asarray(a)
        out.append(struct.pack("<IiI", V2_MAGIC, 0, a.ndim))
        out.append(struct.pack("<%dq" % a.ndim, *a.shape))
        out.append(struct.pack("<iii", 1, 0, 0))
        out.append(a.astype("<f4").tobytes())
    out.append(struct.pack("<Q", len(names)))
    for name in names:
        raw = name.encode()
        out.append(struct.pack("<Q", len(raw)) + raw)
    return b"".join(out)


def write(path, arrays, names=()):
    with open(path, "wb") as f:
        f.write(encode(arrays, names))
