from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import KafkaPosition, RecordResult, TransientPlatformError, VendorRecord
from streams.platform.deletes import DeletePlan
from streams.sync.breaker import BreakerTripped, InvalidRatioBreaker
from streams.sync.deliver import BatchDeliverer, RetryPolicy
from streams.sync.engine import Backpressure, SyncEngine
from streams.sync.engine_config import EngineConfig
from streams.sync.settings import DeletePolicy
from tests.fakes.sync import (
    FakeAdapter,
    FakeDeadLetters,
    InlineExecutor,
    change_bytes,
)
from tests.unit.sync.sync_wiring import DECODE, vendor_builder

pytestmark = pytest.mark.unit

TOPIC = "cdc.public.customers"


class Harness:
    def __init__(
        self,
        executor: Executor | None = None,
        adapter: FakeAdapter | None = None,
        policy: DeletePolicy = DeletePolicy.ARCHIVE,
        max_outstanding: int = 10_000,
        concurrency: int = 2,
        linger_s: float = 0.05,
        ready_in: list[float] | None = None,
    ) -> None:
        self.clock = MockedClock()
        self.ready_in = ready_in if ready_in is not None else [0.0]
        self.adapter = adapter or FakeAdapter(max_batch_size=10)
        self.dlq = FakeDeadLetters()
        self.metrics = RecordingMetrics()
        self.stop = threading.Event()
        plan = DeletePlan.resolve("fake", policy, {"unsubscribed": True})
        build = vendor_builder(plan)
        deliverer = BatchDeliverer(
            self.adapter, build, plan, RetryPolicy(0.001, 0.01), self.stop.wait
        )
        config = EngineConfig(10, linger_s, concurrency, max_outstanding, policy, "fake")
        self.engine = SyncEngine(
            config,
            DECODE,
            build,
            deliverer,
            self.dlq,
            InvalidRatioBreaker(60.0, 20, 0.5),
            executor or InlineExecutor(),
            self.clock,
            self.metrics,
            ready_in=lambda: self.ready_in[0],
        )
        self.offsets: dict[int, int] = {}

    def feed(
        self, value: bytes | None, partition: int = 0, headers: dict[str, bytes] | None = None
    ) -> None:
        offset = self.offsets.get(partition, 0)
        self.offsets[partition] = offset + 1
        position = KafkaPosition(TOPIC, partition, offset, headers or {})
        self.engine.submit(position, b"key", value)


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.stop.set()


def test_nothing_commits_before_the_platform_confirms(harness: Harness) -> None:
    harness.feed(change_bytes("1", 1, email="a@x"))
    harness.feed(change_bytes("2", 2, email="b@x"))
    harness.engine.dispatch()
    assert harness.adapter.calls == []  # still lingering
    assert harness.engine.take_committable() == {}
    harness.clock.advance(0.06)
    harness.engine.dispatch()
    assert len(harness.adapter.calls) == 1
    assert harness.engine.take_committable() == {(TOPIC, 0): 2}


def test_burst_of_updates_to_one_row_costs_one_api_record(harness: Harness) -> None:
    harness.feed(change_bytes("1", 0, email="a@x", notes="toasted"))
    for seq in range(1, 50):
        harness.feed(change_bytes("1", seq, email="a@x"))
    harness.clock.advance(1.0)
    harness.engine.dispatch()
    [(kind, records)] = harness.adapter.calls
    assert kind == "upsert"
    assert len(records) == 1
    assert harness.adapter.contacts["1"]["seq"] == 49
    assert harness.adapter.contacts["1"]["notes"] == "toasted"
    assert harness.engine.take_committable() == {(TOPIC, 0): 50}
    assert len(harness.metrics.timings["cdcbridge_sync_end_to_end_seconds"]) == 50


def test_poison_record_goes_to_the_dlq_and_the_rest_flows(harness: Harness) -> None:
    harness.feed(change_bytes("1", 1, email="a@x"))
    harness.feed(b'{"poison": "not-an-email"}', headers={"trace_id": b"from-header"})
    harness.feed(change_bytes("2", 3, email="b@x"))
    harness.clock.advance(1.0)
    harness.engine.dispatch()
    [letter] = harness.dlq.letters
    assert letter.record.position.offset == 1
    assert letter.record.trace_id == "from-header"
    assert letter.error_class == "InvalidRecord"
    assert set(harness.adapter.contacts) == {"1", "2"}
    assert harness.engine.take_committable() == {(TOPIC, 0): 3}


def test_offset_waits_for_the_dlq_write_confirmation() -> None:
    h = Harness()
    h.dlq.settle_immediately = False
    h.feed(b'{"poison": 1}')
    assert h.engine.take_committable() == {}
    h.dlq.flush(0)
    assert h.engine.take_committable() == {(TOPIC, 0): 1}


def test_vendor_rejected_records_are_dead_lettered_with_every_source_record() -> None:
    h = Harness()
    h.adapter.reject_keys = {"1"}
    h.feed(change_bytes("1", 1, email="a@x"))
    h.feed(change_bytes("1", 2, email="a@x"))
    h.clock.advance(1.0)
    h.engine.dispatch()
    assert [letter.record.position.offset for letter in h.dlq.letters] == [0, 1]
    assert {letter.error_class for letter in h.dlq.letters} == {"VendorRejected"}
    assert h.engine.take_committable() == {(TOPIC, 0): 2}


def test_trace_id_comes_from_the_header_else_from_the_source(harness: Harness) -> None:
    harness.feed(change_bytes("1", 1, email="a@x"), headers={"trace_id": b"abc"})
    harness.feed(change_bytes("2", 2, email="b@x"))
    harness.clock.advance(1.0)
    harness.engine.dispatch()
    assert [r.trace_id for r in harness.adapter.calls[0][1]] == ["abc", "t-2-2"]


def test_backpressure_when_too_much_is_outstanding() -> None:
    h = Harness(max_outstanding=3)
    for seq in range(3):
        h.feed(change_bytes(str(seq), seq, email="a@x"))
    with pytest.raises(Backpressure):
        h.feed(change_bytes("9", 9, email="a@x"))
    h.clock.advance(1.0)
    h.engine.dispatch()
    h.feed(change_bytes("9", 9, email="a@x"))  # accepted again once delivered


def test_breaker_stops_and_nothing_more_commits() -> None:
    h = Harness()
    with pytest.raises(BreakerTripped):
        for _ in range(25):
            h.feed(b'{"poison": 1}')
    assert len(h.dlq.letters) == 20
    with pytest.raises(BreakerTripped):
        h.engine.check()
    assert h.engine.take_committable() == {}


def test_ignored_deletes_commit_without_a_call() -> None:
    h = Harness(policy=DeletePolicy.IGNORE)
    h.feed(change_bytes("1", 1, op="d", email="a@x"))
    h.clock.advance(1.0)
    h.engine.dispatch()
    assert h.adapter.calls == []
    assert h.engine.take_committable() == {(TOPIC, 0): 1}


def test_tombstones_are_skipped_and_committed(harness: Harness) -> None:
    harness.feed(None)
    assert harness.engine.take_committable() == {(TOPIC, 0): 1}


def test_per_key_order_holds_with_concurrent_batches_and_random_latency() -> None:
    adapter = FakeAdapter(max_batch_size=10, latency_s=0.005)
    with ThreadPoolExecutor(4) as pool:
        h = Harness(executor=pool, adapter=adapter, concurrency=4, linger_s=0.0)
        dispatcher = threading.Thread(target=h.engine.run_dispatcher, args=(h.stop,))
        dispatcher.start()
        try:
            for seq in range(400):
                h.feed(change_bytes(str(seq % 10), seq, email="a@x"), partition=seq % 3)
            assert h.engine.drain(threading.Event(), timeout_s=1e9)
        finally:
            h.stop.set()
            dispatcher.join()
    for key, seqs in adapter.seen_seq.items():
        assert seqs == sorted(seqs), key
        assert seqs[-1] == max(s for s in range(400) if s % 10 == int(key))
    assert h.engine.idle


def test_partial_batches_accumulate_while_one_is_in_flight() -> None:
    gate = threading.Event()
    adapter = FakeAdapter(max_batch_size=10)
    answer = adapter.upsert_batch

    def slow(records: Sequence[VendorRecord]) -> list[RecordResult]:
        gate.wait(10)
        return answer(records)

    adapter.upsert_batch = slow  # type: ignore[method-assign]
    with ThreadPoolExecutor(4) as pool:
        h = Harness(executor=pool, adapter=adapter, concurrency=4, linger_s=0.0)
        h.feed(change_bytes("a", 1, email="a@x"))
        assert h.engine.dispatch() == 1  # partial batch: nothing else in flight
        for seq in range(2, 7):
            h.feed(change_bytes(str(seq), seq, email="b@x"))
        assert h.engine.dispatch() == 0  # waits for the one in flight, growing meanwhile
        gate.set()
        assert h.engine.drain(threading.Event(), timeout_s=10)
    assert sorted(len(records) for _, records in adapter.calls) == [1, 5]


def test_quiesce_finishes_in_flight_batches_and_leaves_the_rest_undone() -> None:
    h = Harness(linger_s=10.0)
    h.feed(change_bytes("1", 1, email="a@x"))
    assert h.engine.quiesce(timeout_s=1.0)
    h.clock.advance(60.0)
    assert h.engine.dispatch() == 0
    assert h.adapter.calls == []
    assert h.engine.take_committable() == {}


def test_a_stop_that_abandons_a_delivery_says_how_many_records_are_re_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue #18 item 3: SIGTERM during endless retries used to end 'cleanly'."""
    executor = ThreadPoolExecutor(2)
    h = Harness(executor=executor, linger_s=0.0)
    h.adapter.failures.extend(TransientPlatformError("HTTP 503") for _ in range(10_000))
    for seq in range(3):
        h.feed(change_bytes(str(seq), seq, email=f"{seq}@x"))
    h.engine.dispatch()
    deadline = time.monotonic() + 10
    while len(h.adapter.calls) < 3:  # retrying
        assert time.monotonic() < deadline
        time.sleep(0.01)
    h.stop.set()  # the service is stopping: the deliverer gives up
    assert h.engine.quiesce(timeout_s=5.0)
    executor.shutdown(wait=True)
    with caplog.at_level(logging.WARNING):
        report = h.engine.report_stop()
    assert (report.re_read, report.abandoned) == (3, 3)
    assert "3 records not committed" in caplog.text
    assert h.metrics.total("cdcbridge_sync_records_abandoned_total") == 3
    assert h.engine.take_committable() == {}


def test_a_partial_batch_waits_for_a_limiter_token_and_keeps_filling() -> None:
    harness = Harness(ready_in=[0.04])  # the limiter has no token for 40 ms
    harness.feed(change_bytes("1", 1, email="a@x"))
    harness.clock.advance(0.06)  # linger over, but a call could not start now
    harness.engine.dispatch()
    assert harness.adapter.calls == []
    harness.feed(change_bytes("2", 2, email="b@x"))  # joins the batch still forming
    harness.ready_in[0] = 0.0
    harness.engine.dispatch()
    [(_, records)] = harness.adapter.calls
    assert sorted(r.key for r in records) == ["1", "2"]
    harness.stop.set()


def test_a_full_batch_goes_without_waiting_for_the_limiter() -> None:
    harness = Harness(ready_in=[5.0])
    for n in range(10):
        harness.feed(change_bytes(str(n), n, email=f"{n}@x"))
    harness.engine.dispatch()
    assert len(harness.adapter.calls) == 1  # full: it waits in the limiter, not here
    harness.stop.set()


SUBSCRIPTIONS = "cdc.public.subscriptions"


def test_two_tables_share_one_engine_each_with_its_own_keys_batches_and_dead_letters() -> None:
    adapter = FakeAdapter(max_batch_size=10)
    plan = DeletePlan.resolve("fake", DeletePolicy.ARCHIVE, {"unsubscribed": True})
    build = vendor_builder(plan)
    stop = threading.Event()
    deliverer = BatchDeliverer(adapter, build, plan, RetryPolicy(0.001, 0.01), stop.wait)
    tables = {TOPIC: "public.customers", SUBSCRIPTIONS: "public.subscriptions"}
    config = EngineConfig(10, 0.0, 2, 100, DeletePolicy.ARCHIVE, "fake", topic_tables=tables)
    dlq = FakeDeadLetters()
    engine = SyncEngine(
        config, DECODE, build, deliverer, dlq, InvalidRatioBreaker(60.0, 20, 0.5),
        InlineExecutor(), MockedClock(), RecordingMetrics(),
    )  # fmt: skip
    for offset, topic in enumerate([TOPIC, SUBSCRIPTIONS, TOPIC, SUBSCRIPTIONS]):
        value = change_bytes("7", offset, email="a@x", plan=f"p{offset}")
        engine.submit(KafkaPosition(topic, 0, offset), b"7", value)
    engine.submit(KafkaPosition(SUBSCRIPTIONS, 1, 0), b"8", b'{"poison": "x"}')
    engine.dispatch()
    engine.dispatch()
    # one id in two tables: two keys, each coalesced on its own, one table per call
    assert [len(records) for _, records in adapter.calls] == [1, 1]
    assert sorted(str(r.properties["plan"]) for _, rs in adapter.calls for r in rs) == ["p2", "p3"]
    [letter] = dlq.letters
    assert dict(letter.headers())["source_table"] == b"public.subscriptions"
    committable = engine.take_committable()
    assert committable == {(TOPIC, 0): 3, (SUBSCRIPTIONS, 0): 4, (SUBSCRIPTIONS, 1): 1}
    stop.set()
