"""An in-memory queue with SQS semantics that matter here: visibility timeout, receive counts,
redrive to a dead-letter list after ``max_receive_count`` receives, and an on/off switch to
simulate an outage. Thread-safe; time comes from an injected clock."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from cdcbridge.clock import Clock
from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.queue import QueueMessage, QueueUnavailable


@dataclass
class _Stored:
    message_id: str
    body: str
    attributes: dict[str, str]
    visible_at: float = 0.0
    receive_count: int = 0
    receipt: str = ""
    sent_at_ms: int = 0


class InMemoryQueue:
    """Implements ``QueueSender`` and ``QueueReceiver``."""

    def __init__(
        self, clock: Clock, visibility_timeout_s: float = 30.0, max_receive_count: int = 5
    ) -> None:
        self.__clock = clock
        self.__visibility = visibility_timeout_s
        self.__max_receives = max_receive_count
        self.__lock = threading.Lock()
        self.__ids = itertools.count(1)
        self.__messages: dict[str, _Stored] = {}
        self.dead_letters: list[QueueMessage] = []
        self.available = True
        self.batch_sizes: list[int] = []

    def __check(self) -> None:
        if not self.available:
            raise QueueUnavailable("in-memory queue switched off")

    def send_batch(self, envelopes: Sequence[WebhookEnvelope]) -> list[str | None]:
        with self.__lock:
            self.__check()
            self.batch_sizes.append(len(envelopes))
            for envelope in envelopes:
                message_id = f"m{next(self.__ids)}"
                self.__messages[message_id] = _Stored(
                    message_id, envelope.encode(), {}, sent_at_ms=int(self.__clock.time() * 1000)
                )
            return [None] * len(envelopes)

    def ping(self) -> None:
        self.__check()

    def receive(self, max_messages: int, wait_s: float) -> list[QueueMessage]:
        with self.__lock:
            self.__check()
            now = self.__clock.monotonic()
            out: list[QueueMessage] = []
            for stored in list(self.__messages.values()):
                if len(out) >= max_messages or stored.visible_at > now:
                    continue
                stored.receive_count += 1
                if stored.receive_count > self.__max_receives:
                    del self.__messages[stored.message_id]
                    self.dead_letters.append(self.__snapshot(stored))
                    continue
                stored.visible_at = now + self.__visibility
                stored.receipt = f"{stored.message_id}#{stored.receive_count}"
                out.append(self.__snapshot(stored))
            return out

    def delete(self, receipt_handles: Sequence[str]) -> list[str]:
        with self.__lock:
            self.__check()
            failed = []
            for handle in receipt_handles:
                message_id = handle.partition("#")[0]
                stored = self.__messages.get(message_id)
                if stored is None or stored.receipt != handle:
                    failed.append(handle)
                else:
                    del self.__messages[message_id]
            return failed

    def release(self, receipt_handle: str) -> None:
        with self.__lock:
            self.__check()
            stored = self.__messages.get(receipt_handle.partition("#")[0])
            if stored is not None and stored.receipt == receipt_handle:
                stored.visible_at = self.__clock.monotonic()

    def extend(self, receipt_handles: Sequence[str], visibility_timeout_s: int) -> list[str]:
        with self.__lock:
            self.__check()
            failed = []
            now = self.__clock.monotonic()
            for handle in receipt_handles:
                stored = self.__messages.get(handle.partition("#")[0])
                if stored is None or stored.receipt != handle or stored.visible_at <= now:
                    failed.append(handle)
                else:
                    stored.visible_at = now + visibility_timeout_s
            return failed

    def depth(self) -> int:
        """Messages not yet deleted or dead-lettered."""
        with self.__lock:
            return len(self.__messages)

    @staticmethod
    def __snapshot(stored: _Stored) -> QueueMessage:
        return QueueMessage(
            stored.message_id, stored.receipt, stored.body, dict(stored.attributes),
            stored.receive_count, stored.sent_at_ms,
        )  # fmt: skip
