"""One source of truth for a record's trace id: its Kafka ``trace_id`` header when present,
else the one the decoder derives from the source, once. The engine hands the header to the
decoder; the change carries the id; the vendor record is built from the change; delivery
sends the record's id as it is (no overwrite)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import CustomerUpsert, KafkaPosition, SyncMeta, VendorRecord
from streams.mapping.change_decoder import decode_change, derive_trace_id
from streams.mapping.vendor_record import VendorRecordBuilder
from streams.platform.deletes import DeletePlan, DeletePolicy
from streams.sync.breaker import InvalidRatioBreaker
from streams.sync.coalesce import PendingChange, SourceRecord
from streams.sync.deliver import BatchDeliverer, RetryPolicy
from streams.sync.engine import SyncEngine
from streams.sync.engine_config import EngineConfig
from tests.fakes.sync import FakeAdapter, FakeDeadLetters, InlineExecutor

pytestmark = pytest.mark.unit

TOPIC = "cdc.public.customers"
VALUE = (Path(__file__).resolve().parents[2] / "fixtures" / "debezium" / "update.json").read_bytes()


def sync_once(headers: dict[str, bytes]) -> tuple[VendorRecord, list[str]]:
    """Run one record through the real decoder, builder and engine; what the adapter got."""
    adapter = FakeAdapter()
    plan = DeletePlan.resolve("hubspot", DeletePolicy.ARCHIVE)
    builder = VendorRecordBuilder("hubspot", plan.properties)
    deliverer = BatchDeliverer(adapter, builder, plan, RetryPolicy(0.001, 0.01), lambda _s: False)
    engine = SyncEngine(
        EngineConfig(10, 0.0, 1, 100, plan.policy, "hubspot"),
        decode_change,
        builder,
        deliverer,
        FakeDeadLetters(),
        InvalidRatioBreaker(60.0, 20, 0.5),
        InlineExecutor(),
        MockedClock(),
        RecordingMetrics(),
    )
    engine.submit(KafkaPosition(TOPIC, 0, 7, headers), b'{"id": 1042}', VALUE)
    engine.drain(threading.Event(), 1.0)
    [(_kind, [record])] = adapter.calls
    return record, adapter.call_trace_ids


def test_the_header_trace_id_is_the_one_sent() -> None:
    record, call_trace_ids = sync_once({"trace_id": b"4bf92f3577b34da6a3ce929d0e0e4736"})
    assert record.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert call_trace_ids == ["4bf92f3577b34da6a3ce929d0e0e4736"]


def test_without_a_header_the_source_derived_trace_id_is_sent() -> None:
    change = decode_change(TOPIC, b'{"id": 1042}', VALUE)
    assert isinstance(change, CustomerUpsert)
    meta = change.meta
    derived = derive_trace_id(meta.source_table, meta.lsn, change.source_id, "u", meta.ts_ms)
    record, call_trace_ids = sync_once({})
    assert record.trace_id == derived == meta.trace_id
    assert call_trace_ids == [derived]


def test_delivery_sends_the_kept_record_as_it_is() -> None:
    adapter = FakeAdapter()
    plan = DeletePlan.resolve("hubspot", DeletePolicy.ARCHIVE)

    def never(_change: object) -> VendorRecord:
        raise AssertionError("the kept record is not built again")

    deliverer = BatchDeliverer(adapter, never, plan, RetryPolicy(0.001, 0.01), lambda _s: False)
    change = CustomerUpsert("1", {"email": "a@x.co"}, SyncMeta("customers", 1, "kept-id"))
    kept = VendorRecord("1", "a@x.co", {"email": "a@x.co"}, "kept-id")
    record = SourceRecord(KafkaPosition(TOPIC, 0, 1), None, None, "kept-id")
    results = deliverer.deliver([PendingChange(("customers", "1"), change, [record], 0.0, kept)])
    assert [r.error_class for r in results] == [None]
    assert adapter.calls == [("upsert", [kept])]
