"""Normalisation mappings and the forwarder loop, on an in-memory queue and a fake sink."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import fastjsonschema
import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from tests.fakes.memory_queue import InMemoryQueue
from webhook_bridge.avro_codec import SCHEMA_PATH, EngagementCodec
from webhook_bridge.engagement_mapping import EngagementMapping, InvalidEngagement
from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.forwarder import Forwarder
from webhook_bridge.kafka_producer import DeliveryCallback, DeliveryError, OutRecord

pytestmark = pytest.mark.unit

SANDBOX = EngagementMapping.load("sandbox")
HUBSPOT = EngagementMapping.load("hubspot")
CODEC = EngagementCodec()
JSON_SCHEMA = json.loads((SCHEMA_PATH.parent / "engagement_event.schema.json").read_text())


def envelope(body: object, source: str = "sandbox", webhook_id: str = "msg_1") -> WebhookEnvelope:
    text = body if isinstance(body, str) else json.dumps(body)
    return WebhookEnvelope(source, webhook_id, "trace-1", 1_750_000_000_000, text)


SANDBOX_PAYLOAD = {
    "type": "email.clicked",
    "timestamp": "2025-06-15T10:00:00Z",
    "data": {"email": " Ada@Example.COM ", "contact_id": 42, "url": "https://x", "n": 2,
             "nested": {"skip": True}},
}  # fmt: skip


def test_sandbox_mapping() -> None:
    [event] = SANDBOX.apply(envelope(SANDBOX_PAYLOAD))
    assert event == {
        "event_id": "msg_1",
        "type": "email_clicked",
        "email": "ada@example.com",
        "platform_contact_id": "42",
        "source_id": None,
        "occurred_at": 1_749_981_600_000,
        "received_at": 1_750_000_000_000,
        "source_platform": "sandbox",
        "attributes": {"url": "https://x", "n": "2"},
        "trace_id": "trace-1",
    }
    decoded = CODEC.decode(CODEC.encode(event))
    assert decoded["email"] == "ada@example.com"
    assert int(decoded["occurred_at"].timestamp() * 1000) == 1_749_981_600_000


def test_hubspot_batch_becomes_one_event_per_item() -> None:
    body = [
        {"eventId": 11, "subscriptionType": "contact.creation", "objectId": 5,
         "occurredAt": 1564113600000, "attemptNumber": 0, "portalId": 62515},
        {"eventId": 12, "subscriptionType": "contact.merge", "objectId": 6,
         "occurredAt": 1564113600001},
    ]  # fmt: skip
    events = HUBSPOT.apply(envelope(body, "hubspot"))
    assert [(e["event_id"], e["type"], e["platform_contact_id"]) for e in events] == [
        ("11", "contact_created", "5"),
        ("12", "other", "6"),
    ]
    assert events[0]["attributes"] == {"subscriptionType": "contact.creation", "portalId": "62515"}


def test_mapped_events_satisfy_the_json_schema_twin() -> None:
    validate = fastjsonschema.compile(JSON_SCHEMA)
    [event] = SANDBOX.apply(envelope(SANDBOX_PAYLOAD))
    as_json = dict(event)
    for name in ("occurred_at", "received_at"):
        millis = event[name]
        assert isinstance(millis, int)
        as_json[name] = datetime.fromtimestamp(millis / 1000, UTC).isoformat()
    validate(as_json)


@pytest.mark.parametrize(
    ("mapping", "body", "match"),
    [
        (SANDBOX, "not json", "not JSON"),
        (SANDBOX, [1], "JSON object"),
        (SANDBOX, {"type": "email.opened", "timestamp": "2025-06-15T10:00:00Z"}, "identifier"),
        (SANDBOX, {"type": "x", "data": {"email": "a@b.c"}}, "occurred_at: missing"),
        (SANDBOX, {"timestamp": "yesterday", "data": {"email": "a@b.c"}}, "rfc3339"),
        (SANDBOX, {"timestamp": "2025-06-15T10:00:00", "data": {"email": "a@b.c"}}, "zone"),
        (HUBSPOT, {"eventId": 1}, "JSON array"),
        (HUBSPOT, [{"objectId": 1, "occurredAt": 1}], "event_id"),
    ],
)
def test_invalid_payloads(mapping: EngagementMapping, body: object, match: str) -> None:
    with pytest.raises(InvalidEngagement, match=match):
        mapping.apply(envelope(body))


class FakeSink:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[OutRecord] = []
        self.fail = fail
        self.fatal_error: str | None = None
        self.closed = False
        self.__callbacks: list[DeliveryCallback] = []

    def produce(self, record: OutRecord, on_delivery: DeliveryCallback) -> None:
        self.records.append(record)
        self.__callbacks.append(on_delivery)

    def poll(self, timeout_s: float) -> None:
        self.flush(timeout_s)

    def close(self) -> None:
        self.closed = True

    def flush(self, timeout_s: float) -> int:
        callbacks, self.__callbacks = self.__callbacks, []
        for callback in callbacks:
            callback(DeliveryError("broker down") if self.fail else None)
        return 0


def forwarder(
    queue: InMemoryQueue, sink: FakeSink, metrics: RecordingMetrics, receivers: int = 3
) -> Forwarder:
    mappings = {"sandbox": SANDBOX, "hubspot": HUBSPOT}
    return Forwarder(queue, lambda: sink, mappings, CODEC, MockedClock(), metrics=metrics,
                     wait_s=0, receivers=receivers)  # fmt: skip


def test_forward_deletes_after_delivery_with_headers_and_key() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock)
    queue.put([envelope(SANDBOX_PAYLOAD)])
    sink, metrics = FakeSink(), RecordingMetrics()
    stats = forwarder(queue, sink, metrics).run_once()
    assert stats.forwarded == 1
    assert queue.depth() == 0
    [record] = sink.records
    assert record.key == b"ada@example.com"
    assert dict(record.headers) == {
        "trace_id": b"trace-1",
        "event_id": b"msg_1",
        "source": b"sandbox",
        "schema_fingerprint": CODEC.fingerprint.encode(),
    }
    assert CODEC.decode(record.value)["type"] == "email_clicked"
    assert metrics.total("cdcbridge_forward_events_total") == 1


def test_failed_delivery_keeps_the_message() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock, visibility_timeout_s=30)
    queue.put([envelope(SANDBOX_PAYLOAD)])
    stats = forwarder(queue, FakeSink(fail=True), RecordingMetrics()).run_once()
    assert (stats.undelivered, stats.deleted) == (1, [])
    clock.advance(31)
    assert len(queue.receive(10, 0)) == 1


def test_redelivered_event_is_not_produced_twice() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock)
    sink = FakeSink()
    fwd = forwarder(queue, sink, RecordingMetrics())
    queue.put([envelope(SANDBOX_PAYLOAD)])
    fwd.run_once()
    queue.put([envelope(SANDBOX_PAYLOAD)])  # SQS redelivery / sender retry
    stats = fwd.run_once()
    assert stats.skipped_duplicates == 1
    assert len(sink.records) == 1
    assert queue.depth() == 0


def test_invalid_messages_are_redriven_to_the_dlq_not_dropped() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock, max_receive_count=3)
    queue.put([envelope({"no": "identifiers"}), envelope(SANDBOX_PAYLOAD, "unknown")])
    metrics = RecordingMetrics()
    fwd = forwarder(queue, FakeSink(), metrics)
    for _ in range(4):
        fwd.run_once()
    assert queue.depth() == 0
    assert len(queue.dead_letters) == 2
    assert metrics.total("cdcbridge_forward_invalid_total") == 6


class ScriptedStop(threading.Event):
    """Stops once a record was produced; each back-off wait is recorded, the queue comes back
    on the third."""

    def __init__(self, queue: InMemoryQueue, sink: FakeSink) -> None:
        super().__init__()
        self.queue, self.sink = queue, sink
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        self.queue.available = len(self.waits) >= 3
        return False

    def is_set(self) -> bool:
        return bool(self.sink.records)


def test_run_backs_off_while_the_queue_is_down_and_resumes() -> None:
    queue = InMemoryQueue(MockedClock())
    queue.put([envelope(SANDBOX_PAYLOAD)])
    queue.available = False
    sink = FakeSink()
    stop = ScriptedStop(queue, sink)
    # one receive loop: its back-off sequence alone (several loops would interleave theirs)
    forwarder(queue, sink, RecordingMetrics(), receivers=1).run(stop)
    assert stop.waits == [0.5, 1.0, 2.0]
    assert len(sink.records) == 1
    assert queue.depth() == 0


class BatchRecordingQueue(InMemoryQueue):
    def __init__(self, clock: MockedClock) -> None:
        super().__init__(clock)
        self.delete_calls: list[int] = []

    def delete(self, receipt_handles: Sequence[str]) -> list[str]:
        self.delete_calls.append(len(receipt_handles))
        return super().delete(receipt_handles)


class StopWhenProduced(threading.Event):
    def __init__(self, sink: FakeSink, count: int) -> None:
        super().__init__()
        self.sink, self.count = sink, count

    def is_set(self) -> bool:
        return len(self.sink.records) >= self.count


def test_deletes_go_in_full_batches_and_the_rest_once_at_the_end() -> None:
    """Delete batches are formed on the main thread: full ones as deliveries come in, and,
    since this clock stands still (DELETE_LINGER_S never passes), the partial rest only with
    the final hand-over; every message is deleted once. (The split this replaced, deleters
    taking single handles, shows under a real trickle of reports: bench_inbound_rates.)"""
    queue = BatchRecordingQueue(MockedClock())
    queue.put([envelope(SANDBOX_PAYLOAD, webhook_id=f"msg_{i}") for i in range(95)])
    sink = FakeSink()
    forwarder(queue, sink, RecordingMetrics(), receivers=8).run(StopWhenProduced(sink, 95))
    assert sorted(queue.delete_calls) == [5] + [10] * 9
    assert queue.depth() == 0
