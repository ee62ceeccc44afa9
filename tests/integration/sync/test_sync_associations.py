"""Contact → company associations on the real stack: customers flow Postgres -> Debezium ->
Kafka -> ``cdcbridge sync`` (``CDCBRIDGE_SYNC_ASSOCIATIONS=1``) -> sandbox; the companies are
upserted to the sandbox by the test itself, half before and half after the customers (the
multi-table sync that will carry them is another branch's), so many customers arrive before
their company and wait in the pending set: the issue's 500 companies, 5,000 customers, 100
moved. Every association ends right; moving customers moves their associations; archiving a
company on the platform removes its associations."""

from __future__ import annotations

import random
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr

from cdcbridge.clock import SYSTEM_CLOCK
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import COMPANIES, DeleteMechanism, PublishedLimits, VendorRecord
from streams.platform.auth import StaticBearer
from streams.platform.exchange import Exchange
from streams.platform.http import build_session
from streams.platform.hubspot import HubSpotAdapter
from streams.platform.ratelimit import RateLimiter
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[Any, ...]]
COMPANY_COUNT, CUSTOMER_COUNT, MOVED = 500, 5_000, 100  # the numbers


def company_sync(sandbox: Sandbox) -> HubSpotAdapter:
    """What the companies' sync does on the platform: the HubSpot adapter's companies."""
    metrics = RecordingMetrics()
    exchange = Exchange(build_session(), sandbox.url, "hubspot", (5.0, 30.0), SYSTEM_CLOCK, metrics)
    return HubSpotAdapter(
        exchange,
        StaticBearer(SecretStr("sandbox-token")),
        RateLimiter(50, 10.0, clock=SYSTEM_CLOCK),
        PublishedLimits(100, 10.0, 100),
        clock=SYSTEM_CLOCK,
        metrics=metrics,
    )


def upsert_companies(adapter: HubSpotAdapter, ids: list[int]) -> None:
    records = [
        VendorRecord(str(i), str(i), {"name": f"Company {i}"}, object_type=COMPANIES) for i in ids
    ]
    for start in range(0, len(records), 100):
        assert all(
            r.outcome.value == "ok" for r in adapter.upsert_batch(records[start : start + 100])
        )


@pytest.mark.timeout(900)
def test_customers_before_their_company_end_associated_and_moves_follow(
    sync_group: SyncGroup, sandbox: Sandbox, pg: Conn
) -> None:
    rng = random.Random(16)
    tag = f"assoc{rng.randrange(10**6)}-{sync_group.group[-8:]}"
    company_ids = [
        int(row[0])
        for row in pg.execute(
            "INSERT INTO companies (name) SELECT 'it ' || %s || ' ' || n "
            "FROM generate_series(1, %s) n RETURNING id",
            (tag, COMPANY_COUNT),
        ).fetchall()
    ]
    platform = company_sync(sandbox)
    early, late = company_ids[: COMPANY_COUNT // 2], company_ids[COMPANY_COUNT // 2 :]
    upsert_companies(platform, early)
    sync = sync_group.spawn(
        CDCBRIDGE_SYNC_ASSOCIATIONS="1",
        CDCBRIDGE_SYNC_ASSOCIATIONS_RETRY_S="0.5",
        CDCBRIDGE_SYNC_ASSOCIATIONS_RETRY_CAP_S="5",
    )
    wanted: dict[str, str] = {}
    for n in range(CUSTOMER_COUNT):
        email = f"{tag}-{n}@example.com"
        company = rng.choice(company_ids)
        wanted[email] = str(company)
        pg.execute("INSERT INTO customers (email, company_id) VALUES (%s, %s)", (email, company))
        if n == CUSTOMER_COUNT // 2:
            upsert_companies(platform, late[: len(late) // 2])  # some arrive mid-stream
    wait_for(lambda: set(wanted) <= set(sandbox.contacts()), 240, "every customer to arrive", 0.5)
    upsert_companies(platform, late[len(late) // 2 :])  # the rest arrive after their customers

    wrong: list[tuple[str, str, set[str] | None]] = []

    def right() -> bool:
        found = sandbox.associations()
        wrong[:] = [(e, c, found.get(e)) for e, c in wanted.items() if found.get(e) != {c}]
        return not wrong

    def wait_right(what: str) -> None:
        try:
            wait_for(right, 240, what, 0.5)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {len(wrong)} wrong, e.g. {wrong[:3]}") from None

    wait_right("every association to be right")

    movers = rng.sample(sorted(wanted), MOVED)
    for email in movers:
        target = rng.choice([c for c in company_ids if str(c) != wanted[email]])
        wanted[email] = str(target)
        pg.execute("UPDATE customers SET company_id = %s WHERE email = %s", (target, email))
    wait_right("the moved customers' associations to move")

    # a company deleted under the archive policy takes its associations with it
    gone = wanted[movers[0]]
    platform.remove_batch(
        [VendorRecord(gone, gone, {}, object_type=COMPANIES)], DeleteMechanism.ARCHIVE
    )
    found = sandbox.associations()
    assert all(gone not in companies for companies in found.values())
    assert sync.stop() == 0, sync.log()
    assert sync_group.lag() == 0
    assert '"association refused by the platform"' not in sync.log()
