"""The sync engine: decode -> coalesce -> batch -> deliver -> mark done, thread-safe.

The poll loop calls ``submit`` (never blocks; raises ``Backpressure`` when too much is
outstanding) and ``take_committable``; a dispatcher thread (``run_dispatcher``) sends batches
to a worker pool; workers report back through ``__finish``. Offsets become committable only
when every record at or below them was confirmed by the platform, dead-lettered (write
confirmed) or needed no delivery. A confirmed record the deliverer *held* (a customer whose
association is outstanding: ``EntryResult.held``) is done only when the deliverer releases it
(its association applied or refused), or dead-lettered (``AssociationNotApplied``) when its
hold expires; until then its offset does not commit, so a crash re-reads it. It counts as
delivered (and its end-to-end latency is measured) when the platform confirmed it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future

from cdcbridge.clock import Clock
from cdcbridge.errors import FatalError, TransientError
from cdcbridge.logs import trace_context
from cdcbridge.metrics import Metrics
from streams.contracts import (
    CustomerDelete,
    CustomerUpsert,
    Decode,
    InvalidRecord,
    KafkaPosition,
    Skip,
)
from streams.sync.association_holds import HoldRelease
from streams.sync.breaker import BreakerTripped, InvalidRatioBreaker
from streams.sync.coalesce import Coalescer, PendingChange, SourceRecord
from streams.sync.deliver import BatchDeliverer, DeliveryAbandoned, EntryResult, VendorMapper
from streams.sync.dlq import DeadLetter, DeadLetterSink, DeadLetterWriteFailed
from streams.sync.engine_config import EngineConfig, StopReport
from streams.sync.offsets import OffsetTracker, TopicPartition
from streams.sync.settings import DeletePolicy
from streams.sync.trace import fallback_trace_id, header_trace_id

log = logging.getLogger(__name__)

Decoder = Decode
"""``decode_change(topic, key, value, trace_id)``: ``trace_id`` is the record's ``trace_id``
header (``None`` when it has none); the change carries it, else one derived from the source
(once, by the decoder). The change's trace id is the one every later step uses."""


class Backpressure(TransientError):
    """Too many records outstanding: hold this one and pause consumption; retry later."""


class SyncEngine:
    def __init__(
        self,
        config: EngineConfig,
        decode: Decoder,
        to_vendor: VendorMapper,
        deliverer: BatchDeliverer,
        dead_letters: DeadLetterSink,
        breaker: InvalidRatioBreaker,
        executor: Executor,
        clock: Clock,
        metrics: Metrics,
        *,
        ready_in: Callable[[], float] = lambda: 0.0,
    ) -> None:
        """``ready_in``: seconds until the platform's rate limiter has a token (0.0: now). A
        partial batch is formed only when it is 0, so under the limit records keep joining the
        next batch instead of queueing behind one that waits for a token."""
        self.__config = config
        self.__ready_in = ready_in
        self.__decode = decode
        self.__to_vendor = to_vendor
        self.__deliverer = deliverer
        self.__dead_letters = dead_letters
        self.__breaker = breaker
        self.__executor = executor
        self.__clock = clock
        self.__metrics = metrics
        self.__lock = threading.RLock()
        self.__wake = threading.Condition(self.__lock)
        self.__coalescer = Coalescer()
        self.__offsets = OffsetTracker()
        self.__batches_in_flight = 0
        self.__records_in_flight = 0
        self.__abandoned = 0
        self.__draining = False
        self.__closed = False
        self.__backpressured = False
        self.__failure: BaseException | None = None
        deliverer.bind_releases(self.__release)

    # -- poll-loop side ---------------------------------------------------------------------
    def submit(self, position: KafkaPosition, key: bytes | None, value: bytes | None) -> None:
        """Take one consumed record. Raises ``Backpressure`` (retry later) or a stored failure."""
        self.check()
        with self.__lock:
            if self.__offsets.outstanding >= self.__config.max_outstanding:
                if not self.__backpressured:
                    self.__backpressured = True
                    self.__metrics.gauge("cdcbridge_sync_backpressure_paused", 1)
                raise Backpressure(f"{self.__offsets.outstanding} records outstanding")
            if self.__backpressured:
                self.__backpressured = False
                self.__metrics.gauge("cdcbridge_sync_backpressure_paused", 0)
            self.__metrics.increment(
                "cdcbridge_sync_records_consumed_total", tags={"topic": position.topic}
            )
            tp = (position.topic, position.partition)
            self.__offsets.track(tp, position.offset)
            trace_id = header_trace_id(position.headers)
            try:
                change = self.__decode(position.topic, key, value, trace_id)
                # An upsert's vendor record is built here, once, and kept with the change: an
                # upsert that can never map is dead-lettered alone, before it is coalesced.
                vendor = self.__to_vendor(change) if isinstance(change, CustomerUpsert) else None
            except InvalidRecord as exc:
                trace_id = trace_id or fallback_trace_id(tp[0], tp[1], position.offset, key)
                table = self.__config.topic_tables.get(position.topic, "")
                record = SourceRecord(position, key, value, trace_id, None, table)
                self.__dead_letter(DeadLetter(record, "InvalidRecord", str(exc)))
                return
            if isinstance(change, Skip):
                self.__done([SourceRecord(position, key, value, trace_id or "-")], False)
                return
            meta = change.meta  # its trace id: the header's, else derived by the decoder
            table = meta.source_table
            record = SourceRecord(position, key, value, meta.trace_id, meta.ts_ms, table)
            ignored = self.__config.delete_policy is DeletePolicy.IGNORE
            if isinstance(change, CustomerDelete) and ignored:
                self.__done([record], False)
                return
            self.__coalescer.add(change, record, self.__clock.monotonic(), vendor)
            self.__wake.notify()

    def take_committable(self) -> dict[TopicPartition, int]:
        """Offsets safe to commit now (none once the engine failed)."""
        with self.__lock:
            if self.__failure is not None:
                return {}
            return self.__offsets.take_committable()

    def check(self) -> None:
        """Re-raise a failure from a worker: fatal platform error, breaker, DLQ write failure."""
        if self.__failure is not None:
            raise self.__failure

    @property
    def idle(self) -> bool:
        with self.__lock:
            return self.__offsets.outstanding == 0

    # -- dispatcher side --------------------------------------------------------------------
    def dispatch(self) -> int:
        """Send every batch that is due while worker slots are free; returns batches sent."""
        sent = 0
        with self.__lock:
            while (
                self.__batches_in_flight < self.__config.concurrency
                and self.__failure is None
                and not self.__closed
            ):
                batch = self.__coalescer.take_batch(
                    self.__config.max_batch_size,
                    self.__clock.monotonic(),
                    self.__config.linger_s,
                    force=self.__draining,
                    allow_partial=self.__partial_allowed(),
                )
                if batch is None:
                    break
                self.__batches_in_flight += 1
                self.__records_in_flight += _source_records(batch)
                sent += 1
                future = self.__executor.submit(self.__deliverer.deliver, batch, self.__absorb)
                future.add_done_callback(self.__on_done(batch))
        return sent

    def __partial_allowed(self) -> bool:
        if self.__batches_in_flight >= self.__config.partial_batches_in_flight:
            return False
        return self.__limiter_wait() <= 0.0

    def __limiter_wait(self) -> float:
        try:
            return self.__ready_in()
        except FatalError:  # halted: the call that tries will raise it where it is handled
            return 0.0

    def run_dispatcher(self, stop: threading.Event) -> None:
        """Dispatcher thread body: dispatch when batches are due, until ``stop`` is set."""
        with self.__wake:
            while not stop.is_set():
                self.dispatch()
                timeout = 0.2
                if self.__batches_in_flight < self.__config.partial_batches_in_flight:
                    due = self.__coalescer.next_due(self.__config.linger_s)
                    if due is not None:
                        due = max(due, self.__clock.monotonic() + self.__limiter_wait())
                        timeout = min(timeout, max(due - self.__clock.monotonic(), 0.001))
                self.__wake.wait(timeout)

    def drain(self, stop: threading.Event, timeout_s: float) -> bool:
        """Send everything waiting, ignoring linger; True when all is done before the deadline."""
        deadline = self.__clock.monotonic() + timeout_s
        with self.__wake:
            self.__draining = True
            self.__wake.notify_all()
            while self.__offsets.outstanding and self.__failure is None:
                remaining = deadline - self.__clock.monotonic()
                if remaining <= 0 or stop.is_set():
                    return False
                self.__dead_letters.flush(0)
                self.dispatch()
                self.__wake.wait(min(remaining, 0.05))
            return self.__offsets.outstanding == 0

    def report_stop(self) -> StopReport:
        """After ``quiesce``: log and count what the stop leaves undone (a warning naming how
        many records will be re-read, when any)."""
        with self.__lock:
            # Batches still in flight past the deadline are abandoned too.
            report = StopReport(
                self.__offsets.outstanding, self.__abandoned + self.__records_in_flight
            )
        if report.re_read:
            log.warning(
                "stopping with %d records not committed: they will be re-read "
                "(%d of them abandoned mid-delivery)",
                report.re_read,
                report.abandoned,
                extra={"re_read": report.re_read, "abandoned": report.abandoned},
            )
            self.__metrics.increment(
                "cdcbridge_sync_records_abandoned_total",
                report.abandoned,
                tags={"platform": self.__config.platform},
            )
        return report

    def quiesce(self, timeout_s: float) -> bool:
        """Stop sending new batches and wait for the ones in flight (rebalance, shutdown).

        Records not yet sent stay undone: they are dropped with the assignment and re-read by
        the partition's next owner. True when no batch was left in flight at the deadline.
        """
        deadline = self.__clock.monotonic() + timeout_s
        with self.__wake:
            self.__closed = True
            while self.__batches_in_flight and self.__failure is None:
                remaining = deadline - self.__clock.monotonic()
                if remaining <= 0:
                    return False
                self.__wake.wait(min(remaining, 0.05))
            return self.__batches_in_flight == 0

    # -- worker side ------------------------------------------------------------------------
    def __absorb(self, entry: PendingChange) -> int:
        """Before a retry: the newer changes of ``entry``'s key join its in-flight batch."""
        with self.__lock:
            if self.__closed:
                return 0
            absorbed = self.__coalescer.absorb(entry)
            self.__records_in_flight += absorbed
            return absorbed

    def __on_done(
        self, batch: Sequence[PendingChange]
    ) -> Callable[[Future[list[EntryResult]]], None]:
        return lambda future: self.__finish(batch, future)

    def __finish(self, batch: Sequence[PendingChange], future: Future[list[EntryResult]]) -> None:
        with self.__lock:
            self.__batches_in_flight -= 1
            self.__records_in_flight -= _source_records(batch)
            self.__wake.notify_all()
            keys = [entry.key for entry in batch]
            error = None if future.cancelled() else future.exception()
            if future.cancelled() or isinstance(error, DeliveryAbandoned):
                self.__abandoned += _source_records(batch)
                self.__coalescer.complete(keys)  # not done: re-read after restart/rebalance
                return
            if error is not None:
                self.__fail(error)
                return
            results = future.result()
            for result in results:
                if result.held:  # delivered (counted now); its offset waits for ``__release``
                    self.__done(result.entry.records, False, mark_offsets=False)
                    continue
                if result.error_class is None:
                    self.__done(result.entry.records, False)
                else:
                    for record in result.entry.records:
                        self.__dead_letter(
                            DeadLetter(record, result.error_class, result.error_message)
                        )
            self.__coalescer.complete(keys)
            with trace_context(batch[0].trace_id):
                log.info(
                    "batch delivered",
                    extra={
                        "kind": batch[0].kind.value,
                        "api_records": len(batch),
                        "source_records": sum(len(entry.records) for entry in batch),
                        "invalid": sum(r.error_class is not None for r in results),
                        "trace_ids": [entry.trace_id for entry in batch[:5]],
                    },
                )

    def __release(self, releases: Sequence[HoldRelease]) -> None:
        """Held records come back: done, or dead-lettered (their hold expired)."""
        with self.__lock:
            for release in releases:
                if release.error_class is None:  # counted as delivered when confirmed
                    self.__done(release.records, False, count=False)
                    continue
                for record in release.records:
                    self.__dead_letter(
                        DeadLetter(record, release.error_class, release.error_message)
                    )
            self.__wake.notify_all()

    def __dead_letter(self, letter: DeadLetter) -> None:
        def settled(error: str | None) -> None:
            if error is not None:
                self.__fail(DeadLetterWriteFailed(f"DLQ write failed: {error}"))
            else:
                self.__done([letter.record], True, letter.error_class)

        position = letter.record.position
        with trace_context(letter.record.trace_id):
            log.warning(
                "dead-lettering record",
                extra={
                    "error_class": letter.error_class,
                    "error": letter.error_message,
                    # where the failed payload is: the source record, copied to the DLQ topic
                    # with these as headers (``cdcbridge dlq list --filter original_offset=…``)
                    "payload_ref": f"{position.topic}:{position.partition}:{position.offset}",
                    "original_topic": position.topic,
                    "original_partition": position.partition,
                    "original_offset": position.offset,
                },
            )
        self.__dead_letters.send(letter, settled)

    def __done(
        self,
        records: Sequence[SourceRecord],
        invalid: bool,
        error: str = "",
        *,
        mark_offsets: bool = True,
        count: bool = True,
    ) -> None:
        """Records finished: their offsets done (``mark_offsets``) and, when ``count``, their
        outcome counted (delivered with its end-to-end latency, or dead-lettered) and fed to the
        breaker. A held record is counted when confirmed and its offset marked when released."""
        with self.__lock:
            now = self.__clock.time()
            tags = {"platform": self.__config.platform}
            for record in records:
                position = record.position
                if mark_offsets:
                    self.__offsets.done((position.topic, position.partition), position.offset)
                if not count:
                    continue
                if invalid:
                    self.__metrics.increment(
                        "cdcbridge_sync_records_dead_lettered_total", tags={"error_class": error}
                    )
                elif record.ts_ms is not None:
                    self.__metrics.increment("cdcbridge_sync_records_delivered_total", tags=tags)
                    latency = max(now - record.ts_ms / 1000.0, 0.0)
                    self.__metrics.timing("cdcbridge_sync_end_to_end_seconds", latency, tags)
                try:
                    self.__breaker.record(invalid, self.__clock.monotonic())
                except BreakerTripped as exc:  # stored, re-raised on the poll loop
                    self.__fail(exc)

    def __fail(self, error: BaseException) -> None:
        with self.__lock:
            if self.__failure is None:
                # A fatal platform error was counted once where the vendor answered it.
                log.error(
                    "sync engine failed: %s", error, extra={"error_class": type(error).__name__}
                )
                self.__failure = error
            self.__wake.notify_all()


def _source_records(batch: Sequence[PendingChange]) -> int:
    return sum(len(entry.records) for entry in batch)
