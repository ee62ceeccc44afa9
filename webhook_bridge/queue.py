"""The queue boundary as the bridge sees it (SQS in production, in-memory in unit tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cdcbridge.errors import TransientError
from webhook_bridge.envelope import WebhookEnvelope


class QueueUnavailable(TransientError):
    """The queue could not be reached or refused the call for a transient reason (retry later)."""


@dataclass(frozen=True)
class QueueMessage:
    """One received message. ``receive_count`` is how often it was delivered (1 the first time)."""

    message_id: str
    receipt_handle: str
    body: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    receive_count: int = 1
    sent_at_ms: int | None = None
    """When the queue accepted it (SQS ``SentTimestamp``), if the queue said."""


class QueueSender(Protocol):
    def send_batch(self, envelopes: Sequence[WebhookEnvelope]) -> list[str | None]:
        """Enqueue up to 10 envelopes in one call; blocking.

        Returns one entry per envelope: ``None`` when the queue accepted it durably, else a
        failure code. Raises ``QueueUnavailable`` when the call as a whole failed.
        """
        ...

    def ping(self) -> None:
        """Return if the queue answers; raise ``QueueUnavailable`` otherwise."""
        ...


class QueueReceiver(Protocol):
    def receive(self, max_messages: int, wait_s: float) -> list[QueueMessage]:
        """Long-poll up to ``max_messages`` (<= 10). Raises ``QueueUnavailable``."""
        ...

    def delete(self, receipt_handles: Sequence[str]) -> list[str]:
        """Delete messages; returns the handles that failed. Raises ``QueueUnavailable``."""
        ...

    def release(self, receipt_handle: str) -> None:
        """Make a message visible again now (counts towards the redrive limit)."""
        ...

    def extend(self, receipt_handles: Sequence[str], visibility_timeout_s: int) -> list[str]:
        """Keep messages invisible ``visibility_timeout_s`` more seconds (still being worked
        on; does not count towards the redrive limit). Returns the handles that failed.
        Raises ``QueueUnavailable``."""
        ...


class AsyncQueueSender(Protocol):
    """``send_batch`` on the event loop (the receiver's hot path)."""

    async def send_batch(self, envelopes: Sequence[WebhookEnvelope]) -> list[str | None]:
        """Like ``QueueSender.send_batch``. Raises ``QueueUnavailable``."""
        ...

    async def aclose(self) -> None: ...
