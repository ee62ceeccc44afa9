"""Associations in the delivery path: a ``BatchDeliverer`` that, after a batch went through,
feeds the association core (``associations``) and sends what is due.

- A contacts batch: every customer upsert confirmed with a ``company_id`` among the fields it
  sets wants that association (``None``: detach), unless the core remembers it applied or it
  has no company and was never linked (``CustomerUpsert.linked_before``: no call); a
  confirmed customer delete forgets the customer (the contact's associations went with it).
- A companies batch (``VendorRecord.object_type`` ``companies``, or a change of one of the
  ``company_tables``: a delete's record is built only when it goes): each confirmed upsert
  confirms the company (its pending associations are due at once); a confirmed delete forgets
  it.
- Then due associations go as ``contact_company`` records (one object type per adapter call),
  in batches of the adapter's size; an answer ``COMPANY_NOT_FOUND`` keeps them pending. A worker
  sends only full batches, plus one partial batch when the rate limiter has a token to spare
  (``ready_in``, the limiter's wait for two tokens, is 0); the rest goes on the timer's tick
  (once a second). While a company's upsert is in flight its associations wait for it (then no
  company read is needed).
- Bounded: while the core is ``full`` this worker keeps sending what is due and waiting (the
  engine's outstanding count grows meanwhile, so its partitions pause: backpressure); nothing
  is dropped. A stop during that wait raises ``DeliveryAbandoned`` (the batch is re-read).
- ``tick()`` sends what is due without a batch (the pending timer), for a dispatcher loop.

Holds: a customer whose contact was confirmed while its want is outstanding is returned
``held`` (``EntryResult.held``): its records stay uncommitted (``association_holds``) until the
want is applied or refused (or the customer deleted), then go back to the engine through the
``ReleaseSink``; a hold past the holds' cap (``CDCBRIDGE_SYNC_ASSOCIATIONS_HOLD_MAX_S``) is
released by ``expire()`` (the timer's) as ``AssociationNotApplied`` (the engine dead-letters
it). A crash or a revocation meanwhile re-reads the record: no association is lost.

Associations refused for good (the contact vanished, the vendor refuses the link) are logged
with the customer's trace id and counted in ``cdcbridge_platform_refused_records_total``: they
are not re-deliverable records of their own (the customer's record was delivered).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from cdcbridge.errors import FatalError, TransientError
from cdcbridge.logs import trace_context
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.contracts import (
    COMPANIES,
    COMPANY_LINK,
    COMPANY_NOT_FOUND,
    CONTACT_COMPANY,
    CustomerDelete,
    CustomerUpsert,
    PlatformAdapter,
    RecordOutcome,
    RecordResult,
    VendorRecord,
)
from streams.platform.deletes import DeletePlan
from streams.sync.association_holds import AssociationHolds, HoldRelease
from streams.sync.associations import AssociationResolver, Settled, Want
from streams.sync.coalesce import BatchKind, PendingChange
from streams.sync.deliver import (
    BatchDeliverer,
    DeliveryAbandoned,
    EntryResult,
    Refresher,
    ReleaseSink,
    RetryPolicy,
    VendorMapper,
    Waiter,
)

log = logging.getLogger(__name__)


class AssociatingDeliverer(BatchDeliverer):
    """``BatchDeliverer`` plus associations. Raises what ``BatchDeliverer.deliver`` raises."""

    def __init__(
        self,
        adapter: PlatformAdapter,
        to_vendor: VendorMapper,
        deletes: DeletePlan,
        retry: RetryPolicy,
        wait: Waiter,
        metrics: Metrics | None = None,
        *,
        resolver: AssociationResolver,
        full_wait_s: float = 0.5,
        company_tables: Collection[str] = (),
        holds: AssociationHolds | None = None,
        ready_in: Callable[[], float] = lambda: 0.0,
    ) -> None:
        """``holds``: where held records wait (default: capped at 600 s on the resolver's
        clock); ``ready_in``: seconds until the rate limiter has a token (a
        worker sends a partial batch only when it is 0)."""
        super().__init__(adapter, to_vendor, deletes, retry, wait, metrics)
        self.__adapter = adapter
        self.__wait = wait
        self.__metrics = metrics or NoOpMetrics()
        self.__resolver = resolver
        self.__holds = holds or AssociationHolds(resolver.clock, 600.0)
        self.__ready_in = ready_in
        self.__release: ReleaseSink = lambda _releases: None
        self.__lock = threading.Lock()
        self.__full_wait_s = full_wait_s
        self.__company_tables = frozenset(company_tables)

    def bind_releases(self, sink: ReleaseSink) -> None:
        self.__release = sink

    def deliver(
        self, batch: Sequence[PendingChange], refresh: Refresher | None = None
    ) -> list[EntryResult]:
        companies = [c for c in map(self.__company_of, batch) if c is not None]
        with self.__lock:
            self.__resolver.companies_sending(companies, True)
        try:
            results = super().deliver(batch, refresh)
        finally:
            with self.__lock:
                self.__resolver.companies_sending(companies, False)
        releases: list[HoldRelease] = []
        with self.__lock:
            out = [
                replace(r, held=True)
                if r.error_class is None and self.__observe(r.entry, releases)
                else r
                for r in results
            ]
        self.__released(releases)
        # A worker sends full batches only, and one partial batch when a token is spare now
        # (the contacts keep flowing); the timer's tick sends the rest.
        self.tick(full_only=True)
        if self.__limiter_ready():
            self.tick(calls=1)
        while self.__full():
            if self.__wait(self.__full_wait_s):
                raise DeliveryAbandoned("stopping while the pending associations are full")
            self.tick()
        return out

    def expire(self) -> int:
        """Release the holds past their cap (as ``AssociationNotApplied``); returns records."""
        with self.__lock:
            expired = self.__holds.expired()
        self.__released(expired)
        return sum(len(e.records) for e in expired)

    def tick(self, calls: int | None = None, full_only: bool = False) -> int:
        """Send the associations due now, in at most ``calls`` adapter calls (None: as many as
        were outstanding when it began: wants that fall due meanwhile wait for the next tick,
        so a tick always ends); ``full_only``: full batches only. Returns how many were
        sent."""
        sent = 0
        size = self.__adapter.limits.max_batch_size
        if calls is None:
            with self.__lock:
                calls = self.__resolver.outstanding // size + 1
        for _ in range(calls):
            with self.__lock:
                due = self.__resolver.take_due(size, full_only)
            if not due:
                break
            sent += len(due)
            outcomes = self.__send(due)
            with self.__lock:
                refused = self.__resolver.settle(outcomes)
                pending = self.__resolver.pending
                releases = [
                    release
                    for want, _ in outcomes
                    if not self.__resolver.outstanding_for(want.customer_key)
                    and (release := self.__holds.release(want.customer_key)) is not None
                ]
            self.__released(releases)
            log.info(
                "associations sent",
                extra={
                    "sent": len(outcomes),
                    "applied": sum(o is Settled.APPLIED for _, o in outcomes),
                    "company_missing": sum(o is Settled.COMPANY_MISSING for _, o in outcomes),
                    "pending": pending,
                },
            )
            self.__metrics.gauge(
                "cdcbridge_sync_associations_pending",
                pending,
                tags={"platform": self.__adapter.name},
            )
            for want in refused:
                with trace_context(want.trace_id):
                    log.error(
                        "association refused by the platform",
                        extra={"customer": want.customer_key, "company_id": want.company_id},
                    )
            # settled wants are due again only after their delay: the loop ends
        return sent

    def __full(self) -> bool:
        with self.__lock:
            return self.__resolver.full

    def __limiter_ready(self) -> bool:
        try:
            return self.__ready_in() <= 0.0
        except FatalError:  # halted: the next call meets it where it is handled
            return False

    def __released(self, releases: Sequence[HoldRelease]) -> None:
        """Hand released records to the engine (outside the lock) and update the gauge."""
        with self.__lock:
            held = self.__holds.held
        self.__metrics.gauge(
            "cdcbridge_sync_associations_held_records", held, tags={"platform": self.__adapter.name}
        )
        if releases:
            self.__release(releases)

    def __company_of(self, entry: PendingChange) -> str | None:
        """The company's source id when ``entry`` is a change of a company, else None."""
        vendor = entry.vendor
        if vendor is not None and vendor.object_type == COMPANIES:
            return vendor.id_value
        if entry.change.meta.source_table in self.__company_tables:
            return entry.change.source_id  # companies are looked up by their source id
        return None

    def __observe(self, entry: PendingChange, releases: list[HoldRelease]) -> bool:
        """Feed one confirmed entry to the core (lock held); True when its records are held."""
        company = self.__company_of(entry)
        if company is not None:
            if entry.kind is BatchKind.DELETE:
                self.__resolver.company_removed(company)
            else:
                self.__resolver.company_confirmed(company)
            return False
        change, vendor = entry.change, entry.vendor
        if isinstance(change, CustomerDelete):  # its contact and associations are gone
            self.__resolver.forget(change.source_id)
            release = self.__holds.release(change.source_id)
            if release is not None:
                releases.append(release)
        elif isinstance(change, CustomerUpsert) and COMPANY_LINK in change.fields:
            link = change.fields[COMPANY_LINK]
            email = vendor.id_value if vendor is not None else str(change.fields.get("email", ""))
            want = self.__resolver.want(
                change.source_id,
                email,
                None if link is None else str(link),
                entry.trace_id,
                change.linked_before,
            )
            if want is not None:
                self.__holds.hold(change.source_id, entry.records)
                return True
        return False

    def __send(self, due: list[Want]) -> list[tuple[Want, Settled]]:
        records = [
            VendorRecord(
                key=w.customer_key,
                id_value=w.contact_lookup,
                properties={COMPANY_LINK: w.company_id},
                trace_id=w.trace_id,
                object_type=CONTACT_COMPANY,
            )
            for w in due
        ]
        try:
            with trace_context(due[0].trace_id or "-"):
                results = self.__adapter.upsert_batch(records)
        except TransientError as exc:
            log.warning("association call failed transiently", extra={"error": str(exc)})
            return [(w, Settled.RETRY) for w in due]
        return [
            (w, _settled(r, self.__metrics, self.__adapter.name))
            for w, r in zip(due, results, strict=True)
        ]


def _settled(result: RecordResult, metrics: Metrics, platform: str) -> Settled:
    if result.outcome is RecordOutcome.OK:
        return Settled.APPLIED
    if result.error_code == COMPANY_NOT_FOUND:
        return Settled.COMPANY_MISSING
    if result.outcome is RecordOutcome.RETRY:
        return Settled.RETRY
    metrics.increment(
        "cdcbridge_platform_refused_records_total",
        tags={"platform": platform, "code": result.error_code or "refused"},
    )
    return Settled.REFUSED
