"""Helpers of the writeback integration tests: child processes, events, polling, the sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from webhook_bridge.avro_codec import FINGERPRINT_HEADER, EngagementCodec

ROOT = Path(__file__).resolve().parents[3]
CDCBRIDGE = [sys.executable, "-m", "cdcbridge.cli"]
CODEC = EngagementCodec()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.05)  # polling interval of a deadline-bound wait


class Child:
    """A child process with its log file; ``stop`` terminates, ``kill9`` sends SIGKILL."""

    def __init__(self, argv: Sequence[str], log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(argv), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                env={**os.environ, **env},
            )  # fmt: skip

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.process.returncode

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_writeback(
    dsn: str,
    bootstrap: str,
    topic: str,
    group: str,
    log_path: Path,
    *extra: str,
    env: dict[str, str] | None = None,
) -> Child:
    return Child(
        [*CDCBRIDGE, "--log-level", "INFO", "writeback", "--dsn", dsn,
         "--bootstrap-servers", bootstrap, "--topic", topic, "--group-id", group, *extra],
        log_path,
        {"CDCBRIDGE_WRITEBACK_MATCH_INTERVAL_S": "0.5", **(env or {})},
    )  # fmt: skip


def engagement_record(
    event_id: str, type_: str, source_id: str | None, email: str | None = None
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """An Avro value and headers as the forwarder produces them."""
    now = datetime.now(UTC)
    value = CODEC.encode(
        {"event_id": event_id, "type": type_, "email": email, "source_id": source_id,
         "platform_contact_id": None, "occurred_at": now, "received_at": now,
         "source_platform": "sandbox", "attributes": {}, "trace_id": uuid.uuid4().hex}
    )  # fmt: skip
    headers = [(FINGERPRINT_HEADER, CODEC.fingerprint.encode()), ("event_id", event_id.encode())]
    return value, headers


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url

    def contacts(self) -> dict[str, dict[str, Any]]:
        listing = httpx.get(f"{self.url}/admin/contacts?platform=hubspot", timeout=10).json()
        return {
            str(c["properties"].get("email", "")).lower(): c["properties"]
            for c in listing["hubspot"]
        }

    def write_calls(self) -> int:
        """Every request that may write a contact (anything but token, reads and admin)."""
        by_endpoint: dict[str, dict[str, int]] = httpx.get(
            f"{self.url}/admin/requests", timeout=10
        ).json()["by_endpoint"]
        return sum(
            sum(statuses.values())
            for endpoint, statuses in by_endpoint.items()
            if "batch/upsert" in endpoint or "batch/update" in endpoint
            or "batch/archive" in endpoint or "leads.json" in endpoint
        )  # fmt: skip

    def knobs(self, **changes: object) -> None:
        httpx.patch(f"{self.url}/admin/knobs", json=changes, timeout=10).raise_for_status()

    def emit(self, count: int, type_: str) -> list[int]:
        answer = httpx.post(
            f"{self.url}/admin/webhooks/emit", json={"count": count, "type": type_}, timeout=60
        ).json()
        statuses: list[int] = answer["statuses"]
        return statuses
