"""Holds and batching in ``AssociatingDeliverer``: a customer's records are held until its
association is applied (or refused, or the customer deleted), expire as
``AssociationNotApplied`` at the cap; a customer never linked costs no call; a worker sends only
full batches unless a token is spare; a want waits for its company's upsert in flight, and for
an unknown company ``unknown_company_wait_s`` before it is sent."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import (
    CONTACT_COMPANY,
    CustomerDelete,
    PublishedLimits,
    SyncMeta,
    VendorRecord,
)
from streams.platform.deletes import DeletePlan
from streams.sync.association_delivery import AssociatingDeliverer
from streams.sync.association_holds import NOT_APPLIED, AssociationHolds, HoldRelease
from streams.sync.associations import AssociationResolver
from streams.sync.coalesce import PendingChange
from streams.sync.deliver import RetryPolicy
from streams.sync.settings import DeletePolicy
from tests.unit.sync.sync_wiring import vendor_builder
from tests.unit.sync.test_association_delivery import LinkingAdapter, company, customer

pytestmark = pytest.mark.unit

HELD = ("cdcbridge_sync_associations_held_records", (("platform", "fake"),))


class Harness:
    def __init__(self, size: int = 10, hold_max_s: float = 600.0, unknown_wait_s: float = 0.0):
        self.adapter = LinkingAdapter()
        self.adapter.limits = PublishedLimits(100, 10.0, size)
        self.clock = MockedClock()
        self.resolver = AssociationResolver(
            self.clock, retry_s=60.0, unknown_company_wait_s=unknown_wait_s
        )
        self.ready_in = [0.0]
        self.released: list[HoldRelease] = []
        self.metrics = RecordingMetrics()
        plan = DeletePlan.resolve("fake", DeletePolicy.ARCHIVE, {"unsubscribed": True})
        self.sync = AssociatingDeliverer(
            self.adapter, vendor_builder(plan), plan, RetryPolicy(0.1, 1.0),
            lambda _s: False, self.metrics, resolver=self.resolver,
            holds=AssociationHolds(self.clock, hold_max_s), ready_in=lambda: self.ready_in[0],
        )  # fmt: skip
        self.sync.bind_releases(self.released.extend)

    def association_calls(self) -> list[list[VendorRecord]]:
        return [records for _, records in self.adapter.calls if _is_link(records)]


def _is_link(records: Sequence[VendorRecord]) -> bool:
    return bool(records) and records[0].object_type == CONTACT_COMPANY


def offsets(releases: Sequence[HoldRelease]) -> list[int]:
    return [r.position.offset for release in releases for r in release.records]


@pytest.fixture(autouse=True)
def _count_link_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """``FakeAdapter`` records contact calls only: record the association calls too."""
    original = LinkingAdapter.upsert_batch

    def counting(self: LinkingAdapter, records: Sequence[VendorRecord]):  # type: ignore[no-untyped-def]
        if _is_link(records):
            self.calls.append(("link", list(records)))
        return original(self, records)

    monkeypatch.setattr(LinkingAdapter, "upsert_batch", counting)


def test_a_customer_never_linked_costs_no_association_call_and_is_not_held() -> None:
    h = Harness()
    (result,) = h.sync.deliver([customer("a", None)])
    h.sync.tick()
    assert not result.held and h.association_calls() == []


def test_records_are_held_until_the_association_is_applied() -> None:
    h = Harness()
    (result,) = h.sync.deliver([customer("a", 7, offset=4)])
    assert result.held and h.released == [] and h.metrics.gauges[HELD] == 1
    h.sync.deliver([company("7")])  # the company lands: the association goes, a's offset frees
    assert h.adapter.links == {"a": "7"}
    assert offsets(h.released) == [4] and h.released[0].error_class is None
    assert h.metrics.gauges[HELD] == 0


def test_a_hold_past_its_cap_is_released_as_association_not_applied() -> None:
    h = Harness(hold_max_s=10.0)
    h.sync.deliver([customer("a", 7, offset=4)])
    clock_before = h.sync.expire()
    h.clock.advance(10.0)
    assert clock_before == 0 and h.sync.expire() == 1
    (release,) = h.released
    assert release.error_class == NOT_APPLIED and offsets([release]) == [4]


def test_a_deleted_customer_releases_its_hold() -> None:
    h = Harness()
    h.sync.deliver([customer("a", 7, offset=4)])
    meta = SyncMeta("public.customers", 2, "t-del")
    delete = PendingChange(
        ("public.customers", "a"), CustomerDelete("a", "a@x.io", meta),
        customer("a", None, offset=5).records, 0.0,
    )  # fmt: skip
    h.sync.deliver([delete])
    assert offsets(h.released) == [4] and h.resolver.outstanding == 0


def test_a_worker_sends_full_batches_and_a_partial_one_only_when_a_token_is_spare() -> None:
    h = Harness(size=4)
    h.sync.deliver([company("7")])
    h.ready_in[0] = 0.5  # no token now
    h.sync.deliver([customer(f"c{i}", 7, offset=i) for i in range(3)])
    assert h.association_calls() == []  # 3 < 4: waits
    h.sync.deliver([customer(f"d{i}", 7, offset=10 + i) for i in range(2)])
    assert [len(c) for c in h.association_calls()] == [4]  # one full batch, 1 waits
    h.ready_in[0] = 0.0
    h.sync.deliver([customer("e", 7, offset=20)])
    assert [len(c) for c in h.association_calls()] == [4, 2]  # + one partial: a token is spare
    h.ready_in[0] = 0.5
    h.sync.deliver([customer("f", 7, offset=21)])
    assert [len(c) for c in h.association_calls()] == [4, 2]
    h.sync.tick()  # the timer sends the rest
    assert [len(c) for c in h.association_calls()] == [4, 2, 1]
    assert len(h.adapter.links) == 7 and len(offsets(h.released)) == 7


def test_a_want_waits_for_its_company_upsert_in_flight() -> None:
    clock = MockedClock()
    resolver = AssociationResolver(clock)
    resolver.company_confirmed("7")
    resolver.companies_sending(["7"], True)
    resolver.want("a", "a@x.io", "7", "t")
    assert resolver.take_due(10) == []
    resolver.companies_sending(["7"], False)
    assert [w.customer_key for w in resolver.take_due(10)] == ["a"]


def test_a_want_for_an_unknown_company_waits_then_goes_at_its_confirmation() -> None:
    clock = MockedClock()
    resolver = AssociationResolver(clock, unknown_company_wait_s=1.0)
    resolver.want("a", "a@x.io", "7", "t")
    resolver.want("b", "b@x.io", "8", "t")
    assert resolver.take_due(10) == []
    resolver.company_confirmed("7")  # its upsert landed: no company read needed
    assert [w.customer_key for w in resolver.take_due(10)] == ["a"]
    clock.advance(1.0)  # company 8 never came from this process: read it now
    assert [w.company_id for w in resolver.take_due(10)] == ["8"]


def test_full_only_takes_nothing_short_of_a_batch() -> None:
    resolver = AssociationResolver(MockedClock())
    for key in "abc":
        resolver.want(key, f"{key}@x.io", None, "t")
    assert resolver.take_due(4, full_only=True) == []
    assert len(resolver.take_due(3, full_only=True)) == 3
