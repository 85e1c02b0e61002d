"""A loopback HTTP proxy that injects the faults S3 clients must survive.

It sits between smalgo and a real S3 server on 127.0.0.1, one request per
connection (it answers with Connection: close, so the client reconnects for
the next one), and applies a plan: a list of faults taken one per matching
request, in order, then plain forwarding:

  "503"         answer 503 SlowDown (S3's XML) without asking the server;
  "reset:F"     forward, relay the answer's head and a fraction F of its body,
                then reset the connection (RST, SO_LINGER 0);
  "pass"        forward as it is (to let some requests through first);
  "stall:F"     relay a fraction F of the body, then send nothing (for at most
                30 s, or until the client gives up).

Only requests whose method and path contain `match` use the plan. Each
request is logged as (method, path, Range header, body bytes relayed), so a
test can tell which bytes were fetched twice. Bounded: every connection ends
within 30 s, and stop() closes the listener and joins the threads.
"""
import socket
import struct
import threading
import time

SLOWDOWN = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>")


def _read_head(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
        if len(buf) > 1 << 20:
            return None, b""
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def _header(head, name):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name:
            return v.strip()
    return None


def _with_close(head):
    lines = [ln for ln in head.split("\r\n") if not ln.lower().startswith("connection:")]
    return ("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode("latin-1")


class FaultProxy:
    def __init__(self, upstream_port, plan=(), match="GET"):
        self.upstream_port = upstream_port
        self.plan = list(plan)
        self.match = match
        self.log = []
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.threads = []
        self.stopping = False
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _fault_for(self, method, path):
        with self.lock:
            if self.plan and self.match in f"{method} {path}":
                return self.plan.pop(0)
        return None

    def _serve(self, conn):
        conn.settimeout(30)
        up = None
        try:
            head, rest = _read_head(conn)
            if head is None:
                return
            method, path = head.split(" ")[0:2]
            length = int(_header(head, "content-length") or 0)
            while len(rest) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                rest += chunk
            fault = self._fault_for(method, path)
            entry = [method, path, _header(head, "range"), 0, fault]
            with self.lock:
                self.log.append(entry)
            if fault == "503":
                conn.sendall(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(SLOWDOWN)
                             + SLOWDOWN)
                return
            up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
            up.sendall(_with_close(head) + rest)
            rhead, body = _read_head(up)
            if rhead is None:
                return
            total = int(_header(rhead, "content-length") or 0)
            limit = total
            if fault == "pass":
                fault = None
            if fault and ":" in fault:
                limit = int(total * float(fault.split(":")[1]))
            conn.sendall(_with_close(rhead))
            sent = 0
            while sent < limit:
                if not body:
                    body = up.recv(1 << 16)
                    if not body:
                        break
                piece = body[:limit - sent]
                conn.sendall(piece)
                body = body[len(piece):]
                sent += len(piece)
                entry[3] = sent
            if fault and fault.startswith("reset"):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif fault and fault.startswith("stall"):
                deadline = time.time() + 30
                while time.time() < deadline and not self.stopping:
                    try:
                        conn.settimeout(0.2)
                        if conn.recv(1) == b"":
                            break  # the client gave up
                    except socket.timeout:
                        continue
                    except OSError:
                        break
        except OSError:
            pass
        finally:
            conn.close()
            if up is not None:
                up.close()

    def requests(self, method="GET"):
        with self.lock:
            return [e for e in self.log if e[0] == method]

    def stop(self):
        self.stopping = True
        self.listener.close()
        for t in self.threads:
            t.join(35)
