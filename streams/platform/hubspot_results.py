"""Pure translation between ``VendorRecord`` and HubSpot's batch bodies.

A 200/207 batch answer has ``results[]`` (``id``, ``new``, ``properties``) and, on 207,
``errors[]`` (``StandardError``: ``status``, ``category``, ``message``, ``context``) whose
``context.ids`` name the inputs concerned. Every input ends up OK, INVALID (a validation error:
dead-letter), RETRY (rate limit / server error / no answer) or marked ``CONFLICT`` (the caller
falls back to an update).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from streams.contracts import RecordOutcome, RecordResult, VendorRecord
from streams.platform.records import as_vendor_string, lookup_key

_RETRY_CATEGORIES = frozenset({"RATE_LIMITS", "INTERNAL_ERROR", "TIMEOUT"})


def upsert_input(record: VendorRecord, record_id: str | None = None) -> dict[str, object]:
    """One ``inputs[]`` item: by email for upsert, by record id for an update."""
    properties = {k: as_vendor_string(v) for k, v in record.properties.items()}
    properties["email"] = record.id_value
    item: dict[str, object] = {"properties": properties}
    if record_id is None:
        item.update(id=record.id_value, idProperty="email")
    else:
        item["id"] = record_id
    if record.trace_id:
        item["objectWriteTraceId"] = record.trace_id
    return item


def _error_outcome(error: Mapping[str, object]) -> tuple[RecordOutcome, str]:
    category = str(error.get("category", ""))
    status = str(error.get("status", ""))
    if category == "CONFLICT" or "already exists" in str(error.get("message", "")):
        return RecordOutcome.RETRY, "CONFLICT"
    if category in _RETRY_CATEGORIES or status.startswith("5"):
        return RecordOutcome.RETRY, category or status
    return RecordOutcome.INVALID, category or "VALIDATION_ERROR"


def parse_batch(
    doc: Mapping[str, object], batch: Sequence[tuple[str | None, VendorRecord]]
) -> dict[str, RecordResult]:
    """Lookup key → result for each record of the batch that the answer mentions. ``batch``
    pairs each record with the record id it was sent by (``None``: sent by email)."""
    by_lookup: dict[str, RecordResult] = {}
    by_trace = {r.trace_id: r for _, r in batch if r.trace_id}
    ids = {lookup_key(r.id_value): r for _, r in batch}
    ids.update({record_id: r for record_id, r in batch if record_id is not None})
    for item in cast(list[Mapping[str, object]], doc.get("results", [])):
        properties = cast(Mapping[str, object], item.get("properties") or {})
        email = lookup_key(str(properties.get("email", "")))
        record = ids.get(email) or by_trace.get(str(item.get("objectWriteTraceId", "")))
        if record is None:
            continue
        new = item.get("new")
        by_lookup[lookup_key(record.id_value)] = RecordResult(
            record.key,
            RecordOutcome.OK,
            platform_id=str(item.get("id")),
            created=bool(new) if isinstance(new, bool) else None,
        )
    for error in cast(list[Mapping[str, object]], doc.get("errors", [])):
        context = cast(Mapping[str, list[str]], error.get("context") or {})
        outcome, code = _error_outcome(error)
        for named in context.get("ids", []):
            record = ids.get(lookup_key(named))
            if record is None:
                continue
            by_lookup[lookup_key(record.id_value)] = RecordResult(
                record.key, outcome, error_code=code, error_message=str(error.get("message", ""))
            )
    return by_lookup
