"""Coalesces concurrent enqueue requests into SendMessageBatch calls (up to 10 per call).

A lone request is sent at once when nothing is in flight; under load, messages that arrive while
batches are in flight, plus a short linger, fill the next batch. Each caller's ``send`` returns
only once the queue accepted *its* message, so a 202 is never answered early.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.queue import QueueSender, QueueUnavailable

MAX_BATCH = 10

_Item = tuple[WebhookEnvelope, "asyncio.Future[None]"]


class SendBatcher:
    """Runs on one event loop. ``start`` before the first ``send``; ``stop`` flushes nothing
    pending beyond what is already in flight (callers of pending sends get ``QueueUnavailable``).
    """

    def __init__(
        self,
        sender: QueueSender,
        *,
        linger_s: float = 0.002,
        max_in_flight: int = 8,
        timeout_s: float = 5.0,
    ) -> None:
        self.__sender = sender
        self.__linger_s = linger_s
        self.__timeout_s = timeout_s
        self.__slots = asyncio.Semaphore(max_in_flight)
        self.__in_flight = 0
        self.__pending: asyncio.Queue[_Item] = asyncio.Queue()
        self.__executor = ThreadPoolExecutor(max_in_flight, thread_name_prefix="sqs-send")
        self.__dispatcher: asyncio.Task[None] | None = None
        self.__flushes: set[asyncio.Task[None]] = set()

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
            future.set_exception(QueueUnavailable("receiver shutting down"))
        self.__executor.shutdown(wait=False)

    async def send(self, envelope: WebhookEnvelope) -> None:
        """Return once the queue durably holds ``envelope``. Raises ``QueueUnavailable``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.__pending.put_nowait((envelope, future))
        await future

    def __drain(self, batch: list[_Item]) -> None:
        while len(batch) < MAX_BATCH and not self.__pending.empty():
            batch.append(self.__pending.get_nowait())

    async def __dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.__pending.get()]
            self.__drain(batch)
            if len(batch) < MAX_BATCH and self.__in_flight > 0 and self.__linger_s > 0:
                await asyncio.sleep(self.__linger_s)
                self.__drain(batch)
            await self.__slots.acquire()
            self.__drain(batch)
            self.__in_flight += 1
            task = loop.create_task(self.__flush(batch))
            self.__flushes.add(task)
            task.add_done_callback(self.__flushes.discard)

    async def __flush(self, batch: list[_Item]) -> None:
        loop = asyncio.get_running_loop()
        envelopes = [envelope for envelope, _ in batch]
        try:
            call = loop.run_in_executor(self.__executor, self.__sender.send_batch, envelopes)
            results = await asyncio.wait_for(call, self.__timeout_s)
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
