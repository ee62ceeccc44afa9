"""Deliver one planned batch to the platform adapter, retrying what may succeed later.

Runs on a worker thread, never on the poll loop: waiting out a backoff here is fine, and while
it lasts the engine's outstanding count grows until the consumer pauses its partitions.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cdcbridge.errors import TransientError
from cdcbridge.logs import trace_context
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.contracts import (
    CustomerChange,
    InvalidRecord,
    PlatformAdapter,
    RecordOutcome,
    RecordResult,
    VendorRecord,
)
from streams.platform.deletes import DeletePlan
from streams.sync.association_holds import HoldRelease
from streams.sync.coalesce import BatchKind, PendingChange
from streams.sync.stopping import StopRequested

log = logging.getLogger(__name__)

VendorMapper = Callable[[CustomerChange], VendorRecord]
"""Canonical change -> vendor record for the configured platform and delete policy (the one
builder: ``streams.mapping.vendor_record.VendorRecordBuilder``); the record carries the
change's trace id. Raises ``InvalidRecord``."""

Waiter = Callable[[float], bool]
"""Waits up to the given seconds; returns True when the service is stopping (give up)."""

Refresher = Callable[[PendingChange], int]
"""Before a retry: folds the entry's key's newer changes (which waited while the batch was in
flight) into the entry; returns how many source records it absorbed (``Coalescer.absorb``)."""

ReleaseSink = Callable[[Sequence[HoldRelease]], None]
"""Takes records a deliverer held (``EntryResult.held``) back: done, or to dead-letter. Called
from any thread, never with the deliverer's own lock held."""


@dataclass(frozen=True)
class EntryResult:
    """How one coalesced change ended: confirmed (``error_class`` None) or invalid. ``held``:
    confirmed, but its records are not done yet (their association is outstanding): they come
    back through the ``ReleaseSink`` given to ``bind_releases``, once."""

    entry: PendingChange
    error_class: str | None = None
    error_message: str = ""
    held: bool = False


class DeliveryAbandoned(TransientError):
    """The service is stopping while the batch still could not be delivered. Nothing commits."""


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter, never shorter than Retry-After. The jitter
    is drawn from ``rng`` (seed it in a test, and a failing run replays its delays)."""

    base_s: float = 0.2
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        jittered = self.rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))
        return max(jittered, min(retry_after or 0.0, self.cap_s))


class BatchDeliverer:
    """Maps a batch to vendor records and sends it; per-record results, retries included.

    ``deliver`` raises ``FatalPlatformError`` (from the adapter) and ``DeliveryAbandoned``.
    """

    def __init__(
        self,
        adapter: PlatformAdapter,
        to_vendor: VendorMapper,
        deletes: DeletePlan,
        retry: RetryPolicy,
        wait: Waiter,
        metrics: Metrics | None = None,
    ) -> None:
        self.__metrics = metrics or NoOpMetrics()
        self.__adapter = adapter
        self.__to_vendor = to_vendor
        self.__deletes = deletes
        self.__retry = retry
        self.__wait = wait

    def bind_releases(self, sink: ReleaseSink) -> None:
        """Where held records go when released (this deliverer holds none: ignored)."""
        del sink

    def vendor_record(self, entry: PendingChange) -> VendorRecord:
        """The record to send for this entry: the one kept since it came in, else built now
        (deletes, whose email coalescing may fill in). Its trace id is the change's, as is.
        Raises ``InvalidRecord``."""
        if entry.vendor is not None:
            return entry.vendor
        return self.__to_vendor(entry.change)

    def deliver(
        self, batch: Sequence[PendingChange], refresh: Refresher | None = None
    ) -> list[EntryResult]:
        """One result per entry. Log lines carry the first entry's trace id. ``refresh``
        (when given) runs on every entry still to send before each retry, so a retried call
        carries the newest state of its keys."""
        with trace_context(batch[0].trace_id):
            return self.__deliver(batch, refresh)

    def __deliver(
        self, batch: Sequence[PendingChange], refresh: Refresher | None
    ) -> list[EntryResult]:
        results: list[EntryResult] = []
        todo: dict[str, tuple[PendingChange, VendorRecord]] = {}  # by record key (one table)
        for entry in batch:
            try:
                record = self.vendor_record(entry)
                todo[record.key] = (entry, record)
            except InvalidRecord as exc:
                results.append(EntryResult(entry, "InvalidRecord", str(exc)))
        archive = batch[0].kind is BatchKind.DELETE  # sent by the delete plan
        attempt = 0
        while todo:
            records = [record for _, record in todo.values()]
            try:
                answers = self.__call(records, archive)
            except StopRequested as exc:  # no call starts once stopping: retrying is futile
                raise DeliveryAbandoned(f"stopping before the call: {exc}") from exc
            except TransientError as exc:  # TransientPlatformError
                self.__back_off(attempt, exc.retry_after, str(exc), "transient_error")
                attempt += 1
                self.__refresh(todo, refresh, results)
                continue
            for answer in answers:
                entry, _ = todo[answer.key]
                if answer.outcome is RecordOutcome.RETRY:
                    continue
                del todo[answer.key]
                if answer.outcome is RecordOutcome.OK:
                    results.append(EntryResult(entry))
                else:
                    message = f"{answer.error_code or ''} {answer.error_message or ''}".strip()
                    results.append(EntryResult(entry, "VendorRejected", message))
            if todo:
                self.__back_off(attempt, None, f"{len(todo)} records to retry", "records_retry")
                attempt += 1
                self.__refresh(todo, refresh, results)
        return results

    def __refresh(
        self,
        todo: dict[str, tuple[PendingChange, VendorRecord]],
        refresh: Refresher | None,
        results: list[EntryResult],
    ) -> None:
        if refresh is None:
            return
        for key, (entry, _) in list(todo.items()):
            if not refresh(entry):
                continue
            try:
                todo[key] = (entry, self.vendor_record(entry))
            except InvalidRecord as exc:
                del todo[key]
                results.append(EntryResult(entry, "InvalidRecord", str(exc)))

    def __call(self, records: list[VendorRecord], archive: bool) -> list[RecordResult]:
        # Per record the trace id travels in the record (``objectWriteTraceId`` where the
        # vendor has one); the request header carries the first record's.
        with trace_context(records[0].trace_id or "-"):
            if archive:
                return self.__deletes.send(self.__adapter, records)
            return self.__adapter.upsert_batch(records)

    def __back_off(self, attempt: int, retry_after: float | None, reason: str, kind: str) -> None:
        delay = self.__retry.delay(attempt, retry_after)
        self.__metrics.increment(
            "cdcbridge_platform_retries_total",
            tags={"platform": self.__adapter.name, "layer": "deliver", "reason": kind},
        )
        log.warning(
            "platform call failed transiently, retrying",
            extra={"attempt": attempt + 1, "delay_s": round(delay, 3), "reason": reason},
        )
        if self.__wait(delay):
            raise DeliveryAbandoned(f"stopping while retrying: {reason}")
