"""The hold core: a customer record stays held until its association settles, or until the cap
(then it is released as ``AssociationNotApplied``); nothing held is lost or released twice."""

from __future__ import annotations

import pytest

from cdcbridge.clock import MockedClock
from streams.contracts import KafkaPosition
from streams.sync.association_holds import NOT_APPLIED, AssociationHolds
from streams.sync.coalesce import SourceRecord

pytestmark = pytest.mark.unit


def record(offset: int) -> SourceRecord:
    return SourceRecord(KafkaPosition("cdc.public.customers", 0, offset, {}), b"k", b"v", "t")


def test_held_records_are_released_together_when_the_want_settles() -> None:
    holds = AssociationHolds(MockedClock(), max_hold_s=600)
    holds.hold("c1", [record(1)])
    holds.hold("c1", [record(5), record(6)])  # a newer want of the same customer
    holds.hold("c2", [record(2)])
    assert holds.held == 4 and "c1" in holds
    released = holds.release("c1")
    assert released is not None and released.error_class is None
    assert [r.position.offset for r in released.records] == [1, 5, 6]
    assert holds.held == 1 and "c1" not in holds
    assert holds.release("c1") is None  # released once


def test_a_hold_expires_at_the_cap_of_its_first_record() -> None:
    clock = MockedClock()
    holds = AssociationHolds(clock, max_hold_s=10)
    holds.hold("c1", [record(1)])
    clock.advance(6)
    holds.hold("c1", [record(2)])  # does not push the deadline
    holds.hold("c2", [record(3)])
    assert holds.next_deadline() == pytest.approx(10)
    clock.advance(3.9)
    assert holds.expired() == []
    clock.advance(0.1)
    (expired,) = holds.expired()
    assert expired.error_class == NOT_APPLIED and "c1" in expired.error_message
    assert [r.position.offset for r in expired.records] == [1, 2]
    assert holds.held == 1 and holds.next_deadline() == pytest.approx(16)
    clock.advance(6)
    assert [r.position.offset for e in holds.expired() for r in e.records] == [3]
    assert holds.held == 0 and holds.next_deadline() is None


def test_an_unbounded_hold_is_refused() -> None:
    with pytest.raises(ValueError, match="deadlock"):
        AssociationHolds(MockedClock(), max_hold_s=0)
