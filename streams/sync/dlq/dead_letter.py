"""Dead letters: records that can never succeed, kept with their payload and the reason.

A dead letter is produced to ``cdcbridge.sync.dlq`` with the original key and value and the
headers ``trace_id``, ``error_class``, ``error_message``, ``original_topic``,
``original_partition``, ``original_offset`` (plus the original record's own headers). Its
source offset counts as done only once the DLQ write is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cdcbridge.errors import FatalError
from streams.sync.coalesce import SourceRecord

DLQ_HEADERS = (
    "trace_id",
    "error_class",
    "error_message",
    "original_topic",
    "original_partition",
    "original_offset",
)
MAX_ERROR_MESSAGE = 2000


@dataclass(frozen=True)
class DeadLetter:
    record: SourceRecord
    error_class: str
    error_message: str

    def headers(self) -> list[tuple[str, bytes]]:
        """The original headers (minus ours) followed by the DLQ headers."""
        position = self.record.position
        ours = {
            "trace_id": self.record.trace_id,
            "error_class": self.error_class,
            "error_message": self.error_message[:MAX_ERROR_MESSAGE],
            "original_topic": position.topic,
            "original_partition": str(position.partition),
            "original_offset": str(position.offset),
        }
        kept = [(k, v) for k, v in position.headers.items() if k not in ours]
        return kept + [(k, v.encode()) for k, v in ours.items()]


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
