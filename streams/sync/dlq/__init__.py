"""Dead letters: what can never succeed, kept with its payload and the reason (``dead_letter``),
and their selection and replay (``replay``)."""

from __future__ import annotations

from streams.sync.dlq.dead_letter import (
    DLQ_HEADERS,
    DeadLetter,
    DeadLetterSink,
    DeadLetterWriteFailed,
    DeliveryCallback,
)

__all__ = [
    "DLQ_HEADERS",
    "DeadLetter",
    "DeadLetterSink",
    "DeadLetterWriteFailed",
    "DeliveryCallback",
]
