"""Coalesces concurrent enqueue requests into SendMessageBatch calls (up to 10 per call).

A lone request is sent at once when nothing is in flight; under load, the next batch lingers
until it has 10 messages or a few milliseconds passed (whichever is first), and messages that
arrive while a batch waits for a free sending slot join it. Each caller's ``send`` returns
only once the queue accepted *its* message, so a 202 is never answered early.

Every caller waits at most ``timeout_s`` in all (queued behind busy sending slots included), so
a hung queue endpoint answers 503 within that bound however many requests pile up; a message
whose caller gave up before its batch left is never sent (no 503 for a message later enqueued).
"""

from __future__ import annotations

import asyncio
import contextlib

from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.queue import MAX_BATCH_ENTRIES, QueueSender, QueueUnavailable

MAX_BATCH = MAX_BATCH_ENTRIES
MAX_BATCH_BYTES = 256 * 1024  # SendMessageBatch's limit on the sum of the message sizes

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
        self.messages_sent = 0

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
            self.messages_sent += len(batch)
            task = loop.create_task(self.__flush(batch))
            self.__flushes.add(task)
            task.add_done_callback(self.__flushes.discard)

    async def __send_sized(self, envelopes: list[WebhookEnvelope]) -> list[str | None]:
        """Send in as few calls as the batch byte limit allows."""
        results: list[str | None] = []
        for chunk in _chunks(envelopes):
            try:
                results.extend(await self.__sender.send_batch(chunk))
            except QueueUnavailable as exc:
                if len(chunk) == len(envelopes):
                    raise
                results.extend([str(exc)] * len(chunk))
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


def _chunks(envelopes: list[WebhookEnvelope]) -> list[list[WebhookEnvelope]]:
    """Consecutive groups whose encoded sizes sum to at most ``MAX_BATCH_BYTES``."""
    chunks: list[list[WebhookEnvelope]] = []
    size = 0
    for envelope in envelopes:
        envelope_size = envelope.size_bytes()
        if not chunks or size + envelope_size > MAX_BATCH_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(envelope)
        size += envelope_size
    return chunks
