"""Associations in the delivery path: a ``BatchDeliverer`` that, after a batch went through,
feeds the association core (``associations``) and sends what is due.

- A contacts batch: every customer upsert confirmed with a ``company_id`` among the fields it
  sets wants that association (``None``: detach), unless the core remembers it applied; a
  confirmed customer delete forgets the customer (the contact's associations went with it).
- A companies batch (``VendorRecord.object_type`` ``companies``, or a change of one of the
  ``company_tables``: a delete's record is built only when it goes): each confirmed upsert
  confirms the company (its pending associations are due at once); a confirmed delete forgets
  it.
- Then due associations go as ``contact_company`` records (one object type per adapter call),
  in batches of the adapter's size; an answer ``COMPANY_NOT_FOUND`` keeps them pending.
- Bounded: while the core is ``full`` this worker keeps sending what is due and waiting (the
  engine's outstanding count grows meanwhile, so its partitions pause: backpressure); nothing
  is dropped. A stop during that wait raises ``DeliveryAbandoned`` (the batch is re-read).
- ``tick()`` sends what is due without a batch (the pending timer), for a dispatcher loop.

Known gap: a customer's offset commits once its contact is delivered, so a want still pending
when the process dies or its partitions are revoked is lost until that customer changes again
(an audit of associations would repair it). Closing it needs the engine to hold the record's
offset until ``AssociationResolver.settle`` reports its want applied (the multi-table engine can
wire that: ``Want.customer_key`` names the entry).

Associations refused for good (the contact vanished, the vendor refuses the link) are logged
with the customer's trace id and counted in ``cdcbridge_platform_refused_records_total``: they
are not re-deliverable records of their own (the customer's record was delivered).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence

from cdcbridge.errors import TransientError
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
from streams.sync.associations import AssociationResolver, Settled, Want
from streams.sync.coalesce import BatchKind, PendingChange
from streams.sync.deliver import (
    BatchDeliverer,
    DeliveryAbandoned,
    EntryResult,
    Refresher,
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
    ) -> None:
        super().__init__(adapter, to_vendor, deletes, retry, wait, metrics)
        self.__adapter = adapter
        self.__wait = wait
        self.__metrics = metrics or NoOpMetrics()
        self.__resolver = resolver
        self.__lock = threading.Lock()
        self.__full_wait_s = full_wait_s
        self.__company_tables = frozenset(company_tables)

    def deliver(
        self, batch: Sequence[PendingChange], refresh: Refresher | None = None
    ) -> list[EntryResult]:
        results = super().deliver(batch, refresh)
        with self.__lock:
            for result in results:
                if result.error_class is None:
                    self.__observe(result.entry)
        # A worker sends what its batch made due (one call per batch it delivered, so the
        # contacts keep flowing); the timer thread sends the rest.
        self.tick(calls=max(1, len(batch) // self.__adapter.limits.max_batch_size + 1))
        while self.__full():
            if self.__wait(self.__full_wait_s):
                raise DeliveryAbandoned("stopping while the pending associations are full")
            self.tick()
        return results

    def tick(self, calls: int | None = None) -> int:
        """Send the associations due now, in at most ``calls`` adapter calls (None: as many as
        were outstanding when it began: wants that fall due meanwhile wait for the next tick,
        so a tick always ends); returns how many were sent."""
        sent = 0
        size = self.__adapter.limits.max_batch_size
        if calls is None:
            with self.__lock:
                calls = self.__resolver.outstanding // size + 1
        for _ in range(calls):
            with self.__lock:
                due = self.__resolver.take_due(size)
            if not due:
                break
            sent += len(due)
            outcomes = self.__send(due)
            with self.__lock:
                refused = self.__resolver.settle(outcomes)
                pending = self.__resolver.pending
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

    def __observe(self, entry: PendingChange) -> None:
        vendor = entry.vendor
        if vendor is not None and vendor.object_type == COMPANIES:
            company: str | None = vendor.id_value
        elif entry.change.meta.source_table in self.__company_tables:
            company = entry.change.source_id  # companies are looked up by their source id
        else:
            company = None
        if company is not None:
            if entry.kind is BatchKind.DELETE:
                self.__resolver.company_removed(company)
            else:
                self.__resolver.company_confirmed(company)
            return
        change = entry.change
        if isinstance(change, CustomerDelete):
            self.__resolver.forget(change.source_id)
        elif isinstance(change, CustomerUpsert) and COMPANY_LINK in change.fields:
            link = change.fields[COMPANY_LINK]
            email = vendor.id_value if vendor is not None else str(change.fields.get("email", ""))
            self.__resolver.want(
                change.source_id,
                email,
                None if link is None else str(link),
                entry.trace_id,
            )

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
