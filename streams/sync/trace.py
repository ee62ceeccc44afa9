"""Trace ids: from the record's ``trace_id`` header when present, else from the source.

The source-derived id comes from the mapping (LSN + table + key, stable across replays). A
record that cannot even be decoded gets an id derived from its Kafka coordinates and key,
equally stable when the same record is read again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

TRACE_HEADER = "trace_id"


def header_trace_id(headers: Mapping[str, bytes]) -> str | None:
    raw = headers.get(TRACE_HEADER)
    if not raw:
        return None
    return raw.decode("utf-8", errors="replace")


def fallback_trace_id(topic: str, partition: int, offset: int, key: bytes | None) -> str:
    digest = hashlib.sha256(f"{topic}:{partition}:{offset}:".encode() + (key or b""))
    return digest.hexdigest()[:32]
