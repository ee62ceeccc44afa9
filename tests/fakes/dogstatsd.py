"""A DogStatsD stand-in: a UDP socket on loopback that collects datagrams."""

from __future__ import annotations

import socket
import time


class UdpListener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.lines: list[str] = []

    def collect(self, count: int, timeout_s: float = 5.0) -> list[str]:
        """Read until ``count`` lines arrived (or the deadline); returns every line so far."""
        deadline = time.monotonic() + timeout_s
        while len(self.lines) < count and time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(65_535)
            except TimeoutError:
                break
            self.lines.extend(line for line in data.decode().split("\n") if line)
        return self.lines

    def drain(self, quiet_s: float = 0.2) -> list[str]:
        """Read until nothing arrives for ``quiet_s``; returns every line so far."""
        self.sock.settimeout(quiet_s)
        while True:
            try:
                data = self.sock.recv(65_535)
            except TimeoutError:
                return self.lines
            self.lines.extend(line for line in data.decode().split("\n") if line)

    def close(self) -> None:
        self.sock.close()
