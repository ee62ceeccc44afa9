"""An in-memory queue with the SQS semantics the bridge relies on, held to the same contract
suite as ElasticMQ (``tests/contract/test_queue_contract.py``): visibility timeout, receive
counts, redrive to a dead-letter list after ``max_receive_count`` receives, a fresh receipt
handle per receive (an older one no longer deletes or extends), per-entry failures for message
bodies SQS refuses, and long polls that wait for a send. ``available = False`` simulates an
outage (every call raises ``QueueUnavailable``).

Implements ``QueueSender`` (async) and ``QueueReceiver``; ``put`` enqueues synchronously for
tests that seed the queue. Thread-safe; visibility follows the injected clock, a long poll
waits in real time (at most ``wait_s``) for a send.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cdcbridge.clock import Clock
from webhook_bridge.config import SQS_UNSENDABLE
from webhook_bridge.envelope import QueueBody
from webhook_bridge.queue import MAX_BATCH_ENTRIES, QueueMessage, QueueUnavailable

_POLL_STEP_S = 0.02


@dataclass
class _Stored:
    message_id: str
    body: str
    visible_at: float = 0.0
    receive_count: int = 0
    receipt: str = ""
    sent_at_ms: int = 0


class InMemoryQueue:
    def __init__(
        self, clock: Clock, visibility_timeout_s: float = 30.0, max_receive_count: int = 5
    ) -> None:
        self.__clock = clock
        self.__visibility = visibility_timeout_s
        self.__max_receives = max_receive_count
        self.__lock = threading.Condition()
        self.__ids = itertools.count(1)
        self.__messages: dict[str, _Stored] = {}
        self.dead_letters: list[QueueMessage] = []
        self.available = True
        self.batch_sizes: list[int] = []

    def __check(self) -> None:
        if not self.available:
            raise QueueUnavailable("in-memory queue switched off")

    def put(self, envelopes: Sequence[QueueBody]) -> list[str | None]:
        """``send_batch`` for synchronous callers that seed the queue (any number at once)."""
        with self.__lock:
            self.__check()
            self.batch_sizes.append(len(envelopes))
            results: list[str | None] = []
            for envelope in envelopes:
                body = envelope.encode()
                if SQS_UNSENDABLE.search(body):
                    results.append("InvalidMessageContents")
                    continue
                message_id = f"m{next(self.__ids)}"
                sent_at_ms = int(self.__clock.time() * 1000)
                self.__messages[message_id] = _Stored(message_id, body, sent_at_ms=sent_at_ms)
                results.append(None)
            self.__lock.notify_all()
            return results

    async def send_batch(self, envelopes: Sequence[QueueBody]) -> list[str | None]:
        if len(envelopes) > MAX_BATCH_ENTRIES:  # SQS: TooManyEntriesInBatchRequest
            raise QueueUnavailable(f"{len(envelopes)} entries in one batch")
        return self.put(envelopes)

    async def ping(self) -> None:
        self.__check()

    async def aclose(self) -> None:
        return None

    def receive(self, max_messages: int, wait_s: float) -> list[QueueMessage]:
        deadline = time.monotonic() + wait_s
        with self.__lock:
            while True:
                out = self.__receive_now(max(1, min(max_messages, MAX_BATCH_ENTRIES)))
                remaining = deadline - time.monotonic()
                if out or remaining <= 0:
                    return out
                self.__lock.wait(min(remaining, _POLL_STEP_S))

    def __receive_now(self, max_messages: int) -> list[QueueMessage]:
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
                self.__lock.notify_all()

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
            stored.message_id, stored.receipt, stored.body, {}, stored.receive_count,
            stored.sent_at_ms,
        )  # fmt: skip
