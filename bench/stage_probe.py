"""Where an outbound record's latency goes, stage by stage, measured inside the bench process.

``StageProbe.install()`` wraps three methods of the sync service running in this process (the
bench runs it in a thread) and, for every delivered record, splits commit -> acknowledgement
into:

- ``commit_to_kafka``: Debezium's ``source.ts_ms`` (the database commit) to the record's Kafka
  timestamp (the Connect producer's create time): Debezium's poll interval, its batch, the
  producer's linger.
- ``kafka_to_poll``: Kafka timestamp to ``SyncEngine.submit`` (wall clock): the broker append,
  the consumer's fetch wait, arroyo's poll loop.
- ``coalesce_linger``: submit to the start of ``BatchDeliverer.deliver`` for the record's batch:
  our linger, waiting for a free partial-batch slot, the worker pool queue.
- ``limiter_wait``: time spent in ``RateLimiter.acquire`` during that delivery (the vendor's
  request budget as our token bucket enforces it).
- ``api_round_trip``: the rest of the delivery: HTTP round trip(s) to the platform, retries.

Wall-clock times from one host, millisecond Kafka timestamps: a stage can read -1 ms. Bench
instrumentation only (monkeypatching); the service itself is unchanged by it.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams.contracts import KafkaPosition
from streams.platform.ratelimit import RateLimiter
from streams.sync.coalesce import PendingChange
from streams.sync.deliver import BatchDeliverer, EntryResult
from streams.sync.engine import SyncEngine

STAGES = ("commit_to_kafka", "kafka_to_poll", "coalesce_linger", "limiter_wait", "api_round_trip")
Key = tuple[str, int, int]


@dataclass
class _Seen:
    commit_ms: int | None
    kafka_ms: int | None
    submitted_s: float


@dataclass
class StageProbe:
    """Per-record stage durations (seconds) of every record delivered while installed."""

    stages: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    _seen: dict[Key, _Seen] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def install(self) -> StageProbe:
        submit, deliver, acquire = SyncEngine.submit, BatchDeliverer.deliver, RateLimiter.acquire
        probe = self

        def submit_probe(
            engine: SyncEngine, position: KafkaPosition, key: bytes | None, value: bytes | None
        ) -> None:
            probe._on_submit(position, value)
            submit(engine, position, key, value)

        def deliver_probe(
            deliverer: BatchDeliverer, batch: Sequence[PendingChange], refresh: Any = None
        ) -> list[EntryResult]:
            probe._local.waited = 0.0
            started = time.time()
            try:
                return deliver(deliverer, batch, refresh)
            finally:
                probe._on_delivered(batch, started, time.time(), probe._local.waited)

        def acquire_probe(limiter: RateLimiter) -> None:
            started = time.monotonic()
            try:
                acquire(limiter)
            finally:
                probe._local.waited = getattr(probe._local, "waited", 0.0) + (
                    time.monotonic() - started
                )

        SyncEngine.submit = submit_probe  # type: ignore[method-assign,assignment]
        BatchDeliverer.deliver = deliver_probe  # type: ignore[method-assign,assignment]
        RateLimiter.acquire = acquire_probe  # type: ignore[method-assign,assignment]

        def undo() -> None:
            SyncEngine.submit = submit  # type: ignore[method-assign]
            BatchDeliverer.deliver = deliver  # type: ignore[method-assign]
            RateLimiter.acquire = acquire  # type: ignore[method-assign]

        self._undo.append(undo)
        return self

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def reset(self) -> None:
        with self._lock:
            for values in self.stages.values():
                values.clear()

    def _on_submit(self, position: KafkaPosition, value: bytes | None) -> None:
        commit_ms = None
        if value:
            try:
                commit_ms = json.loads(value).get("source", {}).get("ts_ms")
            except ValueError:
                commit_ms = None
        key = (position.topic, position.partition, position.offset)
        with self._lock:
            self._seen[key] = _Seen(commit_ms, position.timestamp_ms, time.time())

    def _on_delivered(
        self, batch: Sequence[PendingChange], started: float, ended: float, waited: float
    ) -> None:
        with self._lock:
            for entry in batch:
                for record in entry.records:
                    p = record.position
                    seen = self._seen.pop((p.topic, p.partition, p.offset), None)
                    if seen is None or seen.commit_ms is None or seen.kafka_ms is None:
                        continue
                    self.stages["commit_to_kafka"].append((seen.kafka_ms - seen.commit_ms) / 1e3)
                    self.stages["kafka_to_poll"].append(seen.submitted_s - seen.kafka_ms / 1e3)
                    self.stages["coalesce_linger"].append(started - seen.submitted_s)
                    self.stages["limiter_wait"].append(waited)
                    self.stages["api_round_trip"].append(ended - started - waited)

    def summary(self) -> dict[str, dict[str, float]]:
        """p50/p95 (ms) of each stage over the records delivered since the last ``reset``."""
        with self._lock:
            return {name: _cuts(values) for name, values in self.stages.items() if values}


def _cuts(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50_ms": round(values[0] * 1e3, 1), "p95_ms": round(values[0] * 1e3, 1)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49] * 1e3, 1), "p95_ms": round(cuts[94] * 1e3, 1)}
