"""Kafka record of ``marketing.engagement.v1`` -> ``InboundEvent`` | ``RejectedRecord``. Pure.

Values are the forwarder's schemaless Avro (``webhook_bridge.avro_codec``), writer schema
named by the ``schema_fingerprint`` header. A record this reader cannot decode becomes a
``RejectedRecord`` carrying its raw bytes and the reason: it is stored, never dropped. So
does an event PostgreSQL could not store as text (a NUL character in any string).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from webhook_bridge.avro_codec import FINGERPRINT_HEADER, EngagementCodec


@dataclass(frozen=True)
class Position:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class InboundEvent:
    """One engagement event as writeback stores it (canonical field names)."""

    position: Position
    event_id: str
    type: str
    source_platform: str
    occurred_at: datetime
    received_at: datetime
    trace_id: str
    email: str | None = None
    platform_contact_id: str | None = None
    source_id: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[str, str]:
        """The dedupe key: (source platform, event id)."""
        return (self.source_platform, self.event_id)


@dataclass(frozen=True)
class RejectedRecord:
    position: Position
    key: bytes | None
    value: bytes | None
    reason: str


@functools.cache
def default_codec() -> EngagementCodec:
    return EngagementCodec()


def decode_record(
    position: Position,
    key: bytes | None,
    value: bytes | None,
    headers: Mapping[str, bytes],
    codec: EngagementCodec | None = None,
) -> InboundEvent | RejectedRecord:
    """Decode one record; never raises for bad input (returns ``RejectedRecord``)."""
    codec = codec or default_codec()
    if not value:
        return RejectedRecord(position, key, value, "empty value")
    written_with = headers.get(FINGERPRINT_HEADER)
    if written_with is not None and written_with.decode(errors="replace") != codec.fingerprint:
        reason = f"unknown writer schema fingerprint {written_with!r}"
        return RejectedRecord(position, key, value, reason)
    try:
        record = codec.decode(value)
    except (ValueError, TypeError, EOFError, IndexError, KeyError, UnicodeDecodeError) as exc:
        return RejectedRecord(position, key, value, f"not an engagement event: {exc!r}")
    if _holds_nul(record):
        reason = "contains a NUL character, which PostgreSQL text cannot store"
        return RejectedRecord(position, key, value, reason)
    return InboundEvent(
        position=position,
        event_id=str(record["event_id"]),
        type=str(record["type"]),
        source_platform=str(record["source_platform"]),
        occurred_at=record["occurred_at"],
        received_at=record["received_at"],
        trace_id=str(record["trace_id"]),
        email=(record.get("email") or None),
        platform_contact_id=record.get("platform_contact_id"),
        source_id=record.get("source_id"),
        attributes=dict(record.get("attributes") or {}),
    )


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False
