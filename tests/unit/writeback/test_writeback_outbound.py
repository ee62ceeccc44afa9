"""The outbound guards: writeback's own row changes are skipped, consent grants checked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest

from cdcbridge.metrics import RecordingMetrics
from streams.contracts import (
    CustomerChange,
    DeleteMechanism,
    PublishedLimits,
    RecordOutcome,
    RecordResult,
    Skip,
    TransientPlatformError,
    VendorRecord,
)
from streams.writeback.outbound import ConsentGuard, skip_writeback_echoes, writeback_marker
from streams.writeback.spec import load_writeback_mapping

pytestmark = pytest.mark.unit

COLUMN = "cdcbridge_writeback_id"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def envelope(marker: str | None, wrapped: bool = False) -> bytes:
    payload = {"op": "u", "before": {"id": 1, COLUMN: None},
               "after": {"id": 1, "email": "a@x.io", COLUMN: marker}}  # fmt: skip
    return orjson.dumps({"schema": {}, "payload": payload} if wrapped else payload)


@pytest.mark.parametrize("wrapped", [False, True])
def test_the_marker_is_read_from_the_after_image(wrapped: bool) -> None:
    assert writeback_marker(envelope("sandbox:e1", wrapped), COLUMN) == "sandbox:e1"
    assert writeback_marker(envelope(None, wrapped), COLUMN) is None
    assert writeback_marker(b"not json " + COLUMN.encode(), COLUMN) is None
    assert writeback_marker(None, COLUMN) is None


def test_echoes_are_skipped_and_everything_else_decoded() -> None:
    seen: list[bytes | None] = []
    traces: list[str | None] = []

    def decode(
        topic: str, key: bytes | None, value: bytes | None, trace_id: str | None
    ) -> CustomerChange | Skip:
        seen.append(value)
        traces.append(trace_id)
        return Skip("decoded")

    metrics = RecordingMetrics()
    guarded = skip_writeback_echoes(decode, COLUMN, metrics)
    echo = guarded("cdc.public.customers", None, envelope("sandbox:e1"), None)
    assert isinstance(echo, Skip) and "writeback echo" in echo.reason
    assert seen == []
    assert guarded("cdc.public.customers", None, envelope(None), "t-1") == Skip("decoded")
    assert len(seen) == 1
    assert traces == ["t-1"]  # the header's trace id reaches the decoder
    assert metrics.total("cdcbridge_sync_echoes_skipped_total") == 1


class RecordingAdapter:
    name = "hubspot"
    limits = PublishedLimits(100, 10.0, 100)
    supported_deletes = frozenset({DeleteMechanism.ARCHIVE})

    def __init__(self) -> None:
        self.sent: list[VendorRecord] = []

    def upsert_batch(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        self.sent.extend(records)
        return [RecordResult(r.key, RecordOutcome.OK) for r in records]

    def remove_batch(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        return []

    def read_batch(
        self, id_values: Sequence[str], object_type: str = "contacts"
    ) -> dict[str, dict[str, str]]:
        return {}


class FakeConnection:
    """Answers the consent query with ``rows`` and the stale-field query with ``versions``."""

    def __init__(
        self,
        rows: list[tuple[Any, ...]],
        fail: bool = False,
        versions: list[tuple[Any, ...]] | None = None,
    ) -> None:
        self.rows, self.fail, self.closed = rows, fail, False
        self.versions = versions or []
        self.queries: list[str] = []

    def execute(self, query: object, params: tuple[list[str]]) -> FakeConnection:
        kind = "versions" if "customer_field_versions" in repr(query) else "consent"
        self.queries.append(kind)
        if self.fail:
            raise psycopg.OperationalError("connection refused")
        self.keys, self.kind = params[0], kind
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self.versions if self.kind == "versions" else self.rows
        return [row for row in rows if row[0] in self.keys]

    def close(self) -> None:
        self.closed = True


def record(key: str, consent: str | None, phone: str = "+4930123") -> VendorRecord:
    props: dict[str, str | None] = {"email": f"{key}@x.io", "phone": phone}
    if consent is not None:
        props["cdcbridge_marketing_consent"] = consent
        props["cdcbridge_marketing_consent_at"] = "2025-01-01T00:00:00Z"
    return VendorRecord(key, f"{key}@x.io", props, trace_id=f"trace-{key}")


METRICS = RecordingMetrics()


def guard_with(conn: FakeConnection) -> tuple[ConsentGuard, RecordingAdapter]:
    inner = RecordingAdapter()
    guard = ConsentGuard(inner, "hubspot", load_writeback_mapping(), lambda: conn, METRICS)  # type: ignore[arg-type,return-value]
    return guard, inner


def test_a_grant_after_a_withdrawal_is_stripped_and_the_rest_goes() -> None:
    conn = FakeConnection([
        ("1", T0, "platform-trace", T0 - timedelta(days=1)),  # older opt-in: blocked
        ("2", T0, "platform-trace", T0 + timedelta(days=1)),  # newer explicit opt-in: allowed
    ])  # fmt: skip
    guard, inner = guard_with(conn)
    blocked_before = METRICS.total("cdcbridge_sync_consent_grants_blocked_total")
    guard.upsert_batch([record("1", "true"), record("2", "true"), record("3", "true")])
    assert METRICS.total("cdcbridge_sync_consent_grants_blocked_total") == blocked_before + 1
    sent = {r.key: dict(r.properties) for r in inner.sent}
    assert "cdcbridge_marketing_consent" not in sent["1"]
    assert "cdcbridge_marketing_consent_at" not in sent["1"]
    assert sent["1"]["phone"] == "+4930123"
    assert sent["2"]["cdcbridge_marketing_consent"] == "true"
    assert sent["3"]["cdcbridge_marketing_consent"] == "true"  # no withdrawal recorded


def test_no_consent_query_when_nothing_grants_consent() -> None:
    conn = FakeConnection([])
    guard, inner = guard_with(conn)
    guard.upsert_batch([record("1", "false"), record("2", None)])
    assert conn.queries == ["versions"] and len(inner.sent) == 2


def test_a_stale_database_value_does_not_overwrite_a_newer_platform_change() -> None:
    conn = FakeConnection(
        [],
        versions=[
            # platform said +4930777, writeback wrote it, the database still holds it: stale
            ("1", "phone", "phone", "+4930777", "+4930777", "platform-trace", "+4930777"),
            # the database changed since (holds something else): this record is newer, it goes
            ("2", "phone", "phone", "+4930777", "+4930777", "platform-trace", "+4930555"),
        ],
    )
    guard, inner = guard_with(conn)
    guard.upsert_batch([record("1", None), record("2", None, phone="+4930555"),
                        record("3", None)])  # fmt: skip
    sent = {r.key: dict(r.properties) for r in inner.sent}
    assert "phone" not in sent["1"] and sent["1"]["email"] == "1@x.io"
    assert sent["2"]["phone"] == "+4930555"
    assert sent["3"]["phone"] == "+4930123"


def test_an_unreachable_database_fails_the_batch_transiently() -> None:
    guard, inner = guard_with(FakeConnection([], fail=True))
    with pytest.raises(TransientPlatformError, match="database unavailable"):
        guard.upsert_batch([record("1", "true")])
    assert inner.sent == []
