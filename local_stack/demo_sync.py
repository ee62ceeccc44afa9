"""The outbound half of the demo: run ``cdcbridge sync`` against the sandbox platform and show
that the platform ends up holding what the database holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import requests

from local_stack.layout import StackLayout
from local_stack.processes import StackError, wait_until
from local_stack.sandbox_launcher import free_port
from streams.sync import kafka_boundary

TOPIC = "cdc.public.customers"


@dataclass
class SyncRun:
    process: subprocess.Popen[bytes]
    log_path: Path
    group: str
    env: dict[str, str]
    metrics_port: int
    health_port: int

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Poll ``/readyz`` until the sync joined its consumer group (so the demo's latencies
        do not include its start-up). Raises StackError on timeout or if it exited."""
        url = f"http://127.0.0.1:{self.health_port}/readyz"

        def ready() -> bool:
            if self.process.poll() is not None:
                raise StackError(f"sync exited with {self.process.returncode}: {self.log_path}")
            try:
                return requests.get(url, timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout_s, "the sync to join its consumer group")

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM (drain, commit, exit 0), SIGKILL after ``timeout_s``. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_sync(layout: StackLayout) -> SyncRun:
    """Start the sync service in its own consumer group, positioned at the topic's end."""
    group = f"cdcbridge-demo-{uuid.uuid4().hex[:6]}"
    metrics_port, health_port = free_port(), free_port()
    kafka_boundary.commit_group_to_end(layout.bootstrap_servers, group, TOPIC)
    env = {
        **os.environ,
        "CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS": layout.bootstrap_servers,
        "CDCBRIDGE_SYNC_GROUP_ID": group,
        "CDCBRIDGE_PLATFORM": "hubspot",
        "CDCBRIDGE_HUBSPOT_BASE_URL": layout.sandbox_url,
        "CDCBRIDGE_HUBSPOT_TOKEN": "sandbox-token",
        # the consent guard reads the withdrawals writeback stored (consent never flips back)
        "CDCBRIDGE_WRITEBACK_DSN": layout.pg_dsn,
        "CDCBRIDGE_METRICS_PORT": str(metrics_port),
        "CDCBRIDGE_SYNC_HEALTH_PORT": str(health_port),
        # for the audit run with the same settings
        "CDCBRIDGE_PG_DSN": layout.pg_dsn,
    }
    log_path = layout.logs / f"demo-sync-{group}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cdcbridge", "sync"], env=env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return SyncRun(process, log_path, group, env, metrics_port, health_port)


def run_audit(sync: SyncRun, run: str, timeout_s: float = 300) -> dict[str, Any]:
    """``cdcbridge audit --all`` of this run's customers (``streams.audit``) with the sync's
    settings; returns its JSON report. Raises StackError when it gives none."""
    done = subprocess.run(
        [sys.executable, "-m", "cdcbridge", "--log-level", "WARNING", "audit", "--all", "--json",
         "--no-deletes", "--budget-share", "0.5", "--where", f"email LIKE '%.{run}@example.com'"],
        env=sync.env, capture_output=True, text=True, timeout=timeout_s, check=False)
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError as exc:
        raise StackError(f"audit gave no report (exit {done.returncode}): "
                         f"{done.stderr[-2000:]}") from exc
    return report


def database_customers(dsn: str, run: str) -> dict[str, dict[str, object]]:
    """This run's customers as the database holds them, by email."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT email, first_name, last_name, plan, lifecycle_stage FROM customers "
            "WHERE email LIKE %s", (f"%.{run}@example.com",)).fetchall()
    return {str(r[0]): {"first_name": r[1], "last_name": r[2], "plan": r[3],
                        "lifecycle_stage": r[4]} for r in rows}


def _run_contacts(sandbox_url: str, run: str) -> list[dict[str, Any]]:
    response = requests.get(f"{sandbox_url}/admin/contacts", params={"platform": "hubspot"},
                            timeout=30)
    response.raise_for_status()
    doc = response.json()
    items = doc["hubspot"] if isinstance(doc, dict) else doc
    return [c for c in items
            if str(c["properties"].get("email", "")).endswith(f".{run}@example.com")]


def platform_contacts(sandbox_url: str, run: str) -> dict[str, dict[str, str]]:
    """This run's contacts as the sandbox platform stores them, by email."""
    return {c["properties"]["email"]: c["properties"] for c in _run_contacts(sandbox_url, run)}


def platform_updated_ms(sandbox_url: str, run: str) -> dict[str, float]:
    """When the platform last changed each of this run's contacts (epoch ms), by email."""
    return {c["properties"]["email"]: datetime.fromisoformat(c["updatedAt"]).timestamp() * 1000
            for c in _run_contacts(sandbox_url, run)}


def wait_for_platform(layout: StackLayout, run: str, timeout_s: float = 60) -> tuple[int, int]:
    """Poll until the platform holds exactly the database's emails for ``run``.

    Returns (database rows, matching platform contacts); raises StackError on timeout.
    """
    expected = database_customers(layout.pg_dsn, run)

    def in_sync() -> bool:
        contacts = platform_contacts(layout.sandbox_url, run)
        return set(contacts) == set(expected) and all(
            contacts[e].get("firstname") == (row["first_name"] or "")
            for e, row in expected.items())

    wait_until(in_sync, timeout_s, "the sandbox platform to match the database")
    return len(expected), len(platform_contacts(layout.sandbox_url, run))
