"""A free TCP port on the loopback interface, for `smalgo serve` and the images."""
import socket


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
