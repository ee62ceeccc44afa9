"""The contact → company associations the platform still has to confirm: a pure core (no I/O,
injected clock and random source; not thread-safe: its caller holds a lock).

A customer delivered with a ``company_id`` *wants* that association (None: no company). Per
customer only the latest want is kept (a newer one supersedes an older one, which is never
applied after it: a customer never has two wants in flight). A want is sent at once; when the
platform answers that the company does not exist yet it waits in the *pending* set until the
company is confirmed (``company_confirmed``, after a company upsert succeeded) or its timer
(``retry_s`` doubling to ``retry_cap_s``, full jitter) runs out. Nothing is dropped: a want
leaves only when the platform applied it or refused it for good (``settle`` returns those, for
the caller's dead letter). The set is bounded by ``max_pending`` through the caller: ``full``
says to stop taking customers (backpressure: pause the partitions) until it drains.

Doing less: a customer with no company that was never linked (``linked_before`` False, nothing
applied remembered) wants nothing; a want for a company this process has not confirmed waits
``unknown_company_wait_s`` first (its upsert is usually on its way: then it goes at once,
without reading the company); a want whose company's upsert is in flight (``companies_sending``)
waits for its answer.
"""

from __future__ import annotations

import enum
import random
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cdcbridge.clock import Clock


class Settled(enum.Enum):
    APPLIED = "applied"  # the platform has the association: done
    COMPANY_MISSING = "company_missing"  # wait for the company (pending)
    RETRY = "retry"  # transient: send again after the retry delay
    REFUSED = "refused"  # never succeeds (e.g. the contact is gone): the caller dead-letters


@dataclass(frozen=True)
class Want:
    """One customer's wanted association. ``version`` orders a customer's wants."""

    customer_key: str
    contact_lookup: str
    company_id: str | None
    trace_id: str
    version: int


@dataclass
class _Slot:
    want: Want
    not_before: float
    attempts: int = 0
    in_flight: bool = False
    waiting_for_company: bool = False


class AssociationResolver:
    """See the module docstring. ``take_due`` marks wants in flight; every taken want must
    come back through ``settle`` (a call that failed as a whole: ``Settled.RETRY``)."""

    def __init__(
        self,
        clock: Clock,
        *,
        max_pending: int = 10_000,
        retry_s: float = 1.0,
        retry_cap_s: float = 60.0,
        rng: random.Random | None = None,
        remembered: int = 100_000,
        unknown_company_wait_s: float = 0.0,
    ) -> None:
        self.clock = clock
        self.max_pending = max_pending
        self.retry_s = retry_s
        self.retry_cap_s = retry_cap_s
        self.rng = rng or random.Random()
        self.__slots_by_key: dict[str, _Slot] = {}
        self.__known: set[str] = set()
        self.__missing_until: dict[str, float] = {}
        self.__version = 0
        # customer → the company last applied (bounded, least recently applied first out):
        # a customer change that keeps its company costs no association call.
        self.__applied: OrderedDict[str, str | None] = OrderedDict()
        self.__remembered = remembered
        self.unknown_company_wait_s = unknown_company_wait_s
        self.__sending: Counter[str] = Counter()  # company id -> its upserts in flight

    # -- what comes in ----------------------------------------------------------------------
    def want(
        self,
        customer_key: str,
        contact_lookup: str,
        company_id: str | None,
        trace_id: str,
        linked_before: bool = True,
    ) -> Want | None:
        """The customer's contact was delivered with this company. Never refuses (see
        ``full``); None when that association is applied already (or, for no company, when the
        customer was never linked) and nothing is outstanding."""
        slot = self.__slots_by_key.get(customer_key)
        if slot is None and self.__applied.get(customer_key, "-") == company_id:
            return None
        never_linked = company_id is None and not linked_before
        if slot is None and never_linked and self.__applied.get(customer_key) is None:
            return None
        self.__version += 1
        want = Want(customer_key, contact_lookup, company_id, trace_id, self.__version)
        now = self.clock.monotonic()
        waiting = (
            company_id is not None
            and company_id not in self.__known
            and (self.__missing_until.get(company_id, now) > now)
        )
        not_before = self.__missing_until[company_id] if waiting and company_id else now
        unknown = company_id is not None and company_id not in self.__known
        if unknown and not waiting and self.unknown_company_wait_s > 0:
            # its upsert is probably on its way: confirmed meanwhile, it goes without a read
            waiting, not_before = True, now + self.unknown_company_wait_s
        if slot is None:
            self.__slots_by_key[customer_key] = _Slot(want, not_before, waiting_for_company=waiting)
        else:  # supersede; an in-flight older want settles into nothing
            slot.want, slot.not_before, slot.attempts = want, not_before, 0
            slot.waiting_for_company = waiting
        return want

    def company_confirmed(self, company_id: str) -> None:
        """The company exists on the platform now: its pending associations are due."""
        self.__known.add(company_id)
        self.__missing_until.pop(company_id, None)
        now = self.clock.monotonic()
        for slot in self.__slots_by_key.values():
            if slot.want.company_id == company_id and slot.waiting_for_company:
                slot.not_before, slot.waiting_for_company = now, False

    def companies_sending(self, company_ids: Iterable[str], sending: bool) -> None:
        """Upserts of these companies went out (``sending``) or came back (either way): their
        wants are not due meanwhile (sent after the company, they cost no company read)."""
        for company_id in company_ids:
            if sending:
                self.__sending[company_id] += 1
            else:
                self.__sending[company_id] -= 1
                if self.__sending[company_id] <= 0:
                    del self.__sending[company_id]

    def company_removed(self, company_id: str) -> None:
        """The company was deleted (its associations with it): wants for it wait for it again
        if it comes back, and no customer counts as associated with it any more."""
        self.__known.discard(company_id)
        for key in [k for k, c in self.__applied.items() if c == company_id]:
            del self.__applied[key]

    def forget(self, customer_key: str) -> None:
        """The customer was deleted (its contact and associations with it): nothing to do."""
        self.__slots_by_key.pop(customer_key, None)
        self.__applied.pop(customer_key, None)

    # -- what goes out ----------------------------------------------------------------------
    def take_due(self, limit: int, full_only: bool = False) -> list[Want]:
        """Up to ``limit`` wants due now, the longest waiting first (a retried want goes behind
        the ones that waited longer: none starves), marked in flight. Of the wants waiting for
        one missing company only one goes (a probe): the vendor budget is not spent asking the
        same question per customer; when it is applied the others follow at once. A want whose
        company's upsert is in flight is not due. ``full_only``: nothing unless ``limit`` are
        due (a full batch)."""
        now = self.clock.monotonic()
        due = [
            s
            for s in self.__slots_by_key.values()
            if not s.in_flight
            and s.not_before <= now
            and (s.want.company_id is None or s.want.company_id not in self.__sending)
        ]
        if full_only and len(due) < limit:
            return []
        due.sort(key=lambda s: (s.not_before, s.want.version))  # longest waiting first
        taken: list[_Slot] = []
        probed: set[str] = set()
        for slot in due:
            if len(taken) >= limit:
                break
            company = slot.want.company_id
            if slot.waiting_for_company and company is not None:
                if company in probed:
                    continue  # one want probes a missing company; the rest follow it
                probed.add(company)
            taken.append(slot)
        if full_only and len(taken) < limit:
            return []
        for slot in taken:
            slot.in_flight = True
        return [s.want for s in taken]

    def settle(self, outcomes: Sequence[tuple[Want, Settled]]) -> list[Want]:
        """Record the platform's answers; returns the refused wants (still current ones)."""
        now = self.clock.monotonic()
        refused: list[Want] = []
        for want, outcome in outcomes:
            slot = self.__slots_by_key.get(want.customer_key)
            if slot is None:
                continue
            slot.in_flight = False
            if slot.want.version != want.version:
                continue  # superseded while in flight: the newer want is due as it is
            if outcome is Settled.APPLIED:
                del self.__slots_by_key[want.customer_key]
                if want.company_id is not None and want.company_id not in self.__known:
                    self.company_confirmed(want.company_id)  # the ones waiting follow now
                self.__applied[want.customer_key] = want.company_id
                self.__applied.move_to_end(want.customer_key)
                if len(self.__applied) > self.__remembered:
                    self.__applied.popitem(last=False)
            elif outcome is Settled.REFUSED:
                del self.__slots_by_key[want.customer_key]
                refused.append(want)
            else:
                slot.attempts += 1
                slot.not_before = now + self.__delay(slot.attempts)
                missing = outcome is Settled.COMPANY_MISSING and want.company_id is not None
                slot.waiting_for_company = missing
                if missing and want.company_id is not None:
                    self.__company_missing(want.company_id, slot.not_before)
        return refused

    def __company_missing(self, company_id: str, until: float) -> None:
        """Every want for this company waits until ``until`` (one probe per company then)."""
        self.__known.discard(company_id)
        self.__missing_until[company_id] = until
        for slot in self.__slots_by_key.values():
            if slot.want.company_id == company_id and not slot.in_flight:
                slot.not_before = max(slot.not_before, until)
                slot.waiting_for_company = True

    # -- what is seen -----------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Associations waiting for their company (the ``…_pending`` metric)."""
        return sum(s.waiting_for_company for s in self.__slots_by_key.values())

    @property
    def outstanding(self) -> int:
        """Every want not yet applied (pending, due or in flight)."""
        return len(self.__slots_by_key)

    def outstanding_for(self, customer_key: str) -> bool:
        """Whether the customer has a want not yet applied or refused."""
        return customer_key in self.__slots_by_key

    @property
    def full(self) -> bool:
        """True when the caller should stop taking customers (backpressure) until it drains."""
        return len(self.__slots_by_key) >= self.max_pending

    def next_due(self) -> float | None:
        """The monotonic time the next want not in flight is due (None: nothing waits)."""
        times = [s.not_before for s in self.__slots_by_key.values() if not s.in_flight]
        return min(times, default=None)

    def __delay(self, attempts: int) -> float:
        return self.rng.uniform(self.retry_s, min(self.retry_cap_s, self.retry_s * 2**attempts))
