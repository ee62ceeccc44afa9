"""What newly applied events change per customer, and the consent conflict rule. Pure.

``plan_state`` folds the events applied in one transaction into one ``StateDelta`` per
customer (counter increments, newest engagement time, newest consent withdrawal).
``decide_withdrawal`` is the conflict rule for marketing consent: the platform may only ever
withdraw it, and a newer explicit opt-in recorded in the database may win over it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from streams.contracts import InvalidRecord
from streams.mapping.vendor_mapping import PLATFORMS, from_vendor
from streams.writeback.spec import ConflictRule, WritebackMapping

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppliedEvent:
    """An event matched to a customer and applied now (read back from the events table)."""

    customer_key: str
    type: str
    occurred_at: datetime
    source_platform: str
    event_id: str
    trace_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldChange:
    """The platform changed one both-owned field: its canonical name, column and new value."""

    field: str
    column: str
    value: str | None
    vendor_property: str
    vendor_value: str
    event: AppliedEvent


@dataclass
class StateDelta:
    customer_key: str
    counters: dict[str, int] = field(default_factory=dict)
    last_engaged_at: datetime | None = None
    withdrawal: AppliedEvent | None = None  # the newest consent-withdrawing event
    field_changes: dict[str, FieldChange] = field(default_factory=dict)  # newest per field


def field_change(mapping: WritebackMapping, event: AppliedEvent) -> FieldChange | None:
    """The both-owned field an update event changes, or None (not such an event, a property
    the mapping does not own jointly, or a value that is not text: logged, never altered)."""
    spec = mapping.field_updates
    if spec is None or event.type not in spec.events or event.source_platform not in PLATFORMS:
        return None
    prop = event.attributes.get(spec.property_attribute)
    if prop is None or spec.value_attribute not in event.attributes:
        return None
    raw = event.attributes[spec.value_attribute]
    try:
        canonical = from_vendor(event.source_platform, {prop: raw})
    except InvalidRecord as exc:
        log.warning("platform value cannot be read back", extra={"error": str(exc)})
        return None
    for name, value in canonical.items():
        column = spec.fields.get(name)
        if column is None:
            continue
        if value is not None and not isinstance(value, str):
            log.warning("platform value is not text", extra={"field": name, "value": raw})
            return None
        return FieldChange(name, column, value, prop, raw, event)
    return None


def plan_state(mapping: WritebackMapping, events: Iterable[AppliedEvent]) -> list[StateDelta]:
    """One delta per customer touched, in first-seen order."""
    deltas: dict[str, StateDelta] = {}
    engaging = set(mapping.last_engaged_on)
    withdrawing = set(mapping.consent.withdraw_on)
    for event in events:
        delta = deltas.setdefault(event.customer_key, StateDelta(event.customer_key))
        counter = mapping.counters.get(event.type)
        if counter is not None:
            delta.counters[counter] = delta.counters.get(counter, 0) + 1
        if event.type in engaging and (
            delta.last_engaged_at is None or event.occurred_at > delta.last_engaged_at
        ):
            delta.last_engaged_at = event.occurred_at
        if event.type in withdrawing and (
            delta.withdrawal is None or event.occurred_at > delta.withdrawal.occurred_at
        ):
            delta.withdrawal = event
        change = field_change(mapping, event)
        if change is not None:
            known = delta.field_changes.get(change.field)
            if known is None or event.occurred_at > known.event.occurred_at:
                delta.field_changes[change.field] = change
    return list(deltas.values())


def platform_wins(rule: ConflictRule, db_changed_at: datetime | None, at: datetime) -> bool:
    """Whether a platform change at ``at`` overrides the database's value of a both-owned
    field last changed at ``db_changed_at`` (``newest_wins``: strictly newer; a tie goes to
    the database)."""
    if rule is ConflictRule.PLATFORM_WINS or db_changed_at is None:
        return rule is not ConflictRule.DATABASE_WINS
    if rule is ConflictRule.DATABASE_WINS:
        return False
    return at > db_changed_at


class Withdrawal(enum.Enum):
    APPLY = "apply"  # set consent to withdrawn now
    ALREADY_WITHDRAWN = "already_withdrawn"  # nothing to write (and so nothing to echo)
    DATABASE_NEWER = "database_newer"  # a newer (or same-time) explicit opt-in wins


def decide_withdrawal(
    rule: ConflictRule,
    consent_in_db: bool | None,
    opt_in_at: datetime | None,
    withdrawn_at: datetime,
) -> Withdrawal:
    """Whether a platform withdrawal at ``withdrawn_at`` changes the database's consent.

    ``newest_wins``: the later of the two times wins, a tie goes to the database.
    """
    if consent_in_db is not True:
        return Withdrawal.ALREADY_WITHDRAWN
    if rule is ConflictRule.PLATFORM_WINS or opt_in_at is None:
        return Withdrawal.APPLY
    if rule is ConflictRule.DATABASE_WINS or opt_in_at >= withdrawn_at:
        return Withdrawal.DATABASE_NEWER
    return Withdrawal.APPLY


def resubscribe_allowed(opt_in_at: datetime | None, withdrawn_at: datetime | None) -> bool:
    """Outbound rule: consent may be sent as granted only when no withdrawal is recorded or
    the database holds an explicit opt-in strictly newer than the latest withdrawal."""
    if withdrawn_at is None:
        return True
    return opt_in_at is not None and opt_in_at > withdrawn_at
