"""``cdcbridge audit --direction inbound`` on the real stack, over the closed loop of
``test_writeback_loop`` (sandbox signed webhooks -> receiver -> SQS -> forwarder -> Kafka ->
writeback): it passes once writeback caught up; a row deleted from ``engagement_events`` is
reported by its id with exit 1; so is an unsubscribe whose consent was put back without a newer
opt-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from streams.sync import kafka_boundary
from tests.fakes.processes import wait_for
from tests.integration.writeback.test_writeback_loop import Loop, loop  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration
OPENS = 4


def audit(running: Loop, stack: StackEndpoints) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "CDCBRIDGE_WRITEBACK_DSN": stack.pg_dsn,
           "CDCBRIDGE_WRITEBACK_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
           "CDCBRIDGE_WRITEBACK_TOPIC": running.topic,
           "CDCBRIDGE_WRITEBACK_GROUP_ID": running.group,
           "CDCBRIDGE_AUDIT_SETTLE_TIMEOUT_S": "5"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "cdcbridge", "audit", "--direction", "inbound", "--all",
         "--since", "1h", "--json"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    print(f"audit --direction inbound (exit {done.returncode}):", done.stdout.strip())
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_inbound_audit_finds_a_lost_event_and_a_consent_put_back(
    loop: Loop,  # noqa: F811
    stack: StackEndpoints,
) -> None:
    email = f"audit-{uuid.uuid4().hex[:10]}@example.com"
    with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
        row = pg.execute(
            "INSERT INTO customers (email, marketing_opt_in, opt_in_at) "
            "VALUES (%s, true, now() - interval '1 day') RETURNING id",
            (email,),
        ).fetchone()
        assert row is not None
        key = int(row[0])
        wait_for(lambda: email in loop.sandbox.contacts(), 60, "the customer on the platform")
        assert loop.sandbox.emit(1, "contact_unsubscribed") == [202]
        assert loop.sandbox.emit(OPENS, "email_opened") == [202] * OPENS

        def stored() -> int:
            found = pg.execute(
                "SELECT count(*) FROM engagement_events WHERE kafka_topic = %s", (loop.topic,)
            ).fetchone()
            return int(found[0]) if found else 0

        wait_for(lambda: stored() == OPENS + 1, 60, "every event in the database")
        wait_for(
            lambda: all((r.committed or 0) >= r.end for r in
                        kafka_boundary.group_lag(stack.bootstrap_servers, loop.group, loop.topic)),
            30, "writeback's Kafka commit",
        )  # fmt: skip

        code, report = audit(loop, stack)
        assert (code, report["passed"], report["checked"]) == (0, True, OPENS + 1)
        assert report["match_rate"] == 1.0 and report["direction"] == "inbound"

        lost = pg.execute(
            "DELETE FROM engagement_events WHERE kafka_topic = %s AND type = 'email_opened' "
            "AND event_id = (SELECT min(event_id) FROM engagement_events WHERE kafka_topic = %s "
            "AND type = 'email_opened') RETURNING source_platform, event_id",
            (loop.topic, loop.topic),
        ).fetchone()
        assert lost is not None
        code, report = audit(loop, stack)
        assert (code, report["passed"], report["mismatched_records"]) == (1, False, 1)
        assert [(f["kind"], f["source_id"]) for f in report["findings"]] == [
            ("missing", f"{lost[0]}:{lost[1]}")
        ]
        assert report["rechecked_after_lag"] == 1

        unsubscribe = pg.execute(
            "SELECT source_platform, event_id FROM engagement_events WHERE kafka_topic = %s "
            "AND type = 'contact_unsubscribed' AND customer_key = %s",
            (loop.topic, str(key)),
        ).fetchone()
        assert unsubscribe is not None
        pg.execute("UPDATE customers SET marketing_opt_in = true WHERE id = %s", (key,))
        code, report = audit(loop, stack)
        assert code == 1
        assert sorted((f["kind"], f["source_id"], f["field"]) for f in report["findings"]) == [
            ("missing", f"{lost[0]}:{lost[1]}", "engagement_events"),
            ("value", f"{unsubscribe[0]}:{unsubscribe[1]}", "consent"),
        ]
