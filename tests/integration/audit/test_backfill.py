"""``cdcbridge backfill``: rows the platform never received (inserted before this sync's
consumer group started) reach it through a Debezium incremental snapshot while live updates
flow, and every live update wins over the snapshot's older reads.

Size: ``CDCBRIDGE_BACKFILL_ROWS`` / ``CDCBRIDGE_BACKFILL_UPDATES`` (CI: 2,000 / 200, about a
minute on a shared 2-core machine; ``make backfill-heavy`` runs the issue's 10,000 / 1,000).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sandbox_launcher import private_sandbox
from streams.sync import kafka_boundary
from tests.fakes.audit_bridge import Bridge
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import TOPIC

pytestmark = pytest.mark.integration

ROWS = int(os.environ.get("CDCBRIDGE_BACKFILL_ROWS", "2000"))
UPDATES = int(os.environ.get("CDCBRIDGE_BACKFILL_UPDATES", "200"))


def topic_end(stack: StackEndpoints) -> int:
    return sum(
        r.end for r in kafka_boundary.group_lag(stack.bootstrap_servers, "it-backfill-probe", TOPIC)
    )


def test_backfill_reaches_the_platform_while_live_updates_win(
    stack: StackEndpoints, cdc_connector: str, tmp_path: Path
) -> None:
    tag = f"bf{uuid.uuid4().hex[:8]}"
    with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
        before = topic_end(stack)
        ids = [
            int(r[0])
            for r in pg.execute(
                "INSERT INTO customers (email, first_name, plan, country) "
                "SELECT %s || '-' || g || '@example.com', 'Old ' || g, 'old', 'us' "
                "FROM generate_series(1, %s) g RETURNING id",
                (tag, ROWS),
            ).fetchall()
        ]
        wait_for(lambda: topic_end(stack) >= before + ROWS, 120, "Debezium to write the inserts")
        with private_sandbox(tmp_path / "sandbox.log", platform="hubspot") as url:
            platform = Sandbox(url, "hubspot")
            bridge = Bridge(stack, platform, tmp_path)  # its group starts after the inserts
            try:
                run_backfill_with_live_updates(bridge, pg, tag, ids)
            finally:
                bridge.stop()


def run_backfill_with_live_updates(bridge: Bridge, pg: Any, tag: str, ids: list[int]) -> None:
    platform = bridge.platform
    assert not any(e.startswith(tag) for e in platform.contacts()), "nothing synced yet"
    segment = f"email LIKE '{tag}-%'"
    backfill = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cdcbridge",
            "backfill",
            "--table",
            "public.customers",
            "--where",
            segment,
            "--timeout-s",
            "600",
        ],
        env=bridge.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    updated = ids[:: max(1, len(ids) // UPDATES)][:UPDATES]  # spread over every chunk

    def live_updates() -> None:
        """Small transactions paced over the snapshot's run, so that some land inside open
        chunk windows (dropping buffered reads) and some after a chunk was emitted."""
        with psycopg.connect(bridge.env["CDCBRIDGE_PG_DSN"], autocommit=True) as conn:
            for start in range(0, len(updated), 10):
                conn.execute(
                    "UPDATE customers SET plan = 'live-' || id WHERE id = ANY(%s)",
                    (updated[start : start + 10],),
                )
                stop.wait(0.05)  # pacing the load, not waiting for a condition

    stop = threading.Event()

    writer = threading.Thread(target=live_updates)
    writer.start()
    out, err = backfill.communicate(timeout=900)
    writer.join(120)
    assert backfill.returncode == 0, (out, err)
    assert '"complete": true' in out and f'"rows": {len(ids)}' in out, out
    wait_for(
        lambda: sum(e.startswith(tag) for e in platform.contacts()) == len(ids),
        300,
        "every backfilled row on the platform",
    )
    code, report = bridge.audit("--all", "--where", segment, "--no-deletes", "--budget-share", "1")
    assert code == 0 and report["checked"] == len(ids), report
    contacts = platform.contacts()
    emails = dict(pg.execute("SELECT id, email FROM customers WHERE id = ANY(%s)", (updated,)))
    assert all(contacts[emails[i]]["cdcbridge_plan"] == f"live-{i}" for i in updated)
