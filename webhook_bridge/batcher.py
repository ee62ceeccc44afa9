"""Coalesces concurrent enqueue requests into packed queue messages and SendMessageBatch calls.

A lone request is sent at once when nothing is in flight; under load, the next batch lingers
until it has ``MAX_BATCH`` webhooks or a few milliseconds passed (whichever is first), and
webhooks that arrive while a batch waits for a free sending slot join it. A batch goes out as
packs (``envelope.EnvelopePack``: up to ``MAX_PACK`` webhooks in one queue message, within the
message size limit), up to 10 packs a call: the queue stores, hands out and deletes one message
where it would handle up to ``MAX_PACK`` (real SQS bills per request and per 64 KiB of it).
Each caller's ``send`` returns only once the queue accepted the message holding *its* webhook,
so a 202 is never answered early.

Every caller waits at most ``timeout_s`` in all (queued behind busy sending slots included), so
a hung queue endpoint answers 503 within that bound however many requests pile up; a message
whose caller gave up before its batch left is never sent (no 503 for a message later enqueued).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import TypeVar

from webhook_bridge.config import SQS_MAX_MESSAGE_BYTES
from webhook_bridge.envelope import EnvelopePack, WebhookEnvelope
from webhook_bridge.queue import MAX_BATCH_ENTRIES, QueueSender, QueueUnavailable

MAX_PACK = 20
"""Webhooks in one queue message at most. A pack is deleted only once all its webhooks are on
Kafka, and one the forwarder cannot forward is redriven whole: the bound keeps that unit small."""
MAX_BATCH = MAX_BATCH_ENTRIES * MAX_PACK  # webhooks a batch waits for
MAX_BATCH_BYTES = 256 * 1024  # SendMessageBatch's limit on the sum of the message sizes
_T = TypeVar("_T")

_Item = tuple[WebhookEnvelope, "asyncio.Future[None]"]


class SendBatcher:
    """Runs on one event loop. ``start`` before the first ``send``; ``stop`` flushes nothing
    pending beyond what is already in flight (callers of pending sends get ``QueueUnavailable``).
    """

    def __init__(
        self,
        sender: QueueSender,
        *,
        linger_s: float = 0.004,
        max_in_flight: int = 8,
        timeout_s: float = 5.0,
    ) -> None:
        self.__sender = sender
        self.__linger_s = linger_s
        self.__timeout_s = timeout_s
        self.__slots = asyncio.Semaphore(max_in_flight)
        self.__in_flight = 0
        self.__pending: asyncio.Queue[_Item] = asyncio.Queue()
        self.__more = asyncio.Event()
        self.__want = 0  # messages the lingering dispatcher still waits for (0: not lingering)
        self.__dispatcher: asyncio.Task[None] | None = None
        self.__flushes: set[asyncio.Task[None]] = set()
        self.batches_sent = 0
        self.webhooks_sent = 0
        self.messages_sent = 0  # queue messages (packs) those webhooks went in

    async def start(self) -> None:
        self.__dispatcher = asyncio.get_running_loop().create_task(self.__dispatch())

    async def stop(self) -> None:
        if self.__dispatcher is not None:
            self.__dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.__dispatcher
        if self.__flushes:
            await asyncio.wait(self.__flushes)
        while not self.__pending.empty():
            _, future = self.__pending.get_nowait()
            if not future.done():  # a caller that timed out has a cancelled future
                future.set_exception(QueueUnavailable("receiver shutting down"))
        await self.__sender.aclose()

    async def send(self, envelope: WebhookEnvelope) -> None:
        """Return once the queue durably holds ``envelope``. Raises ``QueueUnavailable``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.__pending.put_nowait((envelope, future))
        if self.__want and self.__pending.qsize() >= self.__want:
            self.__more.set()
        try:
            await asyncio.wait_for(future, self.__timeout_s)  # cancels the future on timeout
        except TimeoutError as exc:
            raise QueueUnavailable(f"not enqueued within {self.__timeout_s} s") from exc

    def __drain(self, batch: list[_Item]) -> None:
        while len(batch) < MAX_BATCH and not self.__pending.empty():
            item = self.__pending.get_nowait()
            if not item[1].done():  # its caller already gave up
                batch.append(item)

    async def __dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.__pending.get()]
            self.__drain(batch)
            if len(batch) < MAX_BATCH and self.__in_flight > 0 and self.__linger_s > 0:
                await self.__linger(MAX_BATCH - len(batch))
                self.__drain(batch)
            await self.__slots.acquire()
            self.__drain(batch)
            batch = [item for item in batch if not item[1].done()]
            if not batch:
                self.__slots.release()
                continue
            self.__in_flight += 1
            self.batches_sent += 1
            self.webhooks_sent += len(batch)
            task = loop.create_task(self.__flush(batch))
            self.__flushes.add(task)
            task.add_done_callback(self.__flushes.discard)

    async def __send_sized(self, envelopes: list[WebhookEnvelope]) -> list[str | None]:
        """Send as packs, in as few calls as the size limits allow; one result per envelope."""
        packs = [EnvelopePack(tuple(group)) for group in
                 _groups(envelopes, WebhookEnvelope.size_bytes, MAX_PACK, SQS_MAX_MESSAGE_BYTES)]
        self.messages_sent += len(packs)
        calls = _groups(packs, EnvelopePack.size_bytes, MAX_BATCH_ENTRIES, MAX_BATCH_BYTES)
        results: list[str | None] = []
        for call in calls:
            try:
                failures = await self.__sender.send_batch(call)
            except QueueUnavailable as exc:
                if len(calls) == 1:
                    raise
                failures = [str(exc)] * len(call)
            for pack, failure in zip(call, failures, strict=True):
                results.extend([failure] * len(pack.envelopes))
        return results

    async def __linger(self, want: int) -> None:
        """Wait until ``want`` more messages are pending or the linger time is up."""
        self.__want = want
        self.__more.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.__linger_s):
                await self.__more.wait()
        self.__want = 0

    async def __flush(self, batch: list[_Item]) -> None:
        envelopes = [envelope for envelope, _ in batch]
        try:
            results = await asyncio.wait_for(self.__send_sized(envelopes), self.__timeout_s)
            for (_, future), failure in zip(batch, results, strict=True):
                if future.done():
                    continue
                if failure is None:
                    future.set_result(None)
                else:
                    future.set_exception(QueueUnavailable(f"entry rejected: {failure}"))
        except (QueueUnavailable, TimeoutError) as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(QueueUnavailable(str(exc) or "send timed out"))
        finally:
            for _, future in batch:  # an unexpected error must not leave a caller hanging
                if not future.done():
                    future.set_exception(QueueUnavailable("send failed"))
            self.__in_flight -= 1
            self.__slots.release()


def _groups(
    items: Sequence[_T], size_of: Callable[[_T], int], max_count: int, max_bytes: int
) -> list[list[_T]]:
    """Consecutive groups of at most ``max_count`` items whose sizes sum to at most
    ``max_bytes`` (an item larger than that alone is a group of its own)."""
    groups: list[list[_T]] = []
    size = 0
    for item in items:
        item_size = size_of(item)
        if not groups or len(groups[-1]) >= max_count or size + item_size > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += item_size
    return groups
