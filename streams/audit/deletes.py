"""Rows deleted recently: what the delete policy says the platform must show for them.

The source table no longer has them, so they are read from the CDC topic (the delete events
of the last ``since`` window) through the sync's decoder. A row re-inserted since (its key or
email back in the table) is not a deleted row any more. Contacts are looked up by email,
companies by their source id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.contracts import (
    CustomerDelete,
    CustomerUpsert,
    DeleteMechanism,
    InvalidRecord,
    PropertyValue,
)
from streams.mapping.change_decoder import ChangeDecoder
from streams.platform.deletes import DeletePlan, DeletePolicy


@dataclass(frozen=True)
class DeletedRow:
    """A deleted row: its source id and the value the platform is read by (``lookup``)."""

    source_id: str
    lookup: str


def deleted_rows(
    decoder: ChangeDecoder,
    records: Iterable[tuple[str, bytes | None, bytes | None]],
    by_source_id: bool = False,
) -> list[DeletedRow]:
    """The last delete per source id among ``(topic, key, value)`` records, unless a later
    upsert of the same id followed it; looked up by email, or by the source id when
    ``by_source_id`` (companies). Records that do not decode are left to the sync's DLQ."""
    last: dict[str, DeletedRow | None] = {}
    for topic, key, value in records:
        try:
            change = decoder.decode(topic, key, value)
        except InvalidRecord:
            continue
        if isinstance(change, CustomerDelete):
            lookup = change.source_id if by_source_id else change.email or ""
            last[change.source_id] = DeletedRow(change.source_id, lookup)
        elif isinstance(change, CustomerUpsert):
            last[change.source_id] = None
    return [row for row in last.values() if row is not None and row.lookup]


@dataclass(frozen=True)
class DeleteExpectation:
    """What a deleted contact must look like: absent (``kept_with`` None: archived) or present
    with the ``kept_with`` properties (unsubscribed)."""

    kept_with: dict[str, PropertyValue] | None


def expectation_for(plan: DeletePlan) -> DeleteExpectation | None:
    """What the resolved delete plan leaves on the platform; ``None`` where the audit cannot
    read it back through contact properties (nothing sent, or HubSpot's
    communication-preferences unsubscribe), so deletes are not checked."""
    if plan.mechanism in (DeleteMechanism.ARCHIVE, DeleteMechanism.HARD_DELETE):
        return DeleteExpectation(None)
    if plan.mechanism is DeleteMechanism.FIELD_UPDATE:
        return DeleteExpectation(dict(plan.properties))
    return None


def company_expectation(platform: str, policy: DeletePolicy) -> DeleteExpectation | None:
    """What a company delete leaves (``streams.platform.deletes``): gone where the policy sends
    one (HubSpot archives under every policy but ``ignore``; Marketo deletes under
    ``hard_delete``); ``None`` where nothing is sent (``ignore``, and Marketo's non-destructive
    policies, which keep the company), so those deletes are not checked."""
    if policy is DeletePolicy.IGNORE:
        return None
    if platform == "marketo" and policy is not DeletePolicy.HARD_DELETE:
        return None
    return DeleteExpectation(None)
