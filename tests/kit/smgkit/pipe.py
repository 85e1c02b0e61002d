"""A Pipe-mode feeder: writes bytes into a real FIFO from a thread, as
SageMaker's Pipe-mode agent writes <data>/<channel>_<epoch>.

How: the FIFO is made at once (so the job finds it), then a daemon thread opens
the write end without blocking, retrying every 10 ms until a reader has opened
the other end or the timeout passes (then it gives up quietly: a test or
benchmark never hangs because the binary did not open its end), and writes the
source in 1 MiB pieces. A reader that closes early (EPIPE) ends the feed.
The source is bytes, or a list of files sent one after another.

For the real agent, `smalgo pipe`, the callers run the binary itself.
"""
import os
import threading
import time

CHUNK = 1 << 20


def open_writer(path, timeout):
    """The FIFO's write end, opened without blocking (retried every 10 ms until a reader has
    the other end) and then made blocking; None when no reader came within timeout seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:  # non-blocking open: never hang without a reader
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            time.sleep(0.01)
    else:
        return None
    os.set_blocking(fd, True)
    return fd


class PipeFeeder:
    def __init__(self, path, source, timeout=120):
        self.path = path
        self.source = source
        self.timeout = timeout
        os.mkfifo(self.path)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def join(self, timeout=None):
        self.thread.join(timeout)

    def _pieces(self):
        if isinstance(self.source, (bytes, bytearray, memoryview)):
            view = memoryview(self.source)
            for i in range(0, len(view), CHUNK):
                yield view[i:i + CHUNK]
            return
        for name in self.source:
            with open(name, "rb") as f:
                while True:
                    chunk = f.read(CHUNK)
                    if not chunk:
                        break
                    yield memoryview(chunk)

    def _run(self):
        fd = open_writer(self.path, self.timeout)
        if fd is None:
            return
        try:
            for view in self._pieces():
                while len(view):
                    view = view[os.write(fd, view):]
        except BrokenPipeError:
            pass
        finally:
            os.close(fd)
