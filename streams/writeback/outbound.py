"""The outbound side of the loop: no echo, and consent that never flips back. One call site
(``streams.sync.service.default_parts``) through ``guard_outbound``.

No echo (decode time, no I/O): writeback sets the customers row's marker column in the same
UPDATE that withdraws consent, and a trigger clears the marker on every other UPDATE (see
``local_stack/sql/050_writeback.sql``). A Debezium change whose after-image carries a
non-NULL marker was made by writeback, so it becomes ``Skip("writeback echo")``: committed,
never sent. The marker is in the row, not in a side table, so it needs neither Debezium's
transaction metadata nor ordering across topics.

Consent monotonic (delivery time, one query per batch that grants consent): before a batch
goes out, every record that would send marketing consent as granted is checked against the
latest withdrawal writeback recorded (``customer_engagement``) and the database's explicit
opt-in time. Unless the opt-in is strictly newer, the consent properties are removed from
the record (the rest of the change goes), and the decision is logged with both trace ids.
If the database cannot be asked, the batch fails transiently: consent is never sent unchecked.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import sql

from cdcbridge.logs import trace_context
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.contracts import (
    CustomerChange,
    Decode,
    DeleteMechanism,
    InvalidRecord,
    PlatformAdapter,
    PublishedLimits,
    RecordResult,
    Skip,
    TransientPlatformError,
    VendorRecord,
)
from streams.mapping.vendor_mapping import Platform, compiled_mapping
from streams.writeback.plan import resubscribe_allowed
from streams.writeback.spec import DEFAULT_MAPPING, WritebackMapping, load_writeback_mapping
from streams.writeback.stale_fields import StaleFieldFilter

log = logging.getLogger(__name__)
Decoder = Decode
CONSENT_FIELDS = ("marketing_consent", "marketing_consent_at")
DSN_ENV = "CDCBRIDGE_WRITEBACK_DSN"


def writeback_marker(value: bytes | None, column: str) -> str | None:
    """The marker column's value in a Debezium JSON envelope's after-image (None when absent,
    NULL, or the value is not such an envelope; the real decoder then judges it)."""
    if not value:
        return None
    named = value.count(f'"{column}"'.encode())
    if named == 0 or named == value.count(f'"{column}":null'.encode()):
        return None  # fast path: absent, or NULL in every image (compact JSON)
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if isinstance(document, dict) and isinstance(document.get("payload"), dict):
        document = document["payload"]
    after = document.get("after") if isinstance(document, dict) else None
    marker = after.get(column) if isinstance(after, dict) else None
    return marker if isinstance(marker, str) and marker else None


def skip_writeback_echoes(decode: Decoder, column: str, metrics: Metrics | None = None) -> Decoder:
    """``decode``, except that row changes made by writeback become ``Skip``."""
    counted = metrics or NoOpMetrics()

    def decode_or_skip(
        topic: str, key: bytes | None, value: bytes | None, trace_id: str | None
    ) -> CustomerChange | Skip:
        marker = writeback_marker(value, column)
        if marker is not None:
            counted.increment("cdcbridge_sync_echoes_skipped_total")
            return Skip(f"writeback echo ({marker})")
        return decode(topic, key, value, trace_id)

    return decode_or_skip


class ConsentGuard:
    """A ``PlatformAdapter`` that strips consent grants the platform's withdrawals forbid and
    stale database values of fields the platform changed more recently."""

    def __init__(
        self,
        inner: PlatformAdapter,
        platform: Platform,
        mapping: WritebackMapping,
        connect: Callable[[], psycopg.Connection[tuple[Any, ...]]],
        metrics: Metrics | None = None,
    ) -> None:
        self.inner = inner
        self.__metrics = metrics or NoOpMetrics()
        self.name: str = inner.name
        self.limits: PublishedLimits = inner.limits
        self.limiter = getattr(inner, "limiter", None)
        self.supported_deletes: frozenset[DeleteMechanism] = inner.supported_deletes
        vendor = compiled_mapping(platform)
        self.__consent_props = {p.property: p for p in vendor.properties
                                if p.field == "marketing_consent"}  # fmt: skip
        self.__strip = {p.property for p in vendor.properties if p.field in CONSENT_FIELDS}
        self.__connect = connect
        self.__conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self.__lock = threading.Lock()
        self.__stale = StaleFieldFilter(mapping)
        c = mapping.customers
        self.__query = sql.SQL(
            "SELECT s.customer_key, s.consent_withdrawn_at, s.consent_trace_id, c.{opt_in_at} "
            "FROM {state} s LEFT JOIN {customers} c ON c.{key}::text = s.customer_key "
            "WHERE s.customer_key = ANY(%s) AND s.consent_withdrawn_at IS NOT NULL"
        ).format(state=sql.Identifier(mapping.state_table),
                 customers=sql.Identifier(c.table), key=sql.Identifier(c.key_column),
                 opt_in_at=sql.Identifier(mapping.consent.opt_in_at_column))  # fmt: skip

    def __grants(self, record: VendorRecord) -> bool:
        for prop, rule in self.__consent_props.items():
            if prop in record.properties:
                try:
                    if rule.decode(record.properties[prop]) is True:
                        return True
                except (TypeError, ValueError) as exc:
                    raise InvalidRecord("marketing_consent", "boolean", record.properties[prop],
                                        str(exc)) from exc  # fmt: skip
        return False

    def __fetch(self, query: sql.Composed, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self.__lock:
            try:
                if self.__conn is None or self.__conn.closed:
                    self.__conn = self.__connect()
                return self.__conn.execute(query, params).fetchall()
            except psycopg.OperationalError as exc:
                if self.__conn is not None:
                    self.__conn.close()
                raise TransientPlatformError(
                    f"outbound check: database unavailable: {exc}"
                ) from exc

    def guard(self, records: Sequence[VendorRecord]) -> list[VendorRecord]:
        """The records to send: consent grants forbidden by a newer withdrawal removed, and
        stale values of both-owned fields (``stale_fields``) removed."""
        records, dropped = self.__stale.filter(records, self.__fetch)
        if dropped:
            self.__metrics.increment("cdcbridge_sync_stale_fields_dropped_total", dropped)
        granting = [r.key for r in records if self.__grants(r)]
        if not granting:
            return list(records)
        blocked: dict[str, tuple[Any, ...]] = {}
        for key, withdrawn_at, consent_trace, opt_in_at in self.__fetch(self.__query, (granting,)):
            if not resubscribe_allowed(opt_in_at, withdrawn_at):
                blocked[key] = (withdrawn_at, consent_trace, opt_in_at)
        out = []
        for record in records:
            if record.key not in blocked:
                out.append(record)
                continue
            withdrawn_at, consent_trace, opt_in_at = blocked[record.key]
            with trace_context(record.trace_id or "-"):
                log.warning(
                    "consent conflict: re-subscribe blocked, the platform's withdrawal wins",
                    extra={"customer_key": record.key, "rule": "consent_monotonic",
                           "database_value": {"consent": True, "opt_in_at": str(opt_in_at),
                                              "trace_id": record.trace_id},
                           "platform_value": {"consent": False,
                                              "withdrawn_at": str(withdrawn_at),
                                              "trace_id": consent_trace}},
                )  # fmt: skip
            self.__metrics.increment("cdcbridge_sync_consent_grants_blocked_total")
            kept = {k: v for k, v in record.properties.items() if k not in self.__strip}
            out.append(replace(record, properties=kept))
        return out

    def upsert_batch(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        return self.inner.upsert_batch(self.guard(records))

    def remove_batch(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        return self.inner.remove_batch(records, mechanism)

    def read_batch(
        self, id_values: Sequence[str], object_type: str = "contacts"
    ) -> dict[str, dict[str, str]]:
        return self.inner.read_batch(id_values, object_type)


def guard_outbound(
    adapter: PlatformAdapter, decode: Decoder, platform: Platform, metrics: Metrics | None = None
) -> tuple[PlatformAdapter, Decoder]:
    """The sync service's adapter and decoder with the loop's guards. The echo guard is always
    on; the consent guard needs ``CDCBRIDGE_WRITEBACK_DSN`` (without it, a warning says that
    consent grants go unchecked)."""
    path = os.environ.get("CDCBRIDGE_WRITEBACK_MAPPING_FILE")
    mapping = load_writeback_mapping(Path(path) if path else DEFAULT_MAPPING)
    decode = skip_writeback_echoes(decode, mapping.customers.marker_column, metrics)
    dsn = os.environ.get(DSN_ENV)
    if not dsn:
        log.warning(f"{DSN_ENV} not set: consent grants are sent without the withdrawal check")
        return adapter, decode
    guarded = ConsentGuard(adapter, platform, mapping,
                           lambda: psycopg.connect(dsn, autocommit=True), metrics)  # fmt: skip
    return guarded, decode
