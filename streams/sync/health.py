"""The sync service's health endpoint, for orchestrators (Kubernetes probes, compose checks).

``GET /healthz`` (liveness): 200 while the processing loop has run within ``stale_after_s``
(each consumer poll marks it), 503 once it stopped or hung. ``GET /readyz`` (readiness): 200
once the consumer joined its group (the first partition assignment, even of zero partitions)
and until shutdown began, else 503. Served by a stdlib HTTP server on a daemon thread, off by
default (``CDCBRIDGE_SYNC_HEALTH_PORT``, 0 = off; ``CDCBRIDGE_SYNC_HEALTH_HOST``, loopback).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cdcbridge.clock import SYSTEM_CLOCK, Clock


class HealthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CDCBRIDGE_SYNC_HEALTH_", extra="ignore")

    port: int = Field(default=0, ge=0, le=65535)
    host: str = "127.0.0.1"
    stale_after_s: float = Field(default=60.0, gt=0)


class SyncHealth:
    """What the probes report. Thread-safe: the loop marks, the HTTP thread reads."""

    def __init__(self, stale_after_s: float, clock: Clock = SYSTEM_CLOCK) -> None:
        self.__clock = clock
        self.__stale_after_s = stale_after_s
        self.__lock = threading.Lock()
        self.__last_beat = clock.monotonic()
        self.__joined = False
        self.__stopping = False

    def beat(self) -> None:
        """The loop ran (called on every consumer poll)."""
        with self.__lock:
            self.__last_beat = self.__clock.monotonic()

    def joined(self) -> None:
        """The consumer got its first partition assignment."""
        with self.__lock:
            self.__joined = True
            self.__last_beat = self.__clock.monotonic()

    def stopping(self) -> None:
        with self.__lock:
            self.__stopping = True

    def live(self) -> bool:
        with self.__lock:
            return self.__clock.monotonic() - self.__last_beat <= self.__stale_after_s

    def ready(self) -> bool:
        with self.__lock:
            return self.__joined and not self.__stopping


class PollMarkingConsumer:
    """An arroyo consumer that marks ``health`` alive on every poll; everything else is the
    wrapped consumer's."""

    def __init__(self, consumer: Any, health: SyncHealth) -> None:
        self.__consumer = consumer
        self.__health = health

    def poll(self, timeout: float | None = None) -> Any:
        self.__health.beat()
        return self.__consumer.poll(timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__consumer, name)


def serve_health(health: SyncHealth, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve ``/healthz`` and ``/readyz`` on a daemon thread. Raises OSError if the port is
    taken. Returns the server (``shutdown()`` stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            checks = {"/healthz": health.live, "/readyz": health.ready}
            check = checks.get(self.path)
            if check is None:
                self.send_error(404)
                return
            ok = check()
            body = b'{"status":"ok"}' if ok else b'{"status":"unavailable"}'
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # probes every few seconds would flood the JSON log

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="sync-health", daemon=True).start()
    return server
