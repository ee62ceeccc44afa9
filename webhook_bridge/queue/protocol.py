"""The queue boundary as the bridge sees it: SQS in production (``webhook_bridge.queue.sqs``,
``webhook_bridge.queue.sqs_send``), an in-memory fake in tests (``tests/fakes/memory_queue.py``),
both held to one contract suite (``tests/contract/test_queue_contract.py``).

Sending is asynchronous (the receiver's event loop, and the Lambda handler's own loop); the
receive side is blocking (the forwarder's receive and delete threads). Every failure of a call
as a whole is ``QueueUnavailable`` (transient: answer 503, or retry later); a failure of single
entries is reported per entry and never raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cdcbridge.errors import TransientError
from webhook_bridge.envelope import QueueBody

MAX_BATCH_ENTRIES = 10
"""SQS's limit on entries per batch call (send, delete, change visibility) and per receive."""


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
    """The one send path (receiver and Lambda alike). Use from one event loop."""

    async def send_batch(self, messages: Sequence[QueueBody]) -> list[str | None]:
        """Enqueue up to ``MAX_BATCH_ENTRIES`` messages (an envelope or a pack of them each) in
        one call.

        Returns one entry per message: ``None`` when the queue accepted it durably, else a
        failure code. Raises ``QueueUnavailable`` when the call as a whole failed.
        """
        ...

    async def ping(self) -> None:
        """Return if the queue answers; raise ``QueueUnavailable`` otherwise."""
        ...

    async def aclose(self) -> None:
        """Release connections (at shutdown)."""
        ...


class QueueReceiver(Protocol):
    """The forwarder's side; blocking, safe to call from several threads."""

    def receive(self, max_messages: int, wait_s: float) -> list[QueueMessage]:
        """Long-poll up to ``max_messages`` (<= 10) for at most ``wait_s`` seconds; an empty
        list when none arrived. Each message received is invisible to other receives for the
        queue's visibility timeout. Raises ``QueueUnavailable``."""
        ...

    def delete(self, receipt_handles: Sequence[str]) -> list[str]:
        """Delete messages; returns the handles that failed (a stale handle: the message was
        received again since, or is gone). Raises ``QueueUnavailable``."""
        ...

    def release(self, receipt_handle: str) -> None:
        """Make a message visible again now (counts towards the redrive limit)."""
        ...

    def extend(self, receipt_handles: Sequence[str], visibility_timeout_s: int) -> list[str]:
        """Keep messages invisible ``visibility_timeout_s`` more seconds (still being worked
        on; does not count towards the redrive limit). Returns the handles that failed.
        Raises ``QueueUnavailable``."""
        ...
