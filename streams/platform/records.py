"""Pure batch helpers shared by the adapters: collapsing duplicate keys, chunking, fanning the
per-vendor-record results back out to every input record."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from streams.contracts import (
    CONTACTS,
    FatalPlatformError,
    RecordOutcome,
    RecordResult,
    VendorRecord,
)

T = TypeVar("T")


def lookup_key(value: str) -> str:
    """Vendors match emails case-insensitively."""
    return value.strip().casefold()


def collapse_duplicates(records: Sequence[VendorRecord]) -> list[VendorRecord]:
    """One record per lookup value, last write wins (its position is the last occurrence)."""
    last: dict[str, VendorRecord] = {}
    for record in records:
        key = lookup_key(record.id_value)
        last.pop(key, None)
        last[key] = record
    return list(last.values())


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fan_out(
    records: Sequence[VendorRecord], by_lookup: Mapping[str, RecordResult]
) -> list[RecordResult]:
    """One result per input record, in input order. A record collapsed into a later duplicate
    shares that duplicate's outcome; a record the vendor never answered for is ``RETRY``."""
    results: list[RecordResult] = []
    for record in records:
        found = by_lookup.get(lookup_key(record.id_value))
        if found is None:
            results.append(
                RecordResult(
                    record.key,
                    RecordOutcome.RETRY,
                    error_code="NO_RESULT",
                    error_message="the platform returned no result for this record",
                )
            )
        else:
            results.append(replace(found, key=record.key))
    return results


def as_vendor_string(value: object) -> str:
    """HubSpot property values are strings: booleans lower-case, ``None`` clears (empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def answer_strings(properties: Mapping[str, object]) -> dict[str, str]:
    """A read answer's properties as the audit compares them: ``str`` of each value, ``None``
    (unset) as ``""``."""
    return {k: "" if v is None else str(v) for k, v in properties.items()}


def object_type_of(records: Sequence[VendorRecord]) -> str:
    """The one object type of an adapter call (``contacts`` for none). A call mixing object
    types is a bug of the caller's batch planner: ``FatalPlatformError``."""
    kinds = {r.object_type for r in records}
    if len(kinds) > 1:
        raise FatalPlatformError(f"one adapter call mixes object types: {sorted(kinds)}")
    return kinds.pop() if kinds else CONTACTS
