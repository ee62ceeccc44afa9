"""The engine and held records: a confirmed record the deliverer holds (``EntryResult.held``)
does not commit, nor does anything after it, until the deliverer releases it: done, or
dead-lettered when the hold expired. It counts as delivered when the platform confirmed it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import KafkaPosition
from streams.platform.deletes import DeletePlan
from streams.sync.association_holds import NOT_APPLIED, HoldRelease
from streams.sync.breaker import InvalidRatioBreaker
from streams.sync.coalesce import PendingChange
from streams.sync.deliver import BatchDeliverer, EntryResult, Refresher, ReleaseSink, RetryPolicy
from streams.sync.engine import SyncEngine
from streams.sync.engine_config import EngineConfig
from streams.sync.settings import DeletePolicy
from tests.fakes.sync import FakeAdapter, FakeDeadLetters, InlineExecutor, change_bytes
from tests.unit.sync.sync_wiring import DECODE, vendor_builder

pytestmark = pytest.mark.unit

TOPIC = "cdc.public.customers"


class HoldingDeliverer(BatchDeliverer):
    """Holds the records of the keys in ``hold_keys``; ``release`` hands them back."""

    hold_keys: set[str]
    sink: ReleaseSink
    held: list[PendingChange]

    def bind_releases(self, sink: ReleaseSink) -> None:
        self.sink, self.held = sink, []

    def deliver(
        self, batch: Sequence[PendingChange], refresh: Refresher | None = None
    ) -> list[EntryResult]:
        results = super().deliver(batch, refresh)
        out = []
        for result in results:
            if result.entry.key[1] in self.hold_keys:
                self.held.append(result.entry)
                result = dataclasses.replace(result, held=True)
            out.append(result)
        return out


E2E = "cdcbridge_sync_end_to_end_seconds"


def build() -> tuple[SyncEngine, HoldingDeliverer, FakeDeadLetters, RecordingMetrics]:
    plan = DeletePlan.resolve("fake", DeletePolicy.ARCHIVE, {"unsubscribed": True})
    builder = vendor_builder(plan)
    deliverer = HoldingDeliverer(
        FakeAdapter(), builder, plan, RetryPolicy(0.001, 0.01), lambda _s: False
    )
    deliverer.hold_keys = {"2"}
    dlq, metrics = FakeDeadLetters(), RecordingMetrics()
    config = EngineConfig(10, 0.0, 1, 100, DeletePolicy.ARCHIVE, "fake")
    engine = SyncEngine(
        config, DECODE, builder, deliverer, dlq, InvalidRatioBreaker(60.0, 20, 0.5),
        InlineExecutor(), MockedClock(), metrics,
    )  # fmt: skip
    for offset, key in enumerate("123"):
        engine.submit(KafkaPosition(TOPIC, 0, offset), b"k", change_bytes(key, 1, email="a@x"))
    engine.dispatch()
    return engine, deliverer, dlq, metrics


def test_a_held_record_commits_only_once_released() -> None:
    engine, deliverer, _, metrics = build()
    assert len(metrics.timings[E2E]) == 3  # delivered (and timed) when the platform confirmed
    assert engine.take_committable() == {(TOPIC, 0): 1}  # stops before the held offset 1
    assert not engine.idle
    (entry,) = deliverer.held
    deliverer.sink([HoldRelease(tuple(entry.records))])
    assert engine.take_committable() == {(TOPIC, 0): 3} and engine.idle
    assert len(metrics.timings[E2E]) == 3  # the release counts nothing again


def test_an_expired_hold_is_dead_lettered_and_then_commits() -> None:
    engine, deliverer, dlq, _ = build()
    (entry,) = deliverer.held
    deliverer.sink([HoldRelease(tuple(entry.records), NOT_APPLIED, "not applied in 600 s")])
    (letter,) = dlq.letters
    assert letter.error_class == NOT_APPLIED and letter.record.position.offset == 1
    assert engine.take_committable() == {(TOPIC, 0): 3}
