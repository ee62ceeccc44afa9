"""The closed loop on the real stack: sandbox webhook -> receiver -> SQS -> forwarder -> Kafka
-> ``cdcbridge writeback`` -> PostgreSQL, with ``cdcbridge sync`` running the other way.

A signed ``contact_unsubscribed`` for a synced customer withdraws consent in the database and
causes no write to the platform (the sandbox's request count stays put); a later phone update
reaches the platform with consent still withdrawn; a stale grant is stripped until the
database records a newer explicit opt-in; replaying the topic from the start changes nothing.
Also prints the inbound latency (webhook accepted -> row written) p50/p95 as JSON.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from local_stack.sandbox_launcher import free_port, private_sandbox
from local_stack.sqs_admin import delete_queue, ensure_queue
from streams.sync import kafka_boundary
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import CDCBRIDGE, Child, wait_for
from tests.integration.writeback.writeback_it_support import start_writeback
from webhook_bridge.kafka_producer import ensure_topic
from webhook_bridge.queue.sqs import SqsQueue, sqs_client
from webhook_bridge.signatures import sign

pytestmark = pytest.mark.integration
Conn = psycopg.Connection[tuple[Any, ...]]
CDC_TOPIC = "cdc.public.customers"
SECRET = "whsec_" + base64.b64encode(b"writeback-integration-secret").decode()
HUBSPOT_SECRET = "hubspot-writeback-secret"


@dataclass
class Loop:
    stack: StackEndpoints
    tmp: Path
    sandbox: Sandbox
    topic: str
    group: str
    sync_group: str
    children: list[Child] = field(default_factory=list)
    writeback: Child | None = None
    receiver_url: str = ""
    sync_env: dict[str, str] = field(default_factory=dict)
    sync: Child | None = None

    def start_sync(self) -> Child:
        self.sync = Child([sys.executable, "-m", "cdcbridge", "sync"],
                          self.tmp / f"sync-{len(self.children)}.log", self.sync_env)  # fmt: skip
        self.children.append(self.sync)
        return self.sync

    def start_writeback(self, group: str | None = None, *extra: str) -> Child:
        child = start_writeback(
            self.stack.pg_dsn, self.stack.bootstrap_servers, self.topic, group or self.group,
            self.tmp / f"writeback-{len(self.children)}.log", *extra,
        )  # fmt: skip
        self.children.append(child)
        return child

    def sync_lag(self) -> int:
        rows = kafka_boundary.group_lag(self.stack.bootstrap_servers, self.sync_group, CDC_TOPIC)
        return sum(row.lag for row in rows)

    def cdc_end(self) -> int:
        rows = kafka_boundary.group_lag(self.stack.bootstrap_servers, self.sync_group, CDC_TOPIC)
        return sum(row.end for row in rows)


@pytest.fixture
def loop(stack: StackEndpoints, cdc_connector: str, tmp_path: Path) -> Iterator[Loop]:
    name = f"wb-it-{uuid.uuid4().hex[:10]}"
    client = sqs_client(stack.sqs_endpoint)
    queue_url = ensure_queue(client, name, max_receive_count=3, visibility_timeout_s=5)
    topic = f"it.engagement.{name}"
    ensure_topic(stack.bootstrap_servers, topic)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        json.dumps(
            {
                "sources": {
                    "sandbox": {"scheme": "standard-webhooks", "secrets": [SECRET]},
                    "hubspot": {
                        "scheme": "hubspot-v3",
                        "secrets": [HUBSPOT_SECRET],
                        "normaliser": "hubspot",
                    },
                }
            }
        )
    )
    sync_group = f"it-sync-{name}"
    kafka_boundary.commit_group_to_end(stack.bootstrap_servers, sync_group, CDC_TOPIC)
    with ExitStack() as running:
        url = running.enter_context(private_sandbox(tmp_path / "sandbox.log", platform="hubspot"))
        state = Loop(stack, tmp_path, Sandbox(url), topic, f"it-wb-{name}", sync_group)
        port = free_port()
        receiver = Child(
            [*CDCBRIDGE, "--log-level", "WARNING", "webhooks", "serve", "--port", str(port),
             "--sources-file", str(sources), "--queue-url", queue_url,
             "--sqs-endpoint", stack.sqs_endpoint],
            tmp_path / "receiver.log", {},
        )  # fmt: skip
        forwarder = Child(
            [*CDCBRIDGE, "--log-level", "WARNING", "forward", "--sources-file", str(sources),
             "--queue-url", queue_url, "--sqs-endpoint", stack.sqs_endpoint,
             "--bootstrap-servers", stack.bootstrap_servers, "--topic", topic, "--wait-s", "1"],
            tmp_path / "forwarder.log", {},
        )  # fmt: skip
        state.sync_env = {
            "CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "CDCBRIDGE_SYNC_GROUP_ID": sync_group,
            "CDCBRIDGE_SYNC_DLQ_TOPIC": f"it-dlq-{name}",
            "CDCBRIDGE_SYNC_COMMIT_INTERVAL_S": "0.2",
            "CDCBRIDGE_PLATFORM": "hubspot",
            "CDCBRIDGE_HUBSPOT_BASE_URL": url,
            "CDCBRIDGE_HUBSPOT_TOKEN": "sandbox-token",
            "CDCBRIDGE_CONFIG_FILE": "/nonexistent",
            "CDCBRIDGE_WRITEBACK_DSN": stack.pg_dsn,
        }
        state.receiver_url = f"http://127.0.0.1:{port}"
        state.children += [receiver, forwarder]
        state.start_sync()
        state.writeback = state.start_writeback()
        wait_for(
            lambda: _answers(f"{state.receiver_url}/healthz"), 30, "the receiver to answer"
        )  # the sandbox emits as soon as it knows the URL: the receiver must be listening
        state.sandbox.knobs(
            webhook_url=f"http://127.0.0.1:{port}/webhooks/sandbox",
            webhook_secret=SECRET,
            webhook_scheme="standard-webhooks",
        )
        try:
            yield state
        finally:
            for child in state.children:
                child.stop()
            if os.environ.get("CDCBRIDGE_IT_SHOW_LOGS"):
                for child in state.children:
                    print(child.log_path, child.log()[-3000:])
            delete_queue(client, queue_url)
            delete_queue(client, SqsQueue.by_name(client, f"{name}-dlq").queue_url)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def snapshot(pg: Conn, topic: str, key: int) -> tuple[Any, ...]:
    events = pg.execute(
        "SELECT event_id, customer_key, written_at, applied_at FROM engagement_events "
        "WHERE kafka_topic = %s ORDER BY event_id",
        (topic,),
    ).fetchall()
    state = pg.execute(
        "SELECT * FROM customer_engagement WHERE customer_key = %s", (str(key),)
    ).fetchall()
    row = pg.execute(
        "SELECT marketing_opt_in, opt_in_at, updated_at, phone FROM customers WHERE id = %s",
        (key,),
    ).fetchall()
    return (events, state, row)


def test_unsubscribe_flows_back_without_echo_and_consent_never_flips_back(
    loop: Loop, stack: StackEndpoints
) -> None:
    sandbox = loop.sandbox
    email = f"loop-{uuid.uuid4().hex[:10]}@example.com"
    with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
        row = pg.execute(
            "INSERT INTO customers (email, phone, country, marketing_opt_in, opt_in_at) "
            "VALUES (%s, '+14155550100', 'US', true, now() - interval '1 day') RETURNING id",
            (email,),
        ).fetchone()
        assert row is not None
        key = int(row[0])
        wait_for(lambda: email in sandbox.contacts(), 60, "the customer to reach the platform")
        assert sandbox.contacts()[email]["cdcbridge_marketing_consent"] == "true"
        wait_for(lambda: loop.sync_lag() == 0, 30, "sync to commit")
        writes_before, cdc_end_before = sandbox.write_calls(), loop.cdc_end()

        # 1. The platform reports an unsubscribe: a signed webhook through the whole bridge.
        assert sandbox.emit(1, "contact_unsubscribed") == [202]

        def withdrawn() -> bool:
            found = pg.execute(
                "SELECT c.marketing_opt_in, count(e.event_id) FROM customers c LEFT JOIN "
                "engagement_events e ON e.customer_key = c.id::text AND "
                "e.type = 'contact_unsubscribed' WHERE c.id = %s GROUP BY 1",
                (key,),
            ).fetchone()
            return found == (False, 1)

        wait_for(withdrawn, 15, "consent withdrawn and the event row in the database")
        state = pg.execute(
            "SELECT consent_withdrawn_source, counters FROM customer_engagement "
            "WHERE customer_key = %s",
            (str(key),),
        ).fetchone()
        assert state == ("sandbox", {"unsubscribes": 1})

        # 2. No echo: the sync consumed writeback's own change and wrote nothing.
        wait_for(lambda: loop.cdc_end() > cdc_end_before, 30, "writeback's change on the CDC topic")
        wait_for(lambda: loop.sync_lag() == 0, 30, "sync to consume writeback's change")
        assert sandbox.write_calls() == writes_before, "writeback's change was echoed out"
        assert sandbox.contacts()[email]["cdcbridge_marketing_consent"] == "true"  # untouched

        # Inbound latency: webhook accepted by the receiver -> row written.
        assert sandbox.emit(20, "email_opened") == [202] * 20
        wait_for(
            lambda: (pg.execute(
                "SELECT count(*) FROM engagement_events WHERE kafka_topic = %s", (loop.topic,)
            ).fetchone() or (0,))[0] == 21, 30, "the opens in the database",
        )  # fmt: skip
        latencies = [
            float(r[0])
            for r in pg.execute(
                "SELECT extract(epoch FROM written_at - received_at) FROM engagement_events "
                "WHERE kafka_topic = %s",
                (loop.topic,),
            ).fetchall()
        ]
        cuts = statistics.quantiles(latencies, n=20)
        print(json.dumps({"writeback_inbound_latency_s": {
            "samples": len(latencies), "p50": round(statistics.median(latencies), 3),
            "p95": round(cuts[18], 3), "max": round(max(latencies), 3)}}))  # fmt: skip

        # 3. A database change of the phone goes out, and the contact stays unsubscribed.
        pg.execute("UPDATE customers SET phone = '+14155550199' WHERE id = %s", (key,))
        wait_for(lambda: sandbox.contacts()[email].get("phone") == "+14155550199", 30, "the phone")
        assert sandbox.contacts()[email]["cdcbridge_marketing_consent"] == "false"

        # 4. A grant without a newer explicit opt-in is stripped; a newer opt-in goes.
        pg.execute("UPDATE customers SET marketing_opt_in = true, plan = 'pro' WHERE id = %s",
                   (key,))  # fmt: skip
        wait_for(lambda: sandbox.contacts()[email].get("cdcbridge_plan") == "pro", 30, "plan")
        assert sandbox.contacts()[email]["cdcbridge_marketing_consent"] == "false"
        assert loop.sync is not None and "re-subscribe blocked" in loop.sync.log()
        pg.execute("UPDATE customers SET opt_in_at = now() WHERE id = %s", (key,))
        wait_for(
            lambda: sandbox.contacts()[email]["cdcbridge_marketing_consent"] == "true",
            30, "an explicit newer opt-in to go out",
        )  # fmt: skip

        # 5. Replaying the topic from the start changes nothing in the database.
        assert loop.writeback is not None and loop.writeback.stop() == 0
        before = snapshot(pg, loop.topic, key)
        replay_group = f"{loop.group}-replay"
        loop.start_writeback(replay_group, "--from-beginning")

        def replayed() -> bool:
            rows = kafka_boundary.group_lag(stack.bootstrap_servers, replay_group, loop.topic)
            return all(r.committed == r.end for r in rows if r.end > 0)

        wait_for(replayed, 60, "the replay to reach the end of the topic")
        assert snapshot(pg, loop.topic, key) == before


def post_property_change(loop: Loop, key: int, email: str, prop: str, value: str) -> None:
    """A signed HubSpot v3 ``contact.propertyChange`` webhook, as HubSpot sends it."""
    url = f"{loop.receiver_url}/webhooks/hubspot"
    body = json.dumps([{
        "eventId": int(uuid.uuid4().int % 10**12), "subscriptionId": 1, "portalId": 2,
        "appId": 3, "occurredAt": int(time.time() * 1000), "attemptNumber": 0,
        "subscriptionType": "contact.propertyChange", "objectId": 99, "changeSource": "CRM",
        "propertyName": prop, "propertyValue": value, "email": email, "source_id": str(key),
    }]).encode()  # fmt: skip
    headers = sign("hubspot-v3", secret=HUBSPOT_SECRET, body=body, method="POST", url=url)
    headers["Content-Type"] = "application/json"
    assert httpx.post(url, content=body, headers=headers, timeout=10).status_code == 202


def test_a_field_both_sides_changed_within_the_sync_lag_follows_the_newest_change(
    loop: Loop, stack: StackEndpoints
) -> None:
    sandbox = loop.sandbox
    email = f"race-{uuid.uuid4().hex[:10]}@example.com"
    with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
        row = pg.execute(
            "INSERT INTO customers (email, phone, country) VALUES (%s, '+14155550100', 'US') "
            "RETURNING id",
            (email,),
        ).fetchone()
        assert row is not None
        key = int(row[0])
        wait_for(lambda: email in sandbox.contacts(), 60, "the customer to reach the platform")
        wait_for(lambda: loop.sync_lag() == 0, 30, "sync to commit")
        assert loop.sync is not None and loop.sync.stop() == 0  # the sync lag, made long

        # The database changes the phone, then the platform changes it later (newer wins).
        pg.execute("UPDATE customers SET phone = '+14155550111' WHERE id = %s", (key,))
        post_property_change(loop, key, email, "phone", "+14155550122")

        def phone() -> object:
            found = pg.execute("SELECT phone FROM customers WHERE id = %s", (key,)).fetchone()
            return found[0] if found else None

        wait_for(lambda: phone() == "+14155550122", 15, "the platform's newer phone in the DB")

        # Sync catches up: the older database phone is not sent over the newer platform one,
        # and writeback's own change is not echoed.
        cdc_end = loop.cdc_end()
        sync = loop.start_sync()
        wait_for(lambda: loop.sync_lag() == 0 and loop.cdc_end() >= cdc_end, 60, "sync")
        assert sandbox.contacts()[email]["phone"] == "+14155550100", "no stale phone written"
        assert "the platform's newer change wins" in sync.log()
