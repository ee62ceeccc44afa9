"""``WritebackStore`` against the stack's real PostgreSQL (migrations applied by the stack)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from local_stack.endpoints import StackEndpoints
from streams.writeback.events import InboundEvent, Position, RejectedRecord
from streams.writeback.spec import load_writeback_mapping
from streams.writeback.store import WritebackStore

pytestmark = pytest.mark.integration
Conn = psycopg.Connection[tuple[Any, ...]]
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def pg(stack: StackEndpoints) -> Iterator[Conn]:
    with psycopg.connect(stack.pg_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def store() -> WritebackStore:
    return WritebackStore(load_writeback_mapping(), f"it-store-{uuid.uuid4().hex[:8]}")


def customer(pg: Conn, opt_in_at: datetime | None = None) -> tuple[str, str]:
    email = f"wb-{uuid.uuid4().hex[:10]}@example.com"
    row = pg.execute(
        "INSERT INTO customers (email, marketing_opt_in, opt_in_at) VALUES (%s, true, %s) "
        "RETURNING id",
        (email, opt_in_at or T0 - timedelta(days=30)),
    ).fetchone()
    assert row is not None
    return str(row[0]), email


def event(
    type_: str, source_id: str | None, minutes: int = 0, email: str | None = None, offset: int = 0
) -> InboundEvent:
    at = T0 + timedelta(minutes=minutes)
    return InboundEvent(
        Position("it.store", 0, offset), uuid.uuid4().hex, type_, "sandbox", at, at,
        uuid.uuid4().hex, email=email, source_id=source_id,
    )  # fmt: skip


def state(pg: Conn, key: str) -> tuple[Any, ...] | None:
    return pg.execute(
        "SELECT counters, last_engaged_at, consent_withdrawn_at, consent_withdrawn_source "
        "FROM customer_engagement WHERE customer_key = %s",
        (key,),
    ).fetchone()


def consent(pg: Conn, key: str) -> tuple[Any, ...]:
    row = pg.execute(
        "SELECT marketing_opt_in, cdcbridge_writeback_id FROM customers WHERE id = %s",
        (int(key),),
    ).fetchone()
    assert row is not None
    return row


def test_events_state_and_offsets_commit_together_and_replays_change_nothing(
    pg: Conn, store: WritebackStore
) -> None:
    key, _ = customer(pg)
    batch = [event("email_opened", key, 1), event("email_opened", key, 2),
             event("contact_unsubscribed", key, 3, offset=2)]  # fmt: skip
    outcome = store.write_batch(pg, batch, [], {("it.store", 0): 3})
    assert outcome.new_events == batch and outcome.withdrawals == ["sandbox"]
    assert store.stored_offsets(pg, "it.store") == {0: 3}
    counters, last_engaged, withdrawn_at, source = state(pg, key) or ()
    assert counters == {"opens": 2, "unsubscribes": 1}
    assert last_engaged == T0 + timedelta(minutes=2)
    assert withdrawn_at == T0 + timedelta(minutes=3) and source == "sandbox"
    opted_in, marker = consent(pg, key)
    assert opted_in is False
    assert marker == f"sandbox:{batch[2].event_id}"

    replay = store.write_batch(pg, batch, [], {("it.store", 0): 3})
    assert replay.new_events == [] and replay.withdrawals == []
    assert state(pg, key) == (counters, last_engaged, withdrawn_at, source)
    pg.execute("UPDATE customers SET phone = '+4930111' WHERE id = %s", (int(key),))
    assert consent(pg, key) == (False, None), "any other update clears the no-echo marker"


def test_an_event_for_an_unknown_contact_is_kept_and_matched_later(
    pg: Conn, store: WritebackStore
) -> None:
    email = f"late-{uuid.uuid4().hex[:10]}@example.com"
    early = event("email_clicked", None, 5, email=email)
    store.write_batch(pg, [early], [], {("it.store", 0): 1})
    row = pg.execute(
        "SELECT customer_key, applied_at FROM engagement_events WHERE event_id = %s",
        (early.event_id,),
    ).fetchone()
    assert row == (None, None)
    key = pg.execute(
        "INSERT INTO customers (email) VALUES (%s) RETURNING id", (email.upper(),)
    ).fetchone()
    assert key is not None
    assert store.match_pending(pg) >= 1
    assert (state(pg, str(key[0])) or ())[0] == {"clicks": 1}
    store.match_pending(pg)  # matching again applies nothing twice
    assert (state(pg, str(key[0])) or ())[0] == {"clicks": 1}


def test_a_newer_opt_in_in_the_database_wins_and_a_tie_goes_to_the_database(
    pg: Conn, store: WritebackStore
) -> None:
    newer, _ = customer(pg, opt_in_at=T0 + timedelta(minutes=10))
    tie, _ = customer(pg, opt_in_at=T0 + timedelta(minutes=1))
    store.write_batch(
        pg,
        [event("contact_unsubscribed", newer, 1), event("contact_unsubscribed", tie, 1)],
        [],
        {},
    )
    assert consent(pg, newer) == (True, None)
    assert consent(pg, tie) == (True, None)
    assert (state(pg, newer) or ())[2] == T0 + timedelta(minutes=1)  # the fact is kept


def test_undecodable_records_are_kept_with_their_bytes(pg: Conn, store: WritebackStore) -> None:
    offset = int(uuid.uuid4().int % 10**9)
    bad = RejectedRecord(Position("it.store.bad", 1, offset), b"k", b"\xff\x00", "not avro")
    store.write_batch(pg, [], [bad], {("it.store.bad", 1): offset + 1})
    row = pg.execute(
        "SELECT record_value, reason FROM engagement_events_rejected "
        "WHERE kafka_topic = 'it.store.bad' AND kafka_offset = %s",
        (offset,),
    ).fetchone()
    assert row == (b"\xff\x00", "not avro")


def property_change(key: str, at: datetime, value: str) -> InboundEvent:
    return InboundEvent(
        Position("it.store", 0, 0), uuid.uuid4().hex, "contact_updated", "hubspot", at, at,
        uuid.uuid4().hex, source_id=key,
        attributes={"propertyName": "phone", "propertyValue": value},
    )  # fmt: skip


def test_a_both_owned_field_follows_the_newest_change_and_ties_go_to_the_database(
    pg: Conn, store: WritebackStore
) -> None:
    key, _ = customer(pg)
    pg.execute("UPDATE customers SET phone = '+4930100' WHERE id = %s", (int(key),))
    row = pg.execute("SELECT updated_at FROM customers WHERE id = %s", (int(key),)).fetchone()
    assert row is not None
    db_changed = row[0]

    def phone() -> tuple[Any, ...]:
        found = pg.execute(
            "SELECT phone, cdcbridge_writeback_id FROM customers WHERE id = %s", (int(key),)
        ).fetchone()
        assert found is not None
        return found

    store.write_batch(pg, [property_change(key, db_changed, "+4930999")], [], {})
    assert phone() == ("+4930100", None), "a tie goes to the database"
    store.write_batch(pg, [property_change(key, db_changed - timedelta(seconds=1), "+1")], [], {})
    assert phone() == ("+4930100", None), "an older platform change loses"
    newer = property_change(key, db_changed + timedelta(seconds=1), "+4930777")
    store.write_batch(pg, [newer], [], {})
    assert phone() == ("+4930777", f"hubspot:{newer.event_id}"), "the newer one wins, marked"
    version = pg.execute(
        "SELECT db_value, vendor_property, vendor_value, trace_id FROM customer_field_versions "
        "WHERE customer_key = %s AND field = 'phone'",
        (key,),
    ).fetchone()
    assert version == ("+4930777", "phone", "+4930777", newer.trace_id)
