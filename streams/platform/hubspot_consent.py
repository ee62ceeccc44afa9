"""Pure translation for HubSpot's consent and delete calls (no I/O).

Unsubscribe: ``hs_email_optout`` is read-only, so email opt-out goes through the communication
preferences v4 API, ``POST /communication-preferences/v4/statuses/batch/unsubscribe-all
?channel=EMAIL`` with ``{"inputs": ["a@b.com", ...]}`` (scope
``communication_preferences.statuses.batch.write``; shared/reference/marketing_platforms.md §5).
Opt-out is kept per email address, also for an address with no contact, and has no API undo.
The answer is a batch wrapper: ``results[]`` name the address in ``subscriberIdString``;
on 207, ``errors[]`` name the inputs in ``context.ids`` (the CRM batch convention; inferred).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from streams.contracts import RecordOutcome, RecordResult, VendorRecord
from streams.platform.records import lookup_key

UNSUBSCRIBE_ALL = "/communication-preferences/v4/statuses/batch/unsubscribe-all?channel=EMAIL"
NOT_FOUND = "OBJECT_NOT_FOUND"


def unsubscribe_all_body(records: Sequence[VendorRecord]) -> dict[str, object]:
    return {"inputs": [r.id_value for r in records]}


def parse_unsubscribe_all(
    doc: Mapping[str, object], records: Sequence[VendorRecord]
) -> dict[str, RecordResult]:
    """Lookup key → result. An address the answer does not mention gets no result (RETRY)."""
    by_email = {lookup_key(r.id_value): r for r in records}
    found: dict[str, RecordResult] = {}
    for item in cast(list[Mapping[str, object]], doc.get("results") or []):
        record = by_email.get(lookup_key(str(item.get("subscriberIdString", ""))))
        if record is not None:
            found[lookup_key(record.id_value)] = RecordResult(record.key, RecordOutcome.OK)
    for error in cast(list[Mapping[str, object]], doc.get("errors") or []):
        context = cast(Mapping[str, list[str]], error.get("context") or {})
        for named in context.get("ids", []):
            record = by_email.get(lookup_key(named))
            if record is not None:
                found[lookup_key(record.id_value)] = RecordResult(
                    record.key,
                    RecordOutcome.INVALID,
                    error_code=str(error.get("category", "VALIDATION_ERROR")),
                    error_message=str(error.get("message", "")),
                )
    return found


def absent_is_done(
    records: Sequence[VendorRecord], answers: Mapping[str, RecordResult]
) -> dict[str, RecordResult]:
    """A delete-time field update of a contact HubSpot does not have is done: nothing to
    mark (``batch/update`` answers ``OBJECT_NOT_FOUND`` for it and must not create one)."""
    done = dict(answers)
    for record in records:
        key = lookup_key(record.id_value)
        answer = done.get(key)
        if answer is not None and answer.error_code == NOT_FOUND:
            done[key] = RecordResult(record.key, RecordOutcome.OK)
    return done
