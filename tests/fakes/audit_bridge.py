"""Helpers and fixtures of the audit integration tests: a private sandbox per platform, a sync
process (its own consumer group from the topic's end) and the audit run as the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sandbox_launcher import private_sandbox
from streams.sync import kafka_boundary
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.sync_process import COMPANY_TOPICS, TOPIC


class Bridge:
    """One sync process for one platform, and the audit CLI configured like it."""

    def __init__(
        self,
        stack: StackEndpoints,
        platform: Sandbox,
        tmp_path: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.platform = platform
        group = f"it-audit-{uuid.uuid4().hex[:8]}"
        for topic in (TOPIC, *COMPANY_TOPICS):  # the sync consumes every mapped table's topic
            kafka_boundary.commit_group_to_end(stack.bootstrap_servers, group, topic)
        self.env = {
            **os.environ,
            **platform.env(),
            "CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "CDCBRIDGE_SYNC_GROUP_ID": group,
            "CDCBRIDGE_SYNC_DLQ_TOPIC": f"it-dlq-{group}",
            "CDCBRIDGE_PG_DSN": stack.pg_dsn,
            "CDCBRIDGE_CONFIG_FILE": "/nonexistent",
            "CDCBRIDGE_AUDIT_SNAPSHOT_TIMEOUT_S": "180",
            **(extra_env or {}),
        }
        self.log_path = tmp_path / f"sync-{platform.name}.log"
        with self.log_path.open("ab") as log:
            self.sync = subprocess.Popen(
                [sys.executable, "-m", "cdcbridge", "sync"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def audit(self, *args: str, timeout_s: float = 300) -> tuple[int, dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-m", "cdcbridge", "audit", "--json", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        assert done.stdout, done.stderr
        return done.returncode, json.loads(done.stdout.splitlines()[-1])

    def cli(self, *args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cdcbridge", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.sync.terminate()
        try:
            self.sync.wait(30)
        except subprocess.TimeoutExpired:
            self.sync.kill()
            self.sync.wait(10)


@pytest.fixture
def sync_env() -> dict[str, dict[str, str]]:
    """Extra environment of the sync and the audit, per platform (a test parametrizes it)."""
    return {}


@pytest.fixture(params=["hubspot", "marketo"])
def bridge(
    request: pytest.FixtureRequest,
    stack: StackEndpoints,
    cdc_connector: str,
    tmp_path: Path,
    sync_env: dict[str, dict[str, str]],
) -> Iterator[Bridge]:
    name = str(request.param)
    with private_sandbox(tmp_path / f"sandbox-{name}.log", platform=name) as url:
        running = Bridge(stack, Sandbox(url, name), tmp_path, sync_env.get(name))
        try:
            yield running
        finally:
            running.stop()


def insert_segment(pg: psycopg.Connection[Any], tag: str, rows: int) -> list[tuple[int, str]]:
    """``rows`` new customers whose emails start with ``tag``; returns (id, email) pairs."""
    return [
        (int(r[0]), str(r[1]))
        for r in pg.execute(
            "INSERT INTO customers (email, first_name, last_name, plan, country, lifecycle_stage,"
            " mrr, marketing_opt_in, birth_date, attributes) "
            "SELECT %s || '-' || g || '@example.com', ' Zoë ' || g, 'Ñúñez', 'Pro', 'de', 'trial',"
            " 42.5 + g, g %% 2 = 0, DATE '1990-05-01' + g, jsonb_build_object('n', g) "
            "FROM generate_series(1, %s) g RETURNING id, email",
            (tag, rows),
        ).fetchall()
    ]
