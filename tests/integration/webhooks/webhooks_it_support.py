"""Helpers for the webhook bridge integration tests: child processes (receiver, forwarder,
private sandbox), a TCP proxy that can cut SQS off, a per-test queue/topic and a subscriber."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import httpx

from local_stack.layout import PROJECT_ROOT
from local_stack.sandbox_launcher import free_port, sandbox_argv
from tests.fakes.processes import CDCBRIDGE, Child, wait_for


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def start_receiver(
    sources_file: Path, queue_url: str, sqs_endpoint: str, log_path: Path,
    log_level: str = "WARNING",
) -> tuple[Child, str]:
    port = free_port()
    child = Child(
        [*CDCBRIDGE, "--log-level", log_level, "webhooks", "serve", "--port", str(port),
         "--sources-file", str(sources_file), "--queue-url", queue_url,
         "--sqs-endpoint", sqs_endpoint],
        log_path,
        {"CDCBRIDGE_WEBHOOKS_SEND_TIMEOUT_S": "2", "CDCBRIDGE_WEBHOOKS_RETRY_AFTER_S": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{url}/healthz"), 30, "the receiver to answer")
    except AssertionError:
        child.stop()
        raise AssertionError(child.log()) from None
    return child, url


def start_forwarder(sources_file: Path, queue_url: str, sqs_endpoint: str, bootstrap: str,
                    topic: str, log_path: Path, log_level: str = "WARNING") -> Child:  # fmt: skip
    return Child(
        [*CDCBRIDGE, "--log-level", log_level, "forward", "--sources-file", str(sources_file),
         "--queue-url", queue_url, "--sqs-endpoint", sqs_endpoint,
         "--bootstrap-servers", bootstrap, "--topic", topic, "--wait-s", "1"],
        log_path,
    )  # fmt: skip


def start_sandbox(log_path: Path) -> tuple[Child, str]:
    port = free_port()
    child = Child(sandbox_argv(port), log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{url}/admin/health"), 30, "the sandbox to answer")
    except AssertionError:
        child.stop()
        raise AssertionError(child.log()) from None
    return child, url


def subscriber() -> ModuleType:
    """``examples/engagement_subscriber.py`` as a module (the tests use the documented one)."""
    spec = importlib.util.spec_from_file_location(
        "engagement_subscriber", PROJECT_ROOT / "examples" / "engagement_subscriber.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("engagement_subscriber", module)
    spec.loader.exec_module(module)
    return module


def collect(bootstrap: str, topic: str, count: int, timeout_s: float) -> dict[str, object]:
    """Distinct engagements on ``topic`` by event id, until ``count`` of them or the deadline."""
    module = subscriber()
    found: dict[str, object] = {}
    group = f"it-{topic}-{time.monotonic_ns()}"
    deadline = time.monotonic() + timeout_s
    while len(found) < count and time.monotonic() < deadline:
        stream = module.engagements(bootstrap, group, topic=topic, from_beginning=True,
                                    idle_timeout_s=2.0)  # fmt: skip
        with contextlib.closing(stream):
            for item in stream:
                found[item.headers["event_id"]] = item
                if len(found) >= count:
                    break
    return found


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``down()`` cuts every connection and refuses new
    ones (they are accepted and closed at once) until ``up()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.__target = (target_host, target_port)
        self.__listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.__listener.getsockname()[1])
        self.__down = threading.Event()
        self.__open: set[socket.socket] = set()
        self.__lock = threading.Lock()
        self.__closed = False
        threading.Thread(target=self.__accept, daemon=True).start()

    def __accept(self) -> None:
        while not self.__closed:
            try:
                client, _ = self.__listener.accept()
            except OSError:
                return
            if self.__down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.__target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.__lock:
                self.__open |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.__pipe, args=(src, dst), daemon=True).start()

    def __pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        self.__down.set()
        with self.__lock:
            for sock in self.__open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self.__open.clear()

    def up(self) -> None:
        self.__down.clear()

    def close(self) -> None:
        self.__closed = True
        self.down()
        self.__listener.close()
