"""Builds ``cdcbridge audit --direction inbound`` from settings: the engagement topic's window
(decoded as writeback decodes it), PostgreSQL through the writeback mapping, the writeback
group's lag as the settler. Kafka and the database come from ``CDCBRIDGE_WRITEBACK_*``."""

from __future__ import annotations

import argparse
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from cdcbridge.clock import Clock
from streams.audit.inbound import Consent, Identity, InboundAuditor
from streams.audit.report import as_document, record_metrics
from streams.audit.sampling import plan_sample
from streams.audit.settings import AuditSettings
from streams.audit.settle import kafka_settler
from streams.audit.wiring import audit_metrics, export_metrics
from streams.sync import kafka_boundary
from streams.sync.dlq.replay import parse_since
from streams.writeback.consumer import WritebackSettings
from streams.writeback.events import InboundEvent, Position, decode_record
from streams.writeback.spec import WritebackMapping, load_writeback_mapping

Conn = psycopg.Connection[tuple[Any, ...]]


class PgInboundStore:
    """``InboundStore`` over the writeback mapping's tables (read-only)."""

    def __init__(self, conn: Conn, mapping: WritebackMapping) -> None:
        self.__conn = conn
        self.__mapping = mapping

    def stored(self, identities: Sequence[Identity]) -> Mapping[Identity, str | None]:
        if not identities:
            return {}
        query = sql.SQL(
            "SELECT e.source_platform, e.event_id, e.customer_key FROM {events} e "
            "JOIN unnest(%s::text[], %s::text[]) AS w(p, i) "
            "ON e.source_platform = w.p AND e.event_id = w.i"
        ).format(events=sql.Identifier(self.__mapping.events_table))
        rows = self.__conn.execute(
            query, ([p for p, _ in identities], [i for _, i in identities])
        ).fetchall()
        return {(str(p), str(i)): (None if k is None else str(k)) for p, i, k in rows}

    def consent(self, customer_keys: Sequence[str]) -> Mapping[str, Consent]:
        if not customer_keys:
            return {}
        m = self.__mapping
        query = sql.SQL(
            "SELECT {key}::text, {consent}, {opt_in_at} FROM {customers} "
            "WHERE {key}::text = ANY(%s)"
        ).format(key=sql.Identifier(m.customers.key_column),
                 consent=sql.Identifier(m.consent.column),
                 opt_in_at=sql.Identifier(m.consent.opt_in_at_column),
                 customers=sql.Identifier(m.customers.table))  # fmt: skip
        rows = self.__conn.execute(query, (list(customer_keys),)).fetchall()
        return {str(k): Consent(c, at) for k, c, at in rows}


def window_events(bootstrap: str, topic: str, since_ms: int) -> tuple[list[InboundEvent], int]:
    """The decodable events of ``topic`` from ``since_ms`` to its current end, and how many
    records were not (writeback keeps those in its rejected table). Raises ``KafkaIOError``."""
    events: list[InboundEvent] = []
    undecodable = 0
    for record in kafka_boundary.read_topic(bootstrap, topic, since_ms):
        position = Position(record.topic, record.partition, record.offset)
        decoded = decode_record(position, record.key, record.value, record.headers)
        if isinstance(decoded, InboundEvent):
            events.append(decoded)
        else:
            undecodable += 1
    return events, undecodable


def run_inbound(args: argparse.Namespace, clock: Clock, rng: random.Random) -> dict[str, Any]:
    """One inbound audit; returns the report document (``passed`` decides the exit code).
    Raises ``ValueError`` (bad ``--since``, mapping), ``KafkaIOError``, ``psycopg.Error``."""
    overrides = {"bootstrap_servers": args.bootstrap_servers} if args.bootstrap_servers else {}
    settings = WritebackSettings(**overrides)
    audit = AuditSettings(**{name: getattr(args, name) for name in ("confidence", "margin")
                             if getattr(args, name, None) is not None})  # fmt: skip
    mapping = load_writeback_mapping(Path(settings.mapping_file))
    since = args.since or "1d"
    events, undecodable = window_events(
        settings.bootstrap_servers, settings.topic, parse_since(since, clock.time())
    )
    plan = plan_sample(len({(e.source_platform, e.event_id) for e in events}),
                       confidence=audit.confidence, margin=audit.margin,
                       fixed=args.sample, everything=args.all)  # fmt: skip
    settler = kafka_settler(
        settings.bootstrap_servers, settings.group_id, settings.topic, clock,
        audit.settle_timeout_s,
    )  # fmt: skip
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        auditor = InboundAuditor(
            store=PgInboundStore(conn, mapping),
            settler=settler,
            clock=clock,
            withdraw_on=frozenset(mapping.consent.withdraw_on),
            conflict=mapping.consent.conflict,
            consent_column=mapping.consent.column,
        )
        result = auditor.run(plan, events, rng)
    metrics = audit_metrics(args)
    record_metrics(result, "all", metrics, direction="inbound")
    export_metrics(args, metrics, {"direction": "inbound"})
    doc = as_document(result, "inbound", show_values=args.show_values)
    doc |= {"direction": "inbound", "topic": settings.topic, "group": settings.group_id,
            "since": since, "undecodable_records": undecodable}  # fmt: skip
    return doc
