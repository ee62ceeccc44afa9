"""Builds the audit and the backfill from settings: PostgreSQL, the adapter with its shared
limiter at the audit's share, the sync's decoder and mapping, Kafka for lag and deletes."""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from typing import Any

import psycopg

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.audit.backfill import follow_snapshot
from streams.audit.compare import Comparator
from streams.audit.deletes import company_expectation, deleted_rows, expectation_for
from streams.audit.report import as_document, record_metrics
from streams.audit.runner import Auditor, Progress
from streams.audit.sampling import SamplePlan, plan_sample
from streams.audit.settings import AuditSettings
from streams.audit.settle import kafka_settler
from streams.audit.snapshot_signal import keys_filter, keys_of, send_signal, wanted_keys
from streams.audit.source_rows import SourceTable, expected_record
from streams.audit.topic_tail import TopicTail
from streams.contracts import COMPANIES, CONTACTS
from streams.mapping.change_decoder import ChangeDecoder
from streams.mapping.table_mapping import TableMapping
from streams.mapping.vendor_mapping import load_vendor_mapping
from streams.mapping.vendor_record import record_targets
from streams.platform import build_adapter, effective_limits, shared_limiter
from streams.platform.deletes import DeletePlan
from streams.platform.settings import PlatformSettings
from streams.sync import kafka_boundary
from streams.sync.dlq.replay import parse_since
from streams.sync.settings import SyncSettings
from streams.sync.subscription import sync_mappings

AUDITED_OBJECTS = (CONTACTS, COMPANIES)
"""Object kinds the adapters read back (``read_batch``): contacts by email, companies by id."""


def _sync_settings(args: argparse.Namespace) -> SyncSettings:
    overrides: dict[str, Any] = {}
    if getattr(args, "bootstrap_servers", None):
        overrides["bootstrap_servers"] = args.bootstrap_servers
    return SyncSettings(**overrides)


def _audited_mapping(
    sync: SyncSettings, table: str | None
) -> tuple[TableMapping, tuple[TableMapping, ...]]:
    """The mapping of the table to audit (``--table``, default ``public.customers``) and every
    mapping in effect. Raises ``ValueError`` (a usage error) for a table without a mapping, or
    one whose objects cannot be read back (the adapters read contacts and companies)."""
    mappings = sync_mappings(sync)
    wanted = table or "public.customers"
    found = next((m for m in mappings if m.table == wanted), None)
    if found is None:
        known = ", ".join(m.table for m in mappings)
        raise ValueError(f"no mapping for table {wanted} (mapped: {known})")
    if found.target.object_type not in AUDITED_OBJECTS:
        raise ValueError(
            f"{wanted} writes {found.target.object_type}: the audit reads back "
            + " and ".join(AUDITED_OBJECTS)
        )
    return found, mappings


def _audit_settings(args: argparse.Namespace) -> AuditSettings:
    overrides = {
        name: getattr(args, name)
        for name in ("confidence", "margin", "budget_share", "deletes_since")
        if getattr(args, name, None) is not None
    }
    settings = AuditSettings(**overrides)
    if settings.pg_dsn is None:
        raise ValueError("set CDCBRIDGE_PG_DSN to the source database")
    return settings


class AuditJob:
    """One ``cdcbridge audit`` invocation. Use as a context manager (closes the connection)."""

    def __init__(
        self, args: argparse.Namespace, audit: AuditSettings, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.args = args
        self.audit = audit
        self.sync = _sync_settings(args)
        self.platform = PlatformSettings()
        self.delete_plan = DeletePlan.resolve(
            self.platform.platform, self.sync.delete_policy, self.sync.unsubscribe_properties
        )
        self.clock = clock
        assert audit.pg_dsn is not None
        self.conn = psycopg.connect(audit.pg_dsn.get_secret_value(), autocommit=True)
        self.mapping, mappings = _audited_mapping(self.sync, getattr(args, "table", None))
        self.decoder = ChangeDecoder(mappings)
        platform = self.platform.platform
        self.target = record_targets(platform, [self.mapping]).get(self.mapping.table)
        vendor = load_vendor_mapping(platform)
        self.object_type = self.mapping.target.object_type
        if self.target is not None and self.target.mapping is not None:
            own = self.target.mapping  # the table's own property map (or its kind's file)
            fields = {prop.property: prop.field for prop in own.properties}
            id_property = own.spec.id_property if self.object_type == COMPANIES else None
            folded = frozenset([vendor.id_property] if id_property is None else [])
            read_first = id_property or vendor.id_property
        else:
            fields = {rule.property: rule.field for rule in vendor.properties}
            folded = frozenset(
                [vendor.id_property] + [r.property for r in vendor.properties if r.enum is not None]
            )
            read_first = vendor.id_property
        self.comparator = Comparator(fields, folded)
        limiter = shared_limiter(self.platform.platform, effective_limits(self.platform), clock)
        limiter.set_share(audit.budget_share)
        read = [read_first, *fields]
        read += list(self.delete_plan.properties)  # what a delete by field update leaves
        self.adapter = build_adapter(
            self.platform, clock=clock, limiter=limiter, read_properties=list(dict.fromkeys(read))
        )
        self.source = SourceTable(self.conn, self.mapping, args.where or audit.where or None)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AuditJob:
        return cls(args, _audit_settings(args))

    def __enter__(self) -> AuditJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def auditor(self, progress: Progress | None) -> Auditor:
        platform = self.platform.platform
        return Auditor(
            source=self.source,
            expected=lambda row: expected_record(
                self.decoder, self.mapping, platform, row, self.target
            ),
            read=lambda ids: self.adapter.read_batch(ids, self.object_type),
            comparator=self.comparator,
            settler=kafka_settler(
                self.sync.bootstrap_servers,
                self.sync.group_id,
                self.mapping.topics[0],
                self.clock,
                self.audit.settle_timeout_s,
            ),
            clock=self.clock,
            key_column=self.mapping.primary_key,
            batch_size=self.adapter.limits.max_batch_size,
            progress=progress,
        )

    def run(self, rng: random.Random, progress: Progress | None) -> dict[str, Any]:
        """Audit, optionally repair and re-check; returns the JSON report document."""
        args = self.args
        ids = self.source.ids()
        plan = plan_sample(
            len(ids),
            confidence=self.audit.confidence,
            margin=self.audit.margin,
            fixed=args.sample,
            everything=args.all,
        )
        if self.object_type == COMPANIES:
            expectation = company_expectation(self.platform.platform, self.sync.delete_policy)
        else:
            expectation = expectation_for(self.delete_plan)
        deleted = [] if args.no_deletes or expectation is None else self.__recent_deletes()
        auditor = self.auditor(progress)
        result = auditor.run(plan, rng, deleted, expectation)
        metrics = audit_metrics(args)
        record_metrics(result, self.platform.platform, metrics)
        doc = as_document(result, self.platform.platform, show_values=args.show_values)
        if args.repair and result.findings:
            doc["repair"] = self.__repair(auditor, {f.source_id for f in result.findings})
            doc["passed"] = doc["repair"]["still_mismatched"] == 0
            metrics.gauge(
                "cdcbridge_audit_repair_sent",
                float(doc["repair"]["sent"]),
                {"platform": self.platform.platform},
            )
        export_metrics(args, metrics)
        return doc

    def __recent_deletes(self) -> list[Any]:
        since_ms = parse_since(self.audit.deletes_since, self.clock.time())
        topic = self.mapping.topics[0]
        records = kafka_boundary.read_topic(self.sync.bootstrap_servers, topic, since_ms)
        by_id = self.object_type == COMPANIES
        return deleted_rows(self.decoder, ((r.topic, r.key, r.value) for r in records), by_id)

    def __repair(self, auditor: Auditor, suspects: set[str]) -> dict[str, Any]:
        """Re-send the rows that still exist through Debezium (a filtered incremental
        snapshot), wait until it is written and synced, then audit those rows again."""
        rows = sorted(self.source.existing(sorted(suspects)), key=int)
        if not rows:
            return {"sent": 0, "repaired": 0, "still_mismatched": len(suspects)}
        key = self.mapping.primary_key
        where = keys_filter(key, rows)
        since_ms = int(self.clock.time() * 1000) - 1000
        with TopicTail(self.sync.bootstrap_servers, self.mapping.topics[0], since_ms) as tail:
            signal = send_signal(self.conn, self.audit.signal_table, self.mapping.table, where)
            outcome = follow_snapshot(
                signal,
                set(rows),
                lambda timeout: keys_of(tail.poll_keys(timeout), key),
                lambda keys: self.source.existing(sorted(keys)),
                self.clock,
                self.audit.snapshot_timeout_s,
            )
        plan = SamplePlan("fixed", len(rows), len(rows))
        again = auditor.audit_ids(plan, rows)  # mismatches wait for the sync to catch up
        still = {f.source_id for f in again.findings}
        return {
            "signal_id": signal,
            "sent": len(rows),
            "snapshot_complete": outcome.complete,
            "repaired": len(set(rows) - still),
            "still_mismatched": len(still) + len(suspects - set(rows)),
            "still_mismatched_ids": sorted(still | (suspects - set(rows))),
        }


def audit_metrics(args: argparse.Namespace) -> Metrics:
    """A batch job's metrics: kept in a registry when they will be exported, else dropped."""
    if args.metrics_textfile or args.pushgateway:
        from cdcbridge.prometheus import PrometheusMetrics

        return PrometheusMetrics()
    return NoOpMetrics()


def export_metrics(
    args: argparse.Namespace, metrics: Metrics, grouping: dict[str, str] | None = None
) -> None:
    """Write the run's metrics for node_exporter's textfile collector and/or push them to a
    Prometheus Pushgateway (job ``cdcbridge_audit``): a CronJob is gone before any scrape."""
    from cdcbridge.prometheus import PrometheusMetrics

    if not isinstance(metrics, PrometheusMetrics):
        return
    from prometheus_client import push_to_gateway, write_to_textfile

    if args.metrics_textfile:
        write_to_textfile(args.metrics_textfile, metrics.registry)
    if args.pushgateway:
        push_to_gateway(args.pushgateway, job="cdcbridge_audit", registry=metrics.registry,
                        grouping_key=grouping or {})  # fmt: skip


def run_backfill(
    args: argparse.Namespace, clock: Clock, progress: Callable[[int, int], None] | None
) -> dict[str, Any]:
    """Signal an incremental snapshot of ``args.table`` and follow it to the end."""
    audit = AuditSettings()
    if audit.pg_dsn is None:
        raise SystemExit("backfill: set CDCBRIDGE_PG_DSN to the source database")
    sync = _sync_settings(args)
    mapping = next((m for m in sync_mappings(sync) if m.table == args.table), None)
    key = mapping.primary_key if mapping is not None else "id"
    topic = mapping.topics[0] if mapping is not None else f"cdc.{args.table}"
    timeout = args.timeout_s or audit.snapshot_timeout_s
    with psycopg.connect(audit.pg_dsn.get_secret_value(), autocommit=True) as conn:
        wanted = wanted_keys(conn, args.table, key, args.where)
        since_ms = int(clock.time() * 1000) - 1000
        with TopicTail(sync.bootstrap_servers, topic, since_ms) as tail:
            signal = send_signal(conn, audit.signal_table, args.table, args.where)

            def existing(keys: Any) -> set[str]:
                return wanted_keys(conn, args.table, key, keys_filter(key, keys)) if keys else set()

            outcome = follow_snapshot(
                signal,
                wanted,
                lambda t: keys_of(tail.poll_keys(t), key),
                existing,
                clock,
                timeout,
                progress,
            )
    return {
        "signal_id": outcome.signal_id,
        "table": args.table,
        "rows": outcome.wanted,
        "written": outcome.written,
        "deleted_meanwhile": outcome.deleted_meanwhile,
        "complete": outcome.complete,
        "duration_s": round(outcome.duration_s, 1),
    }
