"""The association core: latest want wins, a want for a company not there yet waits (pending)
and goes once the company is confirmed or its timer runs out, nothing is dropped or reordered."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdcbridge.clock import MockedClock
from streams.sync.associations import AssociationResolver, Settled, Want

pytestmark = pytest.mark.unit


def resolver(clock: MockedClock, **kw: object) -> AssociationResolver:
    return AssociationResolver(clock, rng=random.Random(7), **kw)  # type: ignore[arg-type]


def test_a_want_for_a_missing_company_waits_until_the_company_is_confirmed() -> None:
    clock = MockedClock()
    core = resolver(clock, retry_s=10.0, retry_cap_s=10.0)
    core.want("c1", "a@x.io", "42", "t")
    (sent,) = core.take_due(10)
    assert core.settle([(sent, Settled.COMPANY_MISSING)]) == []
    assert core.pending == 1 and core.take_due(10) == []
    core.want("c2", "b@x.io", "42", "t")  # the company is known missing: waits at once
    assert core.pending == 2 and core.take_due(10) == []
    core.company_confirmed("42")
    due = core.take_due(10)
    assert [w.customer_key for w in due] == ["c1", "c2"] and core.pending == 0
    core.settle([(w, Settled.APPLIED) for w in due])
    assert core.outstanding == 0


def test_the_timer_retries_a_pending_want_without_a_confirmation() -> None:
    clock = MockedClock()
    core = resolver(clock, retry_s=5.0, retry_cap_s=5.0)
    core.want("c1", "a@x.io", "42", "t")
    core.settle([(w, Settled.COMPANY_MISSING) for w in core.take_due(10)])
    assert core.next_due() == pytest.approx(5.0)
    clock.advance(5.0)
    assert [w.company_id for w in core.take_due(10)] == ["42"]


def test_a_newer_want_supersedes_one_in_flight_and_is_sent_after_it() -> None:
    clock = MockedClock()
    core = resolver(clock)
    core.want("c1", "a@x.io", "1", "t")
    (old,) = core.take_due(10)
    core.want("c1", "a@x.io", "2", "t")  # moved while the first one is in flight
    assert core.take_due(10) == []  # never two of one customer in flight
    core.settle([(old, Settled.APPLIED)])
    (new,) = core.take_due(10)
    assert new.company_id == "2" and core.outstanding == 1
    core.settle([(new, Settled.APPLIED)])
    assert core.outstanding == 0


def test_refused_wants_are_handed_back_not_dropped_silently() -> None:
    clock = MockedClock()
    core = resolver(clock)
    core.want("c1", "a@x.io", "1", "t")
    (sent,) = core.take_due(10)
    assert core.settle([(sent, Settled.REFUSED)]) == [sent]
    assert core.outstanding == 0


def test_full_signals_backpressure_but_never_refuses() -> None:
    clock = MockedClock()
    core = resolver(clock, max_pending=2)
    core.want("c1", "a@x.io", "1", "t")
    assert not core.full
    core.want("c2", "b@x.io", "1", "t")
    assert core.full
    core.want("c3", "c@x.io", "1", "t")  # accepted: the caller pauses on ``full``
    assert core.outstanding == 3


class FakePlatform:
    """Companies that exist and each contact's one company, as the vendors keep them."""

    def __init__(self) -> None:
        self.companies: set[str] = set()
        self.links: dict[str, str | None] = {}

    def apply(self, wants: list[Want]) -> list[tuple[Want, Settled]]:
        out = []
        for want in wants:
            if want.company_id is not None and want.company_id not in self.companies:
                out.append((want, Settled.COMPANY_MISSING))
            else:
                self.links[want.customer_key] = want.company_id
                out.append((want, Settled.APPLIED))
        return out


events = st.lists(
    st.one_of(
        st.tuples(st.just("customer"), st.integers(0, 3), st.one_of(st.none(), st.integers(0, 2))),
        st.tuples(st.just("company"), st.integers(0, 2), st.none()),
        st.tuples(st.just("flush"), st.integers(0, 0), st.none()),
        st.tuples(st.just("tick"), st.integers(1, 30), st.none()),
        st.tuples(st.just("fail"), st.integers(0, 0), st.none()),
    ),
    max_size=80,
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(events)
def test_random_interleavings_end_with_every_association_right(
    script: list[tuple[str, int, int | None]],
) -> None:
    clock = MockedClock()
    core = resolver(clock, retry_s=1.0, retry_cap_s=8.0)
    platform = FakePlatform()
    latest: dict[str, str | None] = {}
    in_flight: list[Want] = []
    for kind, a, b in script:
        if kind == "customer":
            company = None if b is None else str(b)
            latest[f"c{a}"] = company
            core.want(f"c{a}", f"c{a}@x.io", company, "t")
        elif kind == "company":
            platform.companies.add(str(a))
            core.company_confirmed(str(a))
        elif kind == "flush":
            in_flight += core.take_due(3)
        elif kind == "fail":  # a call that failed as a whole
            core.settle([(w, Settled.RETRY) for w in in_flight])
            in_flight = []
        else:
            clock.advance(float(a))
        if in_flight and kind in ("tick", "company"):
            core.settle(platform.apply(in_flight))
            in_flight = []
    core.settle(platform.apply(in_flight))
    for company in {c for c in latest.values() if c is not None}:  # every company arrives
        platform.companies.add(company)
        core.company_confirmed(company)
    for _ in range(50):  # drain: the timers run out or the confirmations wake them
        due = core.take_due(3)
        if not due and core.outstanding == 0:
            break
        core.settle(platform.apply(due))
        clock.advance(10.0)
    assert core.outstanding == 0
    for customer, company in latest.items():
        assert platform.links.get(customer) == company


def test_an_applied_association_is_not_sent_again_until_it_changes() -> None:
    clock = MockedClock()
    core = resolver(clock)
    core.want("c1", "a@x.io", "1", "t")
    core.settle([(w, Settled.APPLIED) for w in core.take_due(10)])
    assert core.want("c1", "a@x.io", "1", "t") is None  # same company: no call
    assert core.want("c1", "a@x.io", "2", "t") is not None
    core.settle([(w, Settled.APPLIED) for w in core.take_due(10)])
    core.company_removed("2")  # its associations went with it
    assert core.want("c1", "a@x.io", "2", "t") is not None


def test_a_deleted_customer_is_forgotten() -> None:
    clock = MockedClock()
    core = resolver(clock)
    core.want("c1", "a@x.io", "1", "t")
    (sent,) = core.take_due(10)
    core.forget("c1")
    assert core.settle([(sent, Settled.COMPANY_MISSING)]) == [] and core.outstanding == 0


def test_retried_wants_go_behind_the_ones_that_waited_longer() -> None:
    clock = MockedClock()
    core = resolver(clock, retry_s=1.0, retry_cap_s=1.0)
    for n in range(300):  # 300 customers of 300 missing companies, 100 per call
        core.want(f"c{n}", f"c{n}@x.io", str(n), "t")
    tried: set[str] = set()
    for _ in range(3):
        due = core.take_due(100)
        tried |= {w.customer_key for w in due}
        core.settle([(w, Settled.COMPANY_MISSING) for w in due])
        clock.advance(1.0)
    assert len(tried) == 300  # none starved behind the first ones retried


def test_a_missing_company_holds_back_all_its_wants() -> None:
    clock = MockedClock()
    core = resolver(clock, retry_s=5.0, retry_cap_s=5.0)
    core.want("c1", "a@x.io", "9", "t")
    core.want("c2", "b@x.io", "9", "t")
    (first,) = core.take_due(1)
    core.settle([(first, Settled.COMPANY_MISSING)])
    assert core.take_due(10) == []  # c2 waits with c1: one probe per company


def test_one_want_probes_a_missing_company_and_the_others_follow_it() -> None:
    clock = MockedClock()
    core = resolver(clock, retry_s=1.0, retry_cap_s=1.0)
    for n in range(5):
        core.want(f"c{n}", f"c{n}@x.io", "9", "t")
    core.settle([(w, Settled.COMPANY_MISSING) for w in core.take_due(100)])
    clock.advance(1.0)
    (probe,) = core.take_due(100)  # the company is known missing: one probe
    core.settle([(probe, Settled.APPLIED)])  # it exists now
    assert len(core.take_due(100)) == 4
