"""Offsets held until a customer's association is applied: a pure core (no I/O, injected clock;
not thread-safe: its caller holds a lock).

Invariant: a customer record whose contact was confirmed while its association to a company is
still outstanding stays *held* (its offset is not committable) until that association was
applied or refused, or until it has been held ``max_hold_s`` (then it is released as expired:
the caller dead-letters it with ``AssociationNotApplied``, so its offset commits and a full
engine never deadlocks on a company that never comes). A crash while a record is held re-reads
it, and the association is wanted again: none is lost.

Held records are kept per customer key (``Want.customer_key``): a newer want supersedes an
older one, so the records of both are released together when the newest is settled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cdcbridge.clock import Clock
from streams.sync.coalesce import SourceRecord

NOT_APPLIED = "AssociationNotApplied"
"""The dead-letter reason of a record whose association was not applied within the cap."""


@dataclass(frozen=True)
class HoldRelease:
    """Records whose offsets may commit now: ``error_class`` None when their association was
    applied or refused (or the customer was deleted), ``NOT_APPLIED`` when the hold expired (the
    caller dead-letters them)."""

    records: tuple[SourceRecord, ...]
    error_class: str | None = None
    error_message: str = ""


@dataclass
class _Held:
    records: list[SourceRecord] = field(default_factory=list)
    deadline: float = 0.0


class AssociationHolds:
    """See the module docstring. ``max_hold_s`` > 0 bounds how long any record is held."""

    def __init__(self, clock: Clock, max_hold_s: float) -> None:
        if max_hold_s <= 0:
            raise ValueError("max_hold_s must be positive (an unbounded hold can deadlock)")
        self.__clock = clock
        self.__max_hold_s = max_hold_s
        self.__by_key: dict[str, _Held] = {}
        self.__count = 0

    def hold(self, customer_key: str, records: Sequence[SourceRecord]) -> None:
        """Hold ``records`` until the customer's current want settles. The deadline is the
        first hold's: a customer changed again and again is still released within the cap."""
        held = self.__by_key.get(customer_key)
        if held is None:
            held = self.__by_key[customer_key] = _Held(
                deadline=self.__clock.monotonic() + self.__max_hold_s
            )
        held.records.extend(records)
        self.__count += len(records)

    def release(self, customer_key: str) -> HoldRelease | None:
        """The customer's want was applied or refused, or the customer was deleted: its held
        records (None when it has none)."""
        held = self.__by_key.pop(customer_key, None)
        if held is None:
            return None
        self.__count -= len(held.records)
        return HoldRelease(tuple(held.records))

    def expired(self) -> list[HoldRelease]:
        """Holds past their deadline, removed (``error_class`` ``NOT_APPLIED``)."""
        now = self.__clock.monotonic()
        keys = [key for key, held in self.__by_key.items() if held.deadline <= now]
        out = []
        for key in keys:
            held = self.__by_key.pop(key)
            self.__count -= len(held.records)
            message = f"association of customer {key} not applied within {self.__max_hold_s} s"
            out.append(HoldRelease(tuple(held.records), NOT_APPLIED, message))
        return out

    def next_deadline(self) -> float | None:
        """The monotonic time the next hold expires (None: nothing held)."""
        return min((held.deadline for held in self.__by_key.values()), default=None)

    @property
    def held(self) -> int:
        """Records held (the ``cdcbridge_sync_associations_held_records`` gauge)."""
        return self.__count

    def __contains__(self, customer_key: object) -> bool:
        return customer_key in self.__by_key
