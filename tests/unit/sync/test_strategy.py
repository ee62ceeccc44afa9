"""The engine inside arroyo's real StreamProcessor, on arroyo's in-memory LocalBroker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest
from arroyo.backends.kafka import KafkaPayload
from arroyo.backends.local.backend import LocalBroker
from arroyo.backends.local.storages.memory import MemoryMessageStorage
from arroyo.commit import IMMEDIATE
from arroyo.processing import StreamProcessor
from arroyo.processing.strategies import MessageRejected
from arroyo.types import BrokerValue, Message, Partition, Topic

from cdcbridge.clock import SYSTEM_CLOCK
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import RecordResult, VendorRecord
from streams.sync.service import SyncParts, build_factory
from streams.sync.settings import SyncSettings
from streams.sync.strategy import SyncStrategyFactory
from tests.fakes.sync import (
    FakeAdapter,
    FakeDeadLetters,
    change_bytes,
    fake_to_vendor,
)
from tests.unit.sync.sync_wiring import DECODE

pytestmark = pytest.mark.unit

TOPIC = Topic("cdc.public.customers")
KEYS = 7


@pytest.fixture
def broker() -> LocalBroker[KafkaPayload]:
    broker: LocalBroker[KafkaPayload] = LocalBroker(MemoryMessageStorage())
    broker.create_topic(TOPIC, 2)
    return broker


def produce(broker: LocalBroker[KafkaPayload], count: int) -> dict[int, int]:
    """Like Kafka's key hashing, one customer always lands on the same partition."""
    per_partition = {0: 0, 1: 0}
    for seq in range(count):
        key = seq % KEYS
        value = change_bytes(str(key), seq, email=f"{key}@x")
        broker.produce(Partition(TOPIC, key % 2), KafkaPayload(str(key).encode(), value, []))
        per_partition[key % 2] += 1
    return per_partition


def factory(adapter: FakeAdapter, shares: list[float], **settings: float) -> SyncStrategyFactory:
    parts = SyncParts(adapter, DECODE, fake_to_vendor, shares.append)
    return build_factory(
        SyncSettings(**settings),  # type: ignore[arg-type]
        parts,
        FakeDeadLetters(),
        lambda: 4,
        SYSTEM_CLOCK,
        RecordingMetrics(),
    )


def run_until(processor: StreamProcessor[KafkaPayload], done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline, "condition not reached within 10 s"
        processor._run_once()


def gated_adapter() -> tuple[FakeAdapter, threading.Event, threading.Event]:
    """An adapter whose upserts wait (up to 10 s) for ``gate``; ``entered`` is set by the first."""
    gate, entered = threading.Event(), threading.Event()
    adapter = FakeAdapter()
    answer = adapter.upsert_batch

    def gated_upsert(records: Sequence[VendorRecord]) -> list[RecordResult]:
        entered.set()
        gate.wait(10)
        return answer(records)

    adapter.upsert_batch = gated_upsert  # type: ignore[method-assign]
    return adapter, gate, entered


def committed(broker: LocalBroker[KafkaPayload]) -> dict[int, int]:
    """The group's committed offsets, as a new member is assigned them."""
    assigned: dict[int, int] = {}
    consumer = broker.get_consumer("cdcbridge-sync")
    consumer.subscribe(
        [TOPIC], on_assign=lambda offsets: assigned.update({p.index: o for p, o in offsets.items()})
    )
    consumer.poll(0)
    consumer.close()
    return assigned


def test_offsets_are_committed_after_delivery(broker: LocalBroker[KafkaPayload]) -> None:
    ends = produce(broker, 40)
    adapter = FakeAdapter(max_batch_size=5)
    shares: list[float] = []
    processor = StreamProcessor(
        broker.get_consumer("cdcbridge-sync"),
        TOPIC,
        factory(adapter, shares, linger_s=0.0),
        IMMEDIATE,
    )
    run_until(processor, lambda: len(adapter.seen_seq) == KEYS)
    processor.signal_shutdown()
    processor.run()  # drains, commits, closes
    assert committed(broker) == ends
    assert shares == [0.5]  # 2 of the topic's 4 partitions
    for key, seqs in adapter.seen_seq.items():
        assert seqs == sorted(seqs)
        assert seqs[-1] == max(s for s in range(40) if s % KEYS == int(key))


def test_nothing_is_committed_while_the_platform_has_not_answered(
    broker: LocalBroker[KafkaPayload],
) -> None:
    produce(broker, 4)
    adapter, gate, entered = gated_adapter()
    processor = StreamProcessor(
        broker.get_consumer("cdcbridge-sync"),
        TOPIC,
        factory(adapter, [], linger_s=0.0, drain_timeout_s=0.2),
        IMMEDIATE,
    )
    run_until(processor, entered.is_set)
    processor.signal_shutdown()
    processor.run()  # the drain deadline passes: nothing done, so nothing committed
    gate.set()
    assert committed(broker) == {0: 0, 1: 0}


def test_submit_raises_message_rejected_under_backpressure() -> None:
    strategy = factory(FakeAdapter(), [], max_outstanding=1, linger_s=10.0).create_with_partitions(
        lambda offsets, force=False: None, {}
    )
    partition = Partition(TOPIC, 0)

    def message(offset: int) -> Message[KafkaPayload]:
        payload = KafkaPayload(b"k", change_bytes("1", offset, email="a@x"), [])
        return Message(BrokerValue(payload, partition, offset, None))  # type: ignore[arg-type]

    strategy.submit(message(0))
    with pytest.raises(MessageRejected):
        strategy.submit(message(1))
    strategy.terminate()


def test_an_abandoned_strategy_commits_nothing_even_what_was_delivered(
    broker: LocalBroker[KafkaPayload],
) -> None:
    produce(broker, 4)
    adapter, gate, entered = gated_adapter()
    strategies = factory(adapter, [], linger_s=0.0)
    processor = StreamProcessor(broker.get_consumer("cdcbridge-sync"), TOPIC, strategies, IMMEDIATE)
    run_until(processor, entered.is_set)
    gate.set()
    deadline = time.monotonic() + 10
    while not adapter.seen_seq:  # the batch in flight is answered: a join would commit it
        assert time.monotonic() < deadline, "the platform never answered"
        gate.wait(0.01)
    strategies.abandon()  # the watchdog's: the consumer is being replaced
    processor.signal_shutdown()
    processor.run()
    assert committed(broker) == {0: 0, 1: 0}
