"""The PostgreSQL side of writeback: one transaction per consumed batch.

Invariant: the rows a batch produces and the Kafka offsets after it are committed together
(the sink-side offset pattern). In one transaction: insert events (a duplicate event id is a
no-op), keep undecodable records, match events to customers (source id, else email), apply
the state of events matched now and never applied before (``applied_at`` marks them, so each
event counts once however often it is replayed or matched late), withdraw consent where the
conflict rule says so (setting the no-echo marker in the same row), store the offsets.

Raises ``psycopg.OperationalError`` when the database is unreachable (transient: the caller
retries the batch) and other ``psycopg.Error`` for everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from psycopg import sql

from cdcbridge.logs import trace_context
from streams.writeback.events import InboundEvent, RejectedRecord
from streams.writeback.plan import (
    AppliedEvent,
    FieldChange,
    StateDelta,
    Withdrawal,
    decide_withdrawal,
    plan_state,
    platform_wins,
)
from streams.writeback.spec import WritebackMapping

log = logging.getLogger(__name__)
Conn = psycopg.Connection[tuple[Any, ...]]


def _id(name: str) -> sql.Identifier:
    return sql.Identifier(name)


@dataclass
class BatchOutcome:
    """What one committed batch did: the events new to the table, and consent withdrawals."""

    new_events: list[InboundEvent] = field(default_factory=list)
    withdrawals: list[str] = field(default_factory=list)  # source platform of each


class WritebackStore:
    def __init__(self, mapping: WritebackMapping, group: str) -> None:
        self.mapping = mapping
        self.group = group
        m, c = mapping, mapping.customers
        self.__names = {
            "events": _id(m.events_table),
            "rejected": _id(m.rejected_table),
            "state": _id(m.state_table),
            "offsets": _id(m.offsets_table),
            "versions": _id(m.versions_table),
            "customers": _id(c.table),
            "key": _id(c.key_column),
            "email": _id(c.email_column),
            "marker": _id(c.marker_column),
            "consent": _id(m.consent.column),
            "opt_in_at": _id(m.consent.opt_in_at_column),
        }

    def __sql(self, text: str) -> sql.Composed:
        return sql.SQL(text).format(**self.__names)

    def stored_offsets(self, conn: Conn, topic: str) -> dict[int, int]:
        """Next offset to read per partition, as committed with the rows."""
        rows = conn.execute(
            self.__sql(
                "SELECT kafka_partition, next_offset FROM {offsets} "
                "WHERE consumer_group = %s AND topic = %s"
            ),
            (self.group, topic),
        ).fetchall()
        return {int(p): int(o) for p, o in rows}

    def write_batch(
        self,
        conn: Conn,
        events: Sequence[InboundEvent],
        rejected: Sequence[RejectedRecord],
        next_offsets: dict[tuple[str, int], int],
    ) -> BatchOutcome:
        """Commit one batch; says which events were new (not seen before)."""
        outcome = BatchOutcome()
        with conn.transaction():
            outcome.new_events = self.__insert_events(conn, events)
            self.__insert_rejected(conn, rejected)
            if events:
                platforms = [e.source_platform for e in events]
                ids = [e.event_id for e in events]
                scope = sql.SQL("(e.source_platform, e.event_id) IN (SELECT * FROM unnest("
                                "%(platforms)s::text[], %(ids)s::text[]))")  # fmt: skip
                params = {"platforms": platforms, "ids": ids}
                self.__match_and_apply(conn, scope, params, outcome)
            self.__store_offsets(conn, next_offsets)
        return outcome

    def match_pending(self, conn: Conn) -> int:
        """Match events kept for contacts unknown when they arrived; returns how many applied."""
        with conn.transaction():
            return self.__match_and_apply(conn, sql.SQL("TRUE"), {}, BatchOutcome())

    def __insert_events(self, conn: Conn, events: Sequence[InboundEvent]) -> list[InboundEvent]:
        if not events:
            return []
        query = self.__sql(
            "INSERT INTO {events} (event_id, source_platform, type, email, platform_contact_id, "
            "source_id, occurred_at, received_at, attributes, trace_id, kafka_topic, "
            "kafka_partition, kafka_offset) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (source_platform, event_id) DO NOTHING RETURNING source_platform, event_id"
        )
        rows = [
            (e.event_id, e.source_platform, e.type, e.email, e.platform_contact_id, e.source_id,
             e.occurred_at, e.received_at, orjson.dumps(dict(e.attributes)).decode(),
             e.trace_id, e.position.topic, e.position.partition, e.position.offset)
            for e in events
        ]  # fmt: skip
        inserted: set[tuple[str, str]] = set()
        with conn.cursor() as cur:
            cur.executemany(query, rows, returning=True)
            while True:
                inserted.update((str(p), str(i)) for p, i in cur.fetchall())
                if not cur.nextset():
                    break
        return [e for e in events if e.identity in inserted]

    def __insert_rejected(self, conn: Conn, rejected: Sequence[RejectedRecord]) -> None:
        if not rejected:
            return
        query = self.__sql(
            "INSERT INTO {rejected} (kafka_topic, kafka_partition, kafka_offset, record_key, "
            "record_value, reason) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO NOTHING"
        )
        rows = [
            (r.position.topic, r.position.partition, r.position.offset, r.key, r.value, r.reason)
            for r in rejected
        ]
        with conn.cursor() as cur:
            cur.executemany(query, rows)
        log.warning("kept records that are not engagement events", extra={"count": len(rows)})

    def __match_and_apply(
        self, conn: Conn, scope: sql.Composable, params: dict[str, Any], outcome: BatchOutcome
    ) -> int:
        match = sql.SQL(
            "UPDATE {events} e SET customer_key = c.{key}::text FROM {customers} c "
            "WHERE e.customer_key IS NULL AND {scope} AND {condition}"
        )
        by_id = sql.SQL("e.source_id IS NOT NULL AND c.{key}::text = e.source_id")
        by_email = sql.SQL("e.email IS NOT NULL AND lower(c.{email}) = e.email")
        for condition in (by_id, by_email):
            conn.execute(
                match.format(scope=scope, condition=condition.format(**self.__names),
                             **self.__names),
                params,
            )  # fmt: skip
        applied = conn.execute(
            sql.SQL(
                "UPDATE {events} e SET applied_at = clock_timestamp() "
                "WHERE e.customer_key IS NOT NULL AND e.applied_at IS NULL AND {scope} "
                "RETURNING e.customer_key, e.type, e.occurred_at, e.source_platform, "
                "e.event_id, e.trace_id, e.attributes"
            ).format(scope=scope, **self.__names),
            params,
        ).fetchall()
        events = [AppliedEvent(*row) for row in applied]
        for delta in plan_state(self.mapping, events):
            self.__apply(conn, delta, outcome)
        return len(events)

    def __apply(self, conn: Conn, delta: StateDelta, outcome: BatchOutcome) -> None:
        w = delta.withdrawal
        conn.execute(
            self.__sql(
                "INSERT INTO {state} AS s (customer_key, last_engaged_at, counters, "
                "consent_withdrawn_at, consent_withdrawn_source, consent_event_id, "
                "consent_trace_id) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (customer_key) DO UPDATE SET "
                "last_engaged_at = GREATEST(s.last_engaged_at, EXCLUDED.last_engaged_at), "
                "counters = (SELECT coalesce(jsonb_object_agg(k, coalesce((s.counters->>k)::bigint,"
                " 0) + coalesce((EXCLUDED.counters->>k)::bigint, 0)), '{{}}'::jsonb) "
                "FROM jsonb_object_keys(s.counters || EXCLUDED.counters) AS k), "
                "consent_withdrawn_at = CASE WHEN EXCLUDED.consent_withdrawn_at IS NOT NULL AND "
                "(s.consent_withdrawn_at IS NULL OR EXCLUDED.consent_withdrawn_at > "
                "s.consent_withdrawn_at) THEN EXCLUDED.consent_withdrawn_at "
                "ELSE s.consent_withdrawn_at END, "
                "consent_withdrawn_source = CASE WHEN EXCLUDED.consent_withdrawn_at > "
                "s.consent_withdrawn_at OR s.consent_withdrawn_at IS NULL THEN "
                "coalesce(EXCLUDED.consent_withdrawn_source, s.consent_withdrawn_source) "
                "ELSE s.consent_withdrawn_source END, "
                "consent_event_id = CASE WHEN EXCLUDED.consent_withdrawn_at > "
                "s.consent_withdrawn_at OR s.consent_withdrawn_at IS NULL THEN "
                "coalesce(EXCLUDED.consent_event_id, s.consent_event_id) "
                "ELSE s.consent_event_id END, "
                "consent_trace_id = CASE WHEN EXCLUDED.consent_withdrawn_at > "
                "s.consent_withdrawn_at OR s.consent_withdrawn_at IS NULL THEN "
                "coalesce(EXCLUDED.consent_trace_id, s.consent_trace_id) "
                "ELSE s.consent_trace_id END, updated_at = clock_timestamp()"
            ),
            (
                delta.customer_key, delta.last_engaged_at, orjson.dumps(delta.counters).decode(),
                w.occurred_at if w else None, w.source_platform if w else None,
                w.event_id if w else None, w.trace_id if w else None,
            ),
        )  # fmt: skip
        if w is not None and self.__withdraw(conn, w):
            outcome.withdrawals.append(w.source_platform)
        for change in delta.field_changes.values():
            self.__update_field(conn, delta.customer_key, change)

    def __update_field(self, conn: Conn, key: str, change: FieldChange) -> None:
        spec = self.mapping.field_updates
        assert spec is not None  # there are field changes only with a spec
        names = {**self.__names, "column": _id(change.column),
                 "changed_at": _id(spec.row_changed_at_column)}  # fmt: skip
        row = conn.execute(
            sql.SQL(
                "SELECT {column}, {changed_at}, xmin::text FROM {customers} "
                "WHERE {key}::text = %s FOR UPDATE"
            ).format(**names),
            (key,),
        ).fetchone()
        if row is None or row[0] == change.value:
            return  # deleted meanwhile, or the platform reports what we hold (our own write)
        current, changed_at, txid = row
        event = change.event
        wins = platform_wins(spec.rule, changed_at, event.occurred_at)
        with trace_context(event.trace_id):
            log.warning(
                "field conflict: %s wins", "the platform" if wins else "the database",
                extra={"customer_key": key, "field": change.field, "rule": spec.rule.value,
                       "platform_value": {"value": change.value, "at": str(event.occurred_at),
                                          "trace_id": event.trace_id,
                                          "property": change.vendor_property},
                       "database_value": {"value": current, "at": str(changed_at),
                                          "txid": txid}},
            )  # fmt: skip
            if wins:
                conn.execute(
                    sql.SQL(
                        "UPDATE {customers} SET {column} = %s, {marker} = %s WHERE {key}::text = %s"
                    ).format(**names),
                    (change.value, f"{event.source_platform}:{event.event_id}", key),
                )
                conn.execute(
                    self.__sql(
                        "INSERT INTO {versions} AS v (customer_key, field, db_value, "
                        "vendor_property, vendor_value, changed_at, event_id, trace_id) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT (customer_key, field) DO UPDATE SET "
                        "db_value = EXCLUDED.db_value, vendor_property = EXCLUDED.vendor_property, "
                        "vendor_value = EXCLUDED.vendor_value, changed_at = EXCLUDED.changed_at, "
                        "event_id = EXCLUDED.event_id, trace_id = EXCLUDED.trace_id"
                    ),
                    (key, change.field, change.value, change.vendor_property,
                     change.vendor_value, event.occurred_at, event.event_id, event.trace_id),
                )  # fmt: skip

    def __withdraw(self, conn: Conn, event: AppliedEvent) -> bool:
        """Withdraw consent if the conflict rule says so; True when the row changed."""
        row = conn.execute(
            self.__sql(
                "SELECT {consent}, {opt_in_at}, xmin::text FROM {customers} "
                "WHERE {key}::text = %s FOR UPDATE"
            ),
            (event.customer_key,),
        ).fetchone()
        if row is None:  # the customer was deleted meanwhile: the event row stays
            return False
        consent, opt_in_at, row_version = row
        decision = decide_withdrawal(self.mapping.consent.conflict, consent, opt_in_at,
                                     event.occurred_at)  # fmt: skip
        with trace_context(event.trace_id):
            if decision is Withdrawal.DATABASE_NEWER:
                log.warning(
                    "consent conflict: the database's opt-in wins",
                    extra={
                        "customer_key": event.customer_key,
                        "rule": self.mapping.consent.conflict.value,
                        "platform_value": {"consent": False, "at": str(event.occurred_at),
                                           "trace_id": event.trace_id},
                        "database_value": {"consent": True, "at": str(opt_in_at),
                                           "row_version": row_version},
                    },
                )  # fmt: skip
                return False
            if decision is Withdrawal.ALREADY_WITHDRAWN:
                return False
            conn.execute(
                self.__sql(
                    "UPDATE {customers} SET {consent} = false, {marker} = %s WHERE {key}::text = %s"
                ),
                (f"{event.source_platform}:{event.event_id}", event.customer_key),
            )
            log.info(
                "consent withdrawn",
                extra={"customer_key": event.customer_key, "source": event.source_platform,
                       "event_id": event.event_id, "occurred_at": str(event.occurred_at)},
            )  # fmt: skip
            return True

    def __store_offsets(self, conn: Conn, next_offsets: dict[tuple[str, int], int]) -> None:
        if not next_offsets:
            return
        query = self.__sql(
            "INSERT INTO {offsets} AS o (consumer_group, topic, kafka_partition, next_offset) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (consumer_group, topic, kafka_partition) "
            "DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = clock_timestamp() "
            "WHERE o.next_offset < EXCLUDED.next_offset"  # a replay never moves them back
        )
        rows = [(self.group, t, p, o) for (t, p), o in next_offsets.items()]
        with conn.cursor() as cur:
            cur.executemany(query, rows)
