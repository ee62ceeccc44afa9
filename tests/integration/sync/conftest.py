"""Fixtures for the sync integration tests: a private sandbox, sync processes, Postgres.

Each test gets its own sandbox (a free port, so contacts and request counts are its own) and
its own consumer group, whose offsets start at the current end of the CDC topic.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sandbox_launcher import private_sandbox
from streams.sync import kafka_boundary

TOPIC = "cdc.public.customers"


def wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.1
) -> None:
    """Poll ``condition`` until true; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)  # polling interval of a deadline-bound wait


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url

    def contacts(self) -> dict[str, dict[str, Any]]:
        """HubSpot contacts by email (lower-case)."""
        listing = httpx.get(f"{self.url}/admin/contacts?platform=hubspot", timeout=10).json()
        return {
            str(c["properties"].get("email", "")).lower(): c["properties"]
            for c in listing["hubspot"]
        }

    def tagged(self, tag: str) -> dict[str, dict[str, Any]]:
        """Contacts whose email starts with ``tag``."""
        return {e: p for e, p in self.contacts().items() if e.startswith(tag)}

    def upsert_calls(self) -> int:
        by_endpoint = self.requests()["by_endpoint"]
        return sum(
            sum(statuses.values())
            for endpoint, statuses in by_endpoint.items()
            if endpoint.endswith("/batch/upsert")
        )

    def requests(self) -> dict[str, Any]:
        result: dict[str, Any] = httpx.get(f"{self.url}/admin/requests", timeout=10).json()
        return result

    def knobs(self, **changes: object) -> None:
        httpx.patch(f"{self.url}/admin/knobs", json=changes, timeout=10).raise_for_status()


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[[], Sandbox]]:
    """Starts private sandboxes (HubSpot) on free ports; stops them all at teardown."""
    numbers = itertools.count()
    with ExitStack() as running:

        def start() -> Sandbox:
            log_path = tmp_path / f"sandbox-{next(numbers)}.log"
            return Sandbox(running.enter_context(private_sandbox(log_path, platform="hubspot")))

        yield start


@pytest.fixture
def sandbox(sandbox_factory: Callable[[], Sandbox]) -> Sandbox:
    return sandbox_factory()


class SyncProcess:
    """``cdcbridge sync`` as a child process (so it can be SIGTERMed or ``kill -9``ed)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SyncProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cdcbridge", "sync"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def stop(self, timeout_s: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no drain, no commit
        self.process.wait(10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def batches(self) -> list[dict[str, Any]]:
        """The "batch delivered" log lines so far (JSON)."""
        found = []
        for line in self.log().splitlines():
            if '"batch delivered"' in line:
                found.append(json.loads(line))
        return found


class SyncGroup:
    """One consumer group starting at the topic's current end, and its processes."""

    def __init__(self, stack: StackEndpoints, sandbox: Sandbox, tmp_path: Path) -> None:
        self.stack = stack
        self.group = f"it-sync-{uuid.uuid4().hex[:8]}"
        self.dlq_topic = f"it-dlq-{self.group}"
        self.tmp_path = tmp_path
        self.processes: list[SyncProcess] = []
        self.start_offsets = kafka_boundary.commit_group_to_end(
            stack.bootstrap_servers, self.group, TOPIC
        )
        self.env = {
            **os.environ,
            "CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "CDCBRIDGE_SYNC_GROUP_ID": self.group,
            "CDCBRIDGE_SYNC_DLQ_TOPIC": self.dlq_topic,
            "CDCBRIDGE_SYNC_DRAIN_TIMEOUT_S": "10",
            "CDCBRIDGE_PLATFORM": "hubspot",
            "CDCBRIDGE_HUBSPOT_BASE_URL": sandbox.url,
            "CDCBRIDGE_HUBSPOT_TOKEN": "sandbox-token",
            "CDCBRIDGE_CONFIG_FILE": "/nonexistent",
        }

    def spawn(self, sandbox: Sandbox | None = None, **env: str) -> SyncProcess:
        """Start one more instance (optionally talking to another sandbox)."""
        log_path = self.tmp_path / f"sync-{len(self.processes)}.log"
        if sandbox is not None:
            env["CDCBRIDGE_HUBSPOT_BASE_URL"] = sandbox.url
        process = SyncProcess({**self.env, **env}, log_path).start()
        self.processes.append(process)
        return process

    def lag(self) -> int:
        return sum(row.lag for row in self.lag_rows())

    def lag_rows(self) -> list[kafka_boundary.PartitionLag]:
        return kafka_boundary.group_lag(self.stack.bootstrap_servers, self.group, TOPIC)

    def cleanup(self) -> None:
        for process in self.processes:
            if process.alive():
                process.kill()


@pytest.fixture
def sync_group(
    stack: StackEndpoints, cdc_connector: str, sandbox: Sandbox, tmp_path: Path
) -> Iterator[SyncGroup]:
    group = SyncGroup(stack, sandbox, tmp_path)
    try:
        yield group
    finally:
        group.cleanup()


@pytest.fixture
def pg(stack: StackEndpoints) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    with psycopg.connect(stack.pg_dsn, autocommit=True) as conn:
        yield conn


def unique_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"
