"""Rows deleted recently: what the delete policy says the platform must show for them.

The source table no longer has them, so they are read from the CDC topic (the delete events
of the last ``since`` window) through the sync's decoder. A row re-inserted since (its key or
email back in the table) is not a deleted row any more.
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
from streams.platform.deletes import DeletePlan


@dataclass(frozen=True)
class DeletedRow:
    source_id: str
    email: str


def deleted_rows(
    decoder: ChangeDecoder, records: Iterable[tuple[str, bytes | None, bytes | None]]
) -> list[DeletedRow]:
    """The last delete per source id among ``(topic, key, value)`` records, unless a later
    upsert of the same id followed it. Records that do not decode are left to the sync's DLQ."""
    last: dict[str, DeletedRow | None] = {}
    for topic, key, value in records:
        try:
            change = decoder.decode(topic, key, value)
        except InvalidRecord:
            continue
        if isinstance(change, CustomerDelete):
            last[change.source_id] = DeletedRow(change.source_id, change.email or "")
        elif isinstance(change, CustomerUpsert):
            last[change.source_id] = None
    return [row for row in last.values() if row is not None and row.email]


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
