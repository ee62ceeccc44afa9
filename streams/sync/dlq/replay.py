"""Selecting dead letters (``--since``, ``--filter``) and turning them back into source records.

Replay re-produces a dead letter's original key and value to its original topic with its
original headers and the same ``trace_id``, so it flows through the normal path (decode, map,
coalesce, deliver) in the key's order; ``replayed_from`` says which DLQ record it came from.
Pure: the Kafka reads and writes are in ``streams.sync.kafka_boundary``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from streams.sync.dlq.dead_letter import DLQ_HEADERS, DLQ_SOURCE

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_since(text: str, now_s: float) -> int:
    """``--since`` as epoch ms: an ISO 8601 time (``2026-11-30T04:00:00+00:00``) or a duration
    back from now (``90s``, ``15m``, ``2h``, ``1d``). Raises ``ValueError``."""
    match = _DURATION.match(text.strip())
    if match:
        return int((now_s - float(match.group(1)) * _UNITS[match.group(2)]) * 1000)
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        raise ValueError(f"--since needs a timezone or a duration, got {text!r}")
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class LetterFilter:
    """``header=value`` terms must all match exactly; bare terms must appear in the error
    message or the payload."""

    headers: Mapping[str, str]
    substrings: Sequence[str]

    @classmethod
    def parse(cls, terms: Sequence[str]) -> LetterFilter:
        headers: dict[str, str] = {}
        substrings: list[str] = []
        for term in terms:
            name, sep, value = term.partition("=")
            if sep and name:
                headers[name] = value
            else:
                substrings.append(term)
        return cls(headers, substrings)

    def matches(self, headers: Mapping[str, bytes], value: bytes | None) -> bool:
        for name, wanted in self.headers.items():
            if headers.get(name, b"").decode(errors="replace") != wanted:
                return False
        haystack = headers.get("error_message", b"") + b"\n" + (value or b"")
        return all(s.encode() in haystack for s in self.substrings)


@dataclass(frozen=True)
class ReplayRecord:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def replay_record(
    headers: Mapping[str, bytes], key: bytes | None, value: bytes | None, dlq_coordinates: str
) -> ReplayRecord:
    """The source record to re-produce for one dead letter. Raises ``ValueError`` when the
    dead letter does not name its original topic."""
    topic = headers.get("original_topic", b"").decode()
    if not topic:
        raise ValueError(f"dead letter {dlq_coordinates} has no original_topic header")
    kept = [(k, v) for k, v in headers.items() if k not in DLQ_HEADERS and k != "replayed_from"]
    kept.extend(_original_identity(headers))
    kept.append(("trace_id", headers.get("trace_id", b"")))
    kept.append(("replayed_from", dlq_coordinates.encode()))
    return ReplayRecord(topic, key, value, kept)


def _original_identity(headers: Mapping[str, bytes]) -> list[tuple[str, bytes]]:
    """``event_id`` and ``source`` as the original record carried them: the values the dead
    letter derived for a record without them (see ``dead_letter``) are not put back."""
    derived_id = b":".join(
        headers.get(k, b"") for k in ("original_topic", "original_partition", "original_offset")
    )
    identity = []
    if headers.get("event_id", derived_id) != derived_id:
        identity.append(("event_id", headers["event_id"]))
    if headers.get("source", DLQ_SOURCE.encode()) != DLQ_SOURCE.encode():
        identity.append(("source", headers["source"]))
    return identity


def age(timestamp_ms: int, now_s: float) -> timedelta:
    return timedelta(seconds=max(now_s - timestamp_ms / 1000.0, 0.0))
