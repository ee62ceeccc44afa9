"""ForwardCore and the forwarder pipeline under Kafka faults: retries keep the message held,
visibility is extended, a fatal or stuck producer is replaced, backpressure stops receiving."""

from __future__ import annotations

import json
import threading

import pytest

from cdcbridge.clock import SYSTEM_CLOCK, MockedClock
from cdcbridge.metrics import NoOpMetrics
from tests.fakes.memory_queue import InMemoryQueue
from webhook_bridge.avro_codec import EngagementCodec
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.engagement_mapping import EngagementMapping
from webhook_bridge.envelope import EnvelopePack, WebhookEnvelope
from webhook_bridge.forward_core import ForwardCore
from webhook_bridge.forwarder import Forwarder
from webhook_bridge.kafka_producer import DeliveryCallback, DeliveryError, OutRecord
from webhook_bridge.queue import QueueMessage

pytestmark = pytest.mark.unit

SANDBOX = EngagementMapping.load("sandbox")
CODEC = EngagementCodec()


def envelope(i: int) -> WebhookEnvelope:
    body = {"type": "email.opened", "timestamp": "2025-06-15T10:00:00Z",
            "data": {"email": f"u{i}@example.com", "contact_id": i}}  # fmt: skip
    return WebhookEnvelope("sandbox", f"msg_{i}", "trace", 1_750_000_000_000, json.dumps(body))


class ScriptedSink:
    """Reports each record on ``poll`` with the current ``outcome`` (None: success); 'hold'
    keeps reports back (a broker that does not answer)."""

    def __init__(self, outcome: DeliveryError | str | None = None) -> None:
        self.outcome = outcome
        self.fatal_error: str | None = None
        self.closed = False
        self.records: list[OutRecord] = []
        self.__callbacks: list[DeliveryCallback] = []
        self.__lock = threading.Lock()

    def produce(self, record: OutRecord, on_delivery: DeliveryCallback) -> None:
        with self.__lock:
            self.records.append(record)
            self.__callbacks.append(on_delivery)

    def poll(self, timeout_s: float) -> None:
        if self.outcome == "hold":
            return
        with self.__lock:
            callbacks, self.__callbacks = self.__callbacks, []
        for callback in callbacks:
            callback(None if self.outcome is None else DeliveryError(str(self.outcome),
                     getattr(self.outcome, "permanent", False)))  # fmt: skip

    def close(self) -> None:
        self.closed = True

    def flush(self, timeout_s: float) -> int:
        self.poll(timeout_s)
        return 0


def core_with(sinks: list[ScriptedSink], clock: MockedClock, visibility_s: float = 30.0,
              stuck_after_s: float = 60.0) -> ForwardCore:  # fmt: skip
    made = iter(sinks)
    return ForwardCore(lambda: next(made), {"sandbox": SANDBOX}, CODEC, clock, NoOpMetrics(),
                       DedupeWindow(clock, 600, 1000), topic="t",
                       visibility_timeout_s=visibility_s, stuck_after_s=stuck_after_s)  # fmt: skip


def test_broker_outage_keeps_messages_held_and_visible_to_no_one_then_drains() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock, visibility_timeout_s=30, max_receive_count=2)
    queue.put([envelope(i) for i in range(5)])
    sink = ScriptedSink(DeliveryError("Local: Message timed out"))
    core = core_with([sink], clock, stuck_after_s=1_000)
    core.accept(queue.receive(10, 0))
    for _ in range(40):  # 200 s of outage, far beyond visibility x redrive limit
        clock.advance(5)
        core.pump(0)
        assert core.take_release() == []
        assert queue.extend(core.due_for_extension(), 30) == []
    assert queue.receive(10, 0) == []  # still held by us: never redelivered, never redriven
    sink.outcome = None
    clock.advance(11)
    core.pump(0)
    core.pump(0)
    assert sorted(queue.delete(core.take_done())) == []
    assert queue.depth() == 0 and queue.dead_letters == []
    assert core.counts.forwarded == 5
    assert len({r.headers[1][1] for r in sink.records}) == 5


def test_fatal_producer_is_replaced_and_outstanding_records_produced_again() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock)
    queue.put([envelope(i) for i in range(3)])
    broken, fresh = ScriptedSink("hold"), ScriptedSink()
    core = core_with([broken, fresh], clock)
    core.accept(queue.receive(10, 0))
    broken.fatal_error = "Fatal: producer fenced"
    core.pump(0)
    core.pump(0)
    assert len(fresh.records) == 3
    assert core.counts.producers_replaced == 1
    assert broken.closed and not fresh.closed
    assert queue.delete(core.take_done()) == [] and queue.depth() == 0


def test_stuck_producer_is_replaced_after_failing_without_success() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock)
    queue.put([envelope(1)])
    stuck, fresh = ScriptedSink(DeliveryError("Local: Message timed out")), ScriptedSink()
    core = core_with([stuck, fresh], clock, stuck_after_s=60)
    core.accept(queue.receive(10, 0))
    for _ in range(5):
        clock.advance(10)
        core.pump(0)
    assert core.counts.producers_replaced == 0
    for _ in range(3):
        clock.advance(10)
        core.pump(0)
    assert core.counts.producers_replaced == 1
    core.pump(0)
    assert len(core.take_done()) == 1


def test_permanently_refused_record_is_released_for_redrive() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock)
    queue.put([envelope(1)])
    core = core_with([ScriptedSink(DeliveryError("Broker: Message size too large", True))], clock)
    core.accept(queue.receive(10, 0))
    core.pump(0)
    assert len(core.take_release()) == 1
    assert core.take_done() == [] and core.held == 0


def test_pipeline_stops_receiving_at_max_in_flight_and_drains_when_kafka_returns() -> None:
    queue = InMemoryQueue(SYSTEM_CLOCK, visibility_timeout_s=60)
    queue.put([envelope(i) for i in range(100)])
    sink = ScriptedSink("hold")
    forwarder = Forwarder(queue, lambda: sink, {"sandbox": SANDBOX}, CODEC, SYSTEM_CLOCK,
                          wait_s=0, visibility_timeout_s=60, receivers=2,
                          max_in_flight=30)  # fmt: skip
    stop = threading.Event()
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(forwarder.run(stop)))
    thread.start()
    try:
        deadline = SYSTEM_CLOCK.monotonic() + 10
        while len(sink.records) < 30 and SYSTEM_CLOCK.monotonic() < deadline:
            SYSTEM_CLOCK.sleep(0.01)  # polling interval of a deadline-bound wait
        assert len(sink.records) == 30
        taken = [m for _ in range(7) for m in queue.receive(10, 0)]  # the 70 never taken
        assert len(taken) == 70 and all(m.receive_count == 1 for m in taken)
        sink.outcome = None
        deadline = SYSTEM_CLOCK.monotonic() + 20
        while queue.depth() > 70 and SYSTEM_CLOCK.monotonic() < deadline:
            SYSTEM_CLOCK.sleep(0.01)  # polling interval of a deadline-bound wait
        assert queue.depth() == 70
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_a_pack_is_deleted_once_every_webhook_in_it_is_on_kafka() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock)
    queue.put([EnvelopePack(tuple(envelope(i) for i in range(5)))])
    sink = ScriptedSink("hold")
    core = core_with([sink], clock)
    (message,) = queue.receive(10, 0)
    core.accept([message])
    assert len(sink.records) == 5
    sink.outcome = "Local: Message timed out"
    core.pump(0)  # all five failed once: nothing is done
    sink.outcome = None
    clock.advance(11)
    core.pump(0)  # all five produced again and delivered
    core.pump(0)
    assert core.take_done() == [message.receipt_handle]
    assert core.take_release() == [] and core.counts.forwarded == 5
    assert sorted(r.headers[1][1] for r in sink.records[5:]) == sorted(
        r.headers[1][1] for r in sink.records[:5]
    )


def test_a_pack_with_an_unforwardable_webhook_delivers_the_rest_then_is_released() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock)
    bad = WebhookEnvelope("sandbox", "msg_bad", "trace", 1, json.dumps({"no": "identifiers"}))
    queue.put([EnvelopePack((envelope(1), bad, envelope(2)))])
    sink = ScriptedSink("hold")
    core = core_with([sink], clock)
    (message,) = queue.receive(10, 0)
    core.accept([message])
    assert len(sink.records) == 2
    assert core.take_release() == []  # not before the good webhooks are on Kafka
    sink.outcome = None
    core.pump(0)
    assert core.take_done() == []
    assert core.take_release() == [message.receipt_handle]  # redriven whole after 5 receives
    assert core.counts.forwarded == 2 and core.counts.invalid == 1


def test_a_redelivered_pack_produces_nothing_twice() -> None:
    clock = MockedClock()
    queue = InMemoryQueue(clock, visibility_timeout_s=30)
    queue.put([EnvelopePack((envelope(1), envelope(2)))])
    sink = ScriptedSink()
    core = core_with([sink], clock)
    first = queue.receive(10, 0)
    core.accept(first)
    core.pump(0)
    core.take_done()  # the delete was lost: the message comes back
    clock.advance(31)
    again = queue.receive(10, 0)
    assert [m.message_id for m in again] == [m.message_id for m in first]
    core.accept(again)
    assert len(sink.records) == 2 and core.counts.skipped_duplicates == 2
    assert core.take_done() == [again[0].receipt_handle]


def test_a_version_1_message_is_forwarded() -> None:
    clock = MockedClock()
    one = envelope(7)
    meta = {"v": 1, "source": one.source, "webhook_id": one.webhook_id,
            "trace_id": one.trace_id, "received_at_ms": one.received_at_ms}  # fmt: skip
    legacy = QueueMessage("m1", "r1", json.dumps(meta) + "\n" + one.body)
    sink = ScriptedSink()
    core = core_with([sink], clock)
    core.accept([legacy])
    core.pump(0)
    assert core.take_done() == ["r1"] and len(sink.records) == 1
