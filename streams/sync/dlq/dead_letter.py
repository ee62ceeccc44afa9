"""Dead letters: records that can never succeed, kept with their payload and the reason.

A dead letter is produced to ``cdcbridge.sync.dlq`` with the original key and value and the
headers ``trace_id``, ``event_id``, ``source``, ``error_class``, ``error_message``,
``original_topic``, ``original_partition``, ``original_offset``, ``source_table`` (the mapped
table the record is a change of, e.g. ``public.customers``: one sync serves many tables; empty
when unknown) (plus the original record's own headers). ``event_id`` and ``source`` are the
original record's when it carries them; otherwise ``event_id`` is
``<topic>:<partition>:<offset>`` (the same on every replay, so consumers can drop duplicates)
and ``source`` is ``cdcbridge-sync``. Its source offset counts as done only once the DLQ write
is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cdcbridge.errors import FatalError
from streams.sync.coalesce import SourceRecord

DLQ_HEADERS = (
    "trace_id",
    "event_id",
    "source",
    "error_class",
    "error_message",
    "original_topic",
    "original_partition",
    "original_offset",
    "source_table",
)
MAX_ERROR_MESSAGE = 2000
DLQ_SOURCE = "cdcbridge-sync"


@dataclass(frozen=True)
class DeadLetter:
    record: SourceRecord
    error_class: str
    error_message: str

    def headers(self) -> list[tuple[str, bytes]]:
        """The original headers (minus ours) followed by the DLQ headers."""
        position = self.record.position
        given = position.headers
        derived_id = f"{position.topic}:{position.partition}:{position.offset}".encode()
        ours: dict[str, bytes] = {
            "trace_id": self.record.trace_id.encode(),
            "event_id": given.get("event_id") or derived_id,
            "source": given.get("source") or DLQ_SOURCE.encode(),
            "error_class": self.error_class.encode(),
            "error_message": self.error_message[:MAX_ERROR_MESSAGE].encode(),
            "original_topic": position.topic.encode(),
            "original_partition": str(position.partition).encode(),
            "original_offset": str(position.offset).encode(),
            "source_table": self.record.table.encode(),
        }
        kept = [(k, v) for k, v in given.items() if k not in ours]
        return kept + list(ours.items())


DeliveryCallback = Callable[[str | None], None]
"""Called once the write is settled: ``None`` on success, the error text otherwise."""


class DeadLetterSink(Protocol):
    """Where dead letters go. ``send`` must not block; ``flush`` waits for confirmations."""

    def send(self, letter: DeadLetter, on_settled: DeliveryCallback) -> None: ...

    def flush(self, timeout_s: float) -> int:
        """Wait for outstanding writes; returns how many are still unconfirmed."""
        ...


class DeadLetterWriteFailed(FatalError):
    """The DLQ itself refused a record; the source offset stays uncommitted. Stop loudly."""
