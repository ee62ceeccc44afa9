"""The inbound audit's core: engagement events on the topic against what writeback stored. Pure.

Every sampled event must be in the events table (keyed by source platform and event id); a
``contact_unsubscribed`` (any type the mapping's ``consent.withdraw_on`` names) whose row was
matched to a customer must also show in that customer's consent: withdrawn, or kept for a reason
the conflict rule allows (``decide_withdrawal`` says the database's opt-in wins, or the database
recorded an opt-in after the event). Suspects are checked again once the settler says writeback
caught up (an event within the writeback lag is not reported), like the outbound audit; the
result is an ``AuditResult``, so reports, exit codes and metrics are the outbound audit's.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cdcbridge.clock import Clock
from streams.audit.compare import MISSING_PROPERTY, Finding
from streams.audit.runner import AuditResult
from streams.audit.sampling import SamplePlan, draw
from streams.audit.settle import Settler
from streams.writeback.events import InboundEvent
from streams.writeback.plan import Withdrawal, decide_withdrawal
from streams.writeback.spec import ConflictRule

Identity = tuple[str, str]


@dataclass(frozen=True)
class Consent:
    """A customer's consent columns as the database holds them now."""

    granted: bool | None
    opt_in_at: datetime | None


class InboundStore(Protocol):
    """The database side. Methods raise the driver's errors (nothing is reported then)."""

    def stored(self, identities: Sequence[Identity]) -> Mapping[Identity, str | None]:
        """Of ``identities``, those in the events table, with the customer key they matched
        (None while unmatched)."""
        ...

    def consent(self, customer_keys: Sequence[str]) -> Mapping[str, Consent]:
        """Consent of those customers that still exist."""
        ...


def event_key(event: InboundEvent) -> str:
    """The id the report names an event by: ``source_platform:event_id``."""
    return f"{event.source_platform}:{event.event_id}"


@dataclass
class InboundAuditor:
    """Checks sampled events against ``store``; ``withdraw_on`` and ``conflict`` come from the
    writeback mapping, ``consent_column`` names the checked column in findings."""

    store: InboundStore
    settler: Settler
    clock: Clock
    withdraw_on: frozenset[str]
    conflict: ConflictRule
    consent_column: str = "consent"

    def run(
        self, plan: SamplePlan, events: Sequence[InboundEvent], rng: random.Random
    ) -> AuditResult:
        """Audit ``plan.size`` of ``events`` (the window's population, de-duplicated)."""
        started = self.clock.monotonic()
        by_key = {event_key(e): e for e in events}
        sample = [by_key[k] for k in draw(sorted(by_key), plan.size, rng)]
        result = AuditResult(plan, checked=len(sample))
        findings = self.__check(sample)
        if findings:  # written within the writeback lag? look again once it caught up
            suspects = {f.source_id for f in findings}
            result.settled = self.settler.wait()
            result.rechecked = len(suspects)
            findings = self.__check([e for e in sample if event_key(e) in suspects])
        result.findings = findings
        result.duration_s = self.clock.monotonic() - started
        return result

    def __check(self, events: Sequence[InboundEvent]) -> list[Finding]:
        stored = self.store.stored([e.identity for e in events])
        findings = [
            Finding("missing", event_key(e), e.email or "", MISSING_PROPERTY, "engagement_events")
            for e in events
            if e.identity not in stored
        ]
        withdrawals = [
            (e, key)
            for e in events
            if e.type in self.withdraw_on and (key := stored.get(e.identity)) is not None
        ]
        consent = self.store.consent(sorted({key for _, key in withdrawals}))
        for event, key in withdrawals:
            state = consent.get(key)
            if state is not None and not self.__shows_withdrawal(event, state):
                findings.append(Finding("value", event_key(event), event.email or "",
                                        self.consent_column, "consent", False,
                                        state.granted))  # fmt: skip
        return findings

    def __shows_withdrawal(self, event: InboundEvent, state: Consent) -> bool:
        if state.opt_in_at is not None and state.opt_in_at > event.occurred_at:
            return True  # the database recorded an opt-in after the withdrawal
        decision = decide_withdrawal(self.conflict, state.granted, state.opt_in_at,
                                     event.occurred_at)  # fmt: skip
        return decision is not Withdrawal.APPLY
