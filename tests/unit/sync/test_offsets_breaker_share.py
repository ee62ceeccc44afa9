from __future__ import annotations

import pytest
from arroyo.types import Topic

from streams.contracts import KafkaPosition
from streams.sync.breaker import BreakerTripped, InvalidRatioBreaker
from streams.sync.coalesce import SourceRecord
from streams.sync.dlq import DeadLetter
from streams.sync.offsets import OffsetTracker
from streams.sync.share import partition_share
from streams.sync.subscription import MultiTopicConsumer, total_partitions

pytestmark = pytest.mark.unit

TP = ("cdc.public.customers", 2)


def test_commit_only_the_highest_offset_below_which_all_is_done() -> None:
    tracker = OffsetTracker()
    for offset in range(10, 15):
        tracker.track(TP, offset)
    tracker.done(TP, 12)
    tracker.done(TP, 11)
    assert tracker.take_committable() == {}
    tracker.done(TP, 10)
    assert tracker.take_committable() == {TP: 13}
    assert tracker.take_committable() == {}
    assert tracker.outstanding == 2
    tracker.done(TP, 14)
    tracker.done(TP, 13)
    assert tracker.take_committable() == {TP: 15}
    assert tracker.outstanding == 0


def test_partitions_are_independent() -> None:
    tracker = OffsetTracker()
    other = ("cdc.public.customers", 0)
    tracker.track(TP, 5)
    tracker.track(other, 7)
    tracker.done(other, 7)
    assert tracker.take_committable() == {other: 8}


def test_breaker_trips_when_most_of_the_window_is_invalid() -> None:
    breaker = InvalidRatioBreaker(window_s=10.0, min_records=10, ratio=0.5)
    for i in range(9):
        breaker.record(True, now=float(i) * 0.1)  # below min_records: no trip
    with pytest.raises(BreakerTripped, match="broken mapping"):
        breaker.record(True, now=1.0)


def test_breaker_forgets_old_records_and_ignores_a_few_poison_rows() -> None:
    breaker = InvalidRatioBreaker(window_s=10.0, min_records=10, ratio=0.5)
    for i in range(100):
        breaker.record(i % 10 == 0, now=0.0)
    for i in range(6):
        breaker.record(True, now=100.0 + i)  # old window expired; only 6 records now


def test_dead_letter_headers_carry_the_reason_and_origin() -> None:
    position = KafkaPosition("cdc.public.customers", 3, 42, {"source": b"pg", "trace_id": b"x"})
    record = SourceRecord(position, b"k", b"v", "trace-1", None, "public.customers")
    letter = DeadLetter(record, "InvalidRecord", "bad")
    headers = dict(letter.headers())
    assert headers == {
        "source": b"pg",
        "event_id": b"cdc.public.customers:3:42",
        "trace_id": b"trace-1",
        "error_class": b"InvalidRecord",
        "error_message": b"bad",
        "original_topic": b"cdc.public.customers",
        "original_partition": b"3",
        "original_offset": b"42",
        "source_table": b"public.customers",
    }


@pytest.mark.parametrize(
    ("assigned", "total", "share"), [(3, 6, 0.5), (6, 6, 1.0), (1, 3, 1 / 3), (0, 0, 1.0)]
)
def test_rate_share_is_proportional_to_assigned_partitions(
    assigned: int, total: int, share: float
) -> None:
    assert partition_share(assigned, total) == pytest.approx(share)


def test_the_share_counts_the_partitions_of_every_subscribed_topic() -> None:
    partitions = {"cdc.public.customers": 6, "cdc.public.subscriptions": 3, "cdc.gone": 0}
    total = total_partitions(partitions.__getitem__, list(partitions))
    assert total == 9
    # an instance owning the 6 customer partitions takes 2/3 of the budget, not all of it
    assert partition_share(6, total) == pytest.approx(2 / 3)


def test_the_consumer_subscribes_to_every_topic_whatever_arroyo_names() -> None:
    seen: list[object] = []

    class Inner:
        def subscribe(self, topics: object, on_assign: object = None) -> None:
            seen.append(topics)

        def tell(self) -> str:
            return "inner"

    consumer = MultiTopicConsumer(Inner(), ["cdc.a", "cdc.b"])
    consumer.subscribe([Topic("cdc.a")], on_assign=None)
    assert seen == [[Topic("cdc.a"), Topic("cdc.b")]]
    assert consumer.tell() == "inner"
