"""``cdcbridge map --target <platform>`` prints the vendor record ``cdcbridge sync`` sends: for an
upsert and for a delete (under each delete policy), the same key, lookup value, properties and
trace id. Sync here is the real engine with the real decoder and vendor-record builder, sending
to a recording adapter."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import CustomerChange, CustomerUpsert, KafkaPosition, VendorRecord
from streams.mapping.change_decoder import decode_change
from streams.mapping.cli import map_line
from streams.mapping.vendor_mapping import Platform
from streams.mapping.vendor_record import VendorRecordBuilder
from streams.platform.deletes import DeletePlan, DeletePolicy
from streams.sync.breaker import InvalidRatioBreaker
from streams.sync.coalesce import merge
from streams.sync.deliver import BatchDeliverer, RetryPolicy
from streams.sync.engine import SyncEngine
from streams.sync.engine_config import EngineConfig
from tests.fakes.sync import FakeAdapter, FakeDeadLetters, InlineExecutor

pytestmark = pytest.mark.unit

TOPIC = "cdc.public.customers"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "debezium"


def sent_by_sync(platform: Platform, plan: DeletePlan, value: bytes) -> VendorRecord:
    adapter = FakeAdapter()
    builder = VendorRecordBuilder(platform, plan.properties)
    deliverer = BatchDeliverer(adapter, builder, plan, RetryPolicy(0.001, 0.01), lambda _s: False)
    engine = SyncEngine(
        EngineConfig(10, 0.0, 1, 100, plan.policy, platform),
        decode_change,
        builder,
        deliverer,
        FakeDeadLetters(),
        InvalidRatioBreaker(60.0, 20, 0.5),
        InlineExecutor(),
        MockedClock(),
        RecordingMetrics(),
    )
    engine.submit(KafkaPosition(TOPIC, 0, 0, {}), b'{"id": 1042}', value)
    engine.drain(threading.Event(), 1.0)
    [(_kind, [record])] = adapter.calls
    return record


def printed_by_map(platform: Platform, plan: DeletePlan, value: bytes) -> dict[str, object]:
    line = b'{"topic": "%s", "key": "{\\"id\\": 1042}", "value": %s}' % (TOPIC.encode(), value)
    result = map_line(line, platform, deletes=plan)
    ok = result["ok"]
    assert isinstance(ok, dict), result
    return ok


@pytest.mark.parametrize("platform", ["hubspot", "marketo"])
@pytest.mark.parametrize(
    "fixture,policy",
    [
        ("update_email_change", DeletePolicy.ARCHIVE),
        ("delete", DeletePolicy.ARCHIVE),
        ("delete", DeletePolicy.UNSUBSCRIBE),
    ],
)
def test_map_prints_the_record_sync_sends(
    platform: Platform, fixture: str, policy: DeletePolicy
) -> None:
    value = (FIXTURES / f"{fixture}.json").read_bytes().strip()
    plan = DeletePlan.resolve(platform, policy)
    sent = sent_by_sync(platform, plan, value)
    printed = printed_by_map(platform, plan, value)
    assert printed["key"] == sent.key
    assert printed["id_value"] == sent.id_value
    assert printed["previous_id_value"] == sent.previous_id_value
    assert printed["properties"] == dict(sent.properties)
    assert printed["trace_id"] == sent.trace_id
    if fixture == "delete":
        assert printed["action"] == policy.value
        assert plan.mechanism is not None and printed["mechanism"] == plan.mechanism.value


def test_each_upsert_is_built_once_and_coalesced_records_equal_the_merged_change() -> None:
    """The engine keeps the record it validated with: one build per upsert, none at send time;
    two upserts of one customer coalesce into the record of their merged change."""
    plan = DeletePlan.resolve("hubspot", DeletePolicy.ARCHIVE)
    real = VendorRecordBuilder("hubspot", plan.properties)
    built: list[str] = []

    def counting(change: CustomerChange) -> VendorRecord:
        built.append(change.source_id)
        return real(change)

    adapter = FakeAdapter()
    deliverer = BatchDeliverer(adapter, counting, plan, RetryPolicy(0.001, 0.01), lambda _s: False)
    engine = SyncEngine(
        EngineConfig(10, 60.0, 1, 100, plan.policy, "hubspot"),
        decode_change,
        counting,
        deliverer,
        FakeDeadLetters(),
        InvalidRatioBreaker(60.0, 20, 0.5),
        InlineExecutor(),
        MockedClock(),
        RecordingMetrics(),
    )
    values = [(FIXTURES / f"{n}.json").read_bytes() for n in ("create", "update_toast_unchanged")]
    changes = [decode_change(TOPIC, b'{"id": 1042}', v) for v in values]
    for offset, value in enumerate(values):
        engine.submit(KafkaPosition(TOPIC, 0, offset, {}), b'{"id": 1042}', value)
    engine.drain(threading.Event(), 1.0)
    assert built == ["1042", "1042"]  # one build per upsert, none when the batch went
    [(_kind, [record])] = adapter.calls
    first, second = changes
    assert isinstance(first, CustomerUpsert) and isinstance(second, CustomerUpsert)
    assert record == real(merge(first, second))
