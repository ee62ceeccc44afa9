"""``AssociatingDeliverer``: after a batch, customers' companies become associations; one whose
company is missing waits and goes when a companies batch confirms the company; at the bound the
worker holds its batch (backpressure) and a stop abandons it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import (
    COMPANIES,
    COMPANY_LINK,
    COMPANY_NOT_FOUND,
    CONTACT_COMPANY,
    CustomerUpsert,
    KafkaPosition,
    RecordOutcome,
    RecordResult,
    SyncMeta,
    VendorRecord,
)
from streams.platform.deletes import DeletePlan
from streams.sync.association_delivery import AssociatingDeliverer
from streams.sync.associations import AssociationResolver
from streams.sync.coalesce import PendingChange, SourceRecord
from streams.sync.deliver import DeliveryAbandoned, RetryPolicy
from streams.sync.settings import DeletePolicy
from tests.fakes.sync import FakeAdapter
from tests.unit.sync.sync_wiring import vendor_builder

pytestmark = pytest.mark.unit


class LinkingAdapter(FakeAdapter):
    """Contacts as ``FakeAdapter``; companies and contact → company links like a vendor."""

    def __init__(self) -> None:
        super().__init__()
        self.companies: set[str] = set()
        self.links: dict[str, str | None] = {}

    def upsert_batch(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        if records and records[0].object_type == COMPANIES:
            self.companies |= {r.id_value for r in records}
            return [RecordResult(r.key, RecordOutcome.OK) for r in records]
        if records and records[0].object_type == CONTACT_COMPANY:
            out = []
            for r in records:
                company = r.properties[COMPANY_LINK]
                if company is not None and company not in self.companies:
                    out.append(
                        RecordResult(r.key, RecordOutcome.RETRY, error_code=COMPANY_NOT_FOUND)
                    )
                else:
                    self.links[r.key] = None if company is None else str(company)
                    out.append(RecordResult(r.key, RecordOutcome.OK))
            return out
        return super().upsert_batch(records)


def customer(
    key: str, company: int | None, linked_before: bool = False, offset: int = 1
) -> PendingChange:
    meta = SyncMeta("public.customers", 1, f"trace-{key}")
    fields = {"email": f"{key}@x.io", "company_id": company}
    change = CustomerUpsert(key, fields, meta, linked_before=linked_before)
    return PendingChange(
        ("public.customers", key),
        change,
        [SourceRecord(KafkaPosition("t", 0, offset), None, None, "t")],
        0.0,
    )


def company(source_id: str) -> PendingChange:
    entry = customer(source_id, None)
    vendor = VendorRecord(source_id, source_id, {"name": "x"}, object_type=COMPANIES)
    return PendingChange(entry.key, entry.change, entry.records, 0.0, vendor)


def deliverer(
    adapter: LinkingAdapter, resolver: AssociationResolver, stop_after: int | None = None
) -> tuple[AssociatingDeliverer, RecordingMetrics, list[float]]:
    plan = DeletePlan.resolve("fake", DeletePolicy.ARCHIVE, {"unsubscribed": True})
    waits: list[float] = []

    def wait(delay: float) -> bool:
        waits.append(delay)
        return stop_after is not None and len(waits) >= stop_after

    metrics = RecordingMetrics()
    built = AssociatingDeliverer(
        adapter,
        vendor_builder(plan),
        plan,
        RetryPolicy(0.1, 1.0),
        wait,
        metrics,
        resolver=resolver,
    )
    return built, metrics, waits


def test_a_customer_before_its_company_is_associated_when_the_company_is_delivered() -> None:
    adapter, clock = LinkingAdapter(), MockedClock()
    sync, metrics, _ = deliverer(adapter, AssociationResolver(clock, retry_s=60.0))
    sync.deliver([customer("a", 7), customer("b", None, linked_before=True)])
    assert adapter.links == {"b": None}  # an unlink is sent
    assert metrics.gauges[("cdcbridge_sync_associations_pending", (("platform", "fake"),))] == 1
    sync.deliver([company("7")])  # confirms company 7: its pending association goes at once
    assert adapter.links == {"a": "7", "b": None}
    assert metrics.gauges[("cdcbridge_sync_associations_pending", (("platform", "fake"),))] == 0


def test_a_full_pending_set_holds_the_batch_and_a_stop_abandons_it() -> None:
    adapter, clock = LinkingAdapter(), MockedClock()
    resolver = AssociationResolver(clock, max_pending=1, retry_s=60.0)
    sync, _, waits = deliverer(adapter, resolver, stop_after=3)
    with pytest.raises(DeliveryAbandoned):
        sync.deliver([customer("a", 7)])
    assert len(waits) == 3 and resolver.outstanding == 1  # kept, never dropped
