"""Pipe mode end to end, with real FIFOs and real processes.

`smalgo pipe` (the Pipe-mode agent) feeds FIFOs; `smalgo records --pipe-channel`
reads them through the real channel code (background thread, batches), or
Python reads the raw bytes. Covered: three epochs; train and test at once; the
reader starting before the FIFO exists; a reader closing early; a writer dying
mid-record (an error, not a hang); no writer at all (the timeout fires); the
agent leaving no FIFO or process behind (idle end and SIGTERM); shuffling,
ShardedByS3Key splitting, gunzip and RecordIO wrapping.

The binary comes from conftest's smalgo_bin fixture ($SMALGO_BIN).
"""
import gzip
import os
import signal
import stat
import struct
import subprocess
import time

import pytest

from smgkit.payloads import RECORDIO_MAGIC as MAGIC


def csv_rows(base, n):
    return "".join(f"{base + i},{-(base + i)}\n" for i in range(n))


def make_source(tmp_path, name, files):
    src = tmp_path / f"src_{name}"
    for rel, text in files.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return src


@pytest.fixture
def start_pipe(smalgo_bin):
    """Start `smalgo pipe` feeding data_dir's FIFOs from {channel: source folder}."""

    def start(data_dir, channels, *extra):
        spec = ",".join(f"{k}={v}" for k, v in channels.items())
        return subprocess.Popen([smalgo_bin, "pipe", "--dir", str(data_dir), "--channel", spec,
                                 *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    return start


@pytest.fixture
def start_reader(smalgo_bin):
    """Start `smalgo records` reading 2-feature CSV from data_dir's FIFOs for channel name."""

    def start(data_dir, name, *extra):
        return subprocess.Popen([smalgo_bin, "records", "--pipe-channel", str(data_dir / name),
                                 "--feature-dim", "2", "--content-type", "text/csv", *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    return start


def finish(proc, timeout=20):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def fifos(data_dir):
    return [p.name for p in data_dir.iterdir() if stat.S_ISFIFO(p.lstat().st_mode)]


def stats_rows(out):
    return int(out.split("records: ")[1].split()[0])


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


def test_three_epochs_nested_files_no_leftovers(tmp_path, data_dir, start_pipe, start_reader):
    src = make_source(tmp_path, "train", {"a.csv": csv_rows(0, 3), "sub/b.csv": csv_rows(10, 4),
                                          ".hidden": "9,9\n"})
    agent = start_pipe(data_dir, {"train": src}, "--epochs", "3", "--open-timeout", "10")
    reader = start_reader(data_dir, "train", "--epochs", "3", "--batch-rows", "2")
    rc, out, err = finish(reader)
    assert rc == 0, err
    rows = [tuple(map(float, line.split(","))) for line in out.splitlines()]
    one = [(float(i), float(-i)) for i in list(range(3)) + list(range(10, 14))]
    assert rows == one * 3
    for e in range(3):
        assert f"epoch {e}: 7 records" in err
    rc, _, aerr = finish(agent)
    assert rc == 0, aerr
    assert fifos(data_dir) == []


def test_train_and_test_at_once_reader_first(tmp_path, data_dir, start_pipe, start_reader):
    tr = make_source(tmp_path, "train", {"t.csv": csv_rows(0, 50)})
    te = make_source(tmp_path, "test", {"v.csv": csv_rows(1000, 5)})
    r1 = start_reader(data_dir, "train", "--epochs", "2", "--stats")
    r2 = start_reader(data_dir, "test", "--epochs", "2", "--stats")
    time.sleep(0.5)  # both readers are now polling for FIFOs that do not exist yet
    assert fifos(data_dir) == []
    agent = start_pipe(data_dir, {"train": tr, "test": te}, "--epochs", "2")
    rc1, out1, err1 = finish(r1)
    rc2, out2, err2 = finish(r2)
    assert rc1 == 0 and rc2 == 0, err1 + err2
    assert stats_rows(out1) == 100 and stats_rows(out2) == 10
    assert "0,1002,1000,1004" in out2  # column 0 mean, min, max of the test rows
    assert finish(agent)[0] == 0
    assert fifos(data_dir) == []


def test_reader_closes_early(tmp_path, data_dir, start_pipe, start_reader):
    src = make_source(tmp_path, "train", {"big.csv": csv_rows(0, 200000)})  # ~3 MB > the pipe
    agent = start_pipe(data_dir, {"train": src}, "--epochs", "2")
    reader = start_reader(data_dir, "train", "--epochs", "2", "--batch-rows", "10",
                          "--max-batches", "1", "--stats")
    rc, out, err = finish(reader)
    assert rc == 0, err
    assert stats_rows(out) == 20
    assert "closed early" in err
    rc, _, aerr = finish(agent)
    assert rc == 0, aerr
    assert aerr.count("reader closed early") == 2
    assert fifos(data_dir) == []


def test_writer_dies_mid_record(data_dir, smalgo_bin):
    fifo = data_dir / "train_0"
    os.mkfifo(fifo)
    reader = subprocess.Popen([smalgo_bin, "records", "--pipe-channel", str(data_dir / "train"),
                               "--feature-dim", "4", "--timeout", "10"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with open(fifo, "wb") as w:  # the header promises 64 bytes; 8 come, then the writer is gone
        w.write(struct.pack("<II", MAGIC, 64) + b"\x0a\x06\x0a\x04" + b"abcd")
    rc, _, err = finish(reader, timeout=10)
    assert rc == 1
    assert "truncated" in err and "train_0" in err


def test_no_writer_timeout(data_dir, start_reader):
    t0 = time.monotonic()
    reader = start_reader(data_dir, "train", "--timeout", "1")
    rc, _, err = finish(reader, timeout=10)
    assert rc == 1
    assert time.monotonic() - t0 < 5
    assert f"timed out after 1 s waiting for FIFO {data_dir}/train_0 (channel train, epoch 0)" in err


def test_agent_sigterm_cleans_up(tmp_path, data_dir, start_pipe):
    src = make_source(tmp_path, "train", {"a.csv": csv_rows(0, 3)})
    agent = start_pipe(data_dir, {"train": src, "test": src})
    deadline = time.monotonic() + 5
    while len(fifos(data_dir)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sorted(fifos(data_dir)) == ["test_0", "train_0"]
    agent.send_signal(signal.SIGTERM)
    rc, _, err = finish(agent, timeout=5)
    assert rc == 0, err
    assert fifos(data_dir) == []


def test_agent_ends_when_reader_stops_opening(tmp_path, data_dir, start_pipe, start_reader):
    src = make_source(tmp_path, "train", {"a.csv": csv_rows(0, 3)})
    agent = start_pipe(data_dir, {"train": src}, "--open-timeout", "1")
    rc, out, err = finish(start_reader(data_dir, "train", "--epochs", "2", "--stats"))
    assert rc == 0 and stats_rows(out) == 6, err
    rc, _, aerr = finish(agent, timeout=10)
    assert rc == 0, aerr
    assert "epoch 1" in aerr and "epoch 2" not in aerr
    assert fifos(data_dir) == []


def read_raw_epoch(path, timeout=10):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)
    with open(path, "rb") as f:
        return f.read()


def test_shuffle_and_shard_by_key(tmp_path, start_pipe):
    files = {f"f{i:02d}": f"{i}\n" for i in range(10)}
    src = make_source(tmp_path, "train", files)
    seen = {}
    for host in range(2):
        d = tmp_path / f"host{host}"
        d.mkdir()
        agent = start_pipe(d, {"train": src}, "--epochs", "2", "--shuffle-seed", "7",
                           "--host-index", str(host), "--host-count", "2", "--quiet")
        for e in range(2):
            seen[host, e] = [int(x) for x in read_raw_epoch(d / f"train_{e}").split()]
        assert finish(agent)[0] == 0
    for e in range(2):
        a, b = seen[0, e], seen[1, e]
        assert len(a) == 5 and len(b) == 5
        assert sorted(a + b) == list(range(10))  # a partition of the objects, every epoch
    orders = [seen[0, 0] + seen[1, 0], seen[0, 1] + seen[1, 1]]
    assert orders[0] != list(range(10)) or orders[1] != list(range(10))  # shuffled
    # no shuffle: sorted order, strided split
    d = tmp_path / "plain"
    d.mkdir()
    agent = start_pipe(d, {"train": src}, "--epochs", "1", "--host-index", "0",
                       "--host-count", "3", "--quiet")
    assert [int(x) for x in read_raw_epoch(d / "train_0").split()] == [0, 3, 6, 9]
    assert finish(agent)[0] == 0


def parse_recordio(buf):
    out, pos = [], 0
    while pos < len(buf):
        magic, lrec = struct.unpack_from("<II", buf, pos)
        assert magic == MAGIC
        n, flag = lrec & ((1 << 29) - 1), lrec >> 29
        out.append((flag, buf[pos + 8:pos + 8 + n]))
        pos += 8 + n + (-n % 4)
    return out


def test_gunzip_and_recordio_wrap(tmp_path, data_dir, start_pipe, start_reader):
    a, b = csv_rows(0, 3), csv_rows(100, 2)
    src = make_source(tmp_path, "train", {"a.csv.gz": gzip.compress(a.encode()) +
                                          gzip.compress(b.encode()), "b.csv": "7,-7"})
    agent = start_pipe(data_dir, {"train": src}, "--epochs", "2", "--gunzip", "--recordio-wrap",
                       "--quiet")
    raw = read_raw_epoch(data_dir / "train_0")
    assert parse_recordio(raw) == [(0, (a + b).encode()), (0, b"7,-7")]
    # epoch 1 through the channel: RecordIO-wrapped CSV objects decode to the rows
    rc, out, err = finish(start_reader(data_dir, "train", "--recordio-wrapped", "--stats",
                                        "--first-epoch", "1"))
    assert rc == 0, err
    assert stats_rows(out) == 6
    assert "0,35.1666667,0,101" in out  # mean (0+1+2+100+101+7)/6, min 0, max 101
    assert finish(agent)[0] == 0
    assert fifos(data_dir) == []


def test_recordio_wrap_splits_at_magic_like_dmlc(tmp_path, data_dir, start_pipe):
    payload = b"abcd" + struct.pack("<I", MAGIC) + b"efghij"
    src = make_source(tmp_path, "train", {"x.bin": payload})
    agent = start_pipe(data_dir, {"train": src}, "--epochs", "1", "--recordio-wrap", "--quiet")
    raw = read_raw_epoch(data_dir / "train_0")
    assert parse_recordio(raw) == [(1, b"abcd"), (3, b"efghij")]
    assert finish(agent)[0] == 0
