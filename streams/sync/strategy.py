"""The sync engine as an arroyo processing step, ending in ``CommitOffsets``.

arroyo's ``StreamProcessor`` owns the poll loop and rebalances: it builds one
``SyncStrategy`` per assignment (``create_with_partitions``), pauses the partitions when
``submit`` raises ``MessageRejected`` (our backpressure) and, on revocation or shutdown, calls
``close`` + ``join(timeout)``: the strategy sends no new batch, waits (within the deadline)
for the batches in flight, forwards the offsets that are done to ``CommitOffsets`` (which
commits them) and drops the rest, which the next owner of the partition re-reads.

``abandon`` (the poll watchdog's, when the consumer is stuck and is being replaced) drops the
work in flight at once and commits nothing more: the replacement consumer re-reads every record
not committed yet, and the upserts are idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor

from arroyo.backends.kafka import KafkaPayload
from arroyo.processing.strategies import CommitOffsets, MessageRejected, ProcessingStrategy
from arroyo.processing.strategies.abstract import ProcessingStrategyFactory
from arroyo.types import Commit, Message, Partition, Topic, Value

from streams.contracts import KafkaPosition
from streams.sync.dlq import DeadLetterSink
from streams.sync.engine import Backpressure, SyncEngine
from streams.sync.engine_config import StopReport

log = logging.getLogger(__name__)

EngineBuilder = Callable[[Executor, threading.Event], SyncEngine]
"""Builds a fresh engine for one assignment, given its worker pool and stop flag."""
AssignmentListener = Callable[[int], None]
"""Told how many partitions this instance now owns (for the rate-limit share)."""
StopListener = Callable[[StopReport], None]
"""Told what each strategy's stop (revocation or shutdown) left undone."""


class SyncStrategy(ProcessingStrategy[KafkaPayload]):
    def __init__(
        self,
        engine: SyncEngine,
        next_step: ProcessingStrategy[None],
        dead_letters: DeadLetterSink,
        executor: ThreadPoolExecutor,
        stop: threading.Event,
        drain_timeout_s: float,
        on_stop: StopListener = lambda _report: None,
    ) -> None:
        self.__on_stop = on_stop
        self.__engine = engine
        self.__next_step = next_step
        self.__dead_letters = dead_letters
        self.__executor = executor
        self.__stop = stop
        self.__drain_timeout_s = drain_timeout_s
        self.__abandoned = False
        self.__dispatcher = threading.Thread(
            target=engine.run_dispatcher, args=(stop,), name="sync-dispatcher", daemon=True
        )
        self.__dispatcher.start()

    def submit(self, message: Message[KafkaPayload]) -> None:
        """Hand one record to the engine; ``MessageRejected`` when too much is outstanding."""
        ((partition, offset),) = message.committable.items()
        payload = message.payload
        stamp = message.timestamp
        position = KafkaPosition(
            partition.topic.name,
            partition.index,
            offset - 1,
            dict(payload.headers),
            None if stamp is None else int(stamp.timestamp() * 1000),
        )
        # arroyo turns a tombstone's null value into b"" (never a valid JSON document).
        value = payload.value or None
        try:
            self.__engine.submit(position, payload.key, value)
        except Backpressure as exc:
            raise MessageRejected(str(exc)) from exc

    def poll(self) -> None:
        """Serve DLQ confirmations, forward committable offsets. Raises a stored failure."""
        if self.__abandoned:
            return
        self.__dead_letters.flush(0)
        self.__engine.check()
        self.__forward()
        self.__next_step.poll()

    def __forward(self) -> None:
        committable = self.__engine.take_committable()
        if committable:
            offsets: Mapping[Partition, int] = {
                Partition(Topic(topic), index): offset
                for (topic, index), offset in committable.items()
            }
            self.__next_step.submit(Message(Value(None, offsets)))

    def close(self) -> None:
        return None

    def abandon(self) -> None:
        """Drop the work in flight without committing (from any thread): the engine stops, the
        pool's queued deliveries are cancelled, and ``poll``/``join`` forward no offsets."""
        self.__abandoned = True
        self.__stop.set()
        self.__executor.shutdown(wait=False, cancel_futures=True)

    def terminate(self) -> None:
        self.__stop.set()
        self.__executor.shutdown(wait=False, cancel_futures=True)
        self.__next_step.terminate()

    def join(self, timeout: float | None = None) -> None:
        """Finish the batches in flight within the deadline, commit what is done, drop the
        rest (it is re-read by whoever owns the partition next). Abandoned: commits nothing."""
        if self.__abandoned:
            return
        deadline = (
            self.__drain_timeout_s if timeout is None else min(timeout, self.__drain_timeout_s)
        )
        started = time.monotonic()
        if not self.__engine.quiesce(deadline):
            log.warning("deadline reached with batches in flight; they will be re-sent")
        self.__dead_letters.flush(max(deadline - (time.monotonic() - started), 0.0))
        self.__stop.set()
        self.__executor.shutdown(wait=False, cancel_futures=True)
        self.__forward()
        self.__on_stop(self.__engine.report_stop())
        self.__next_step.close()
        self.__next_step.join(timeout)


class SyncStrategyFactory(ProcessingStrategyFactory[KafkaPayload]):
    def __init__(
        self,
        build_engine: EngineBuilder,
        dead_letters: DeadLetterSink,
        concurrency: int,
        drain_timeout_s: float,
        on_assignment: AssignmentListener,
    ) -> None:
        self.__build_engine = build_engine
        self.__dead_letters = dead_letters
        self.__concurrency = concurrency
        self.__drain_timeout_s = drain_timeout_s
        self.__on_assignment = on_assignment
        self.last_stop = StopReport(0, 0)
        """What the latest strategy's stop (revocation or shutdown) left undone."""
        self.__current: SyncStrategy | None = None
        self.__abandoned = False

    def __stopped(self, report: StopReport) -> None:
        self.last_stop = report

    def abandon(self) -> None:
        """Abandon the current strategy (``SyncStrategy.abandon``) and any created later (the
        consumer being replaced may still call back from a stuck thread)."""
        self.__abandoned = True
        if self.__current is not None:
            self.__current.abandon()

    def create_with_partitions(
        self, commit: Commit, partitions: Mapping[Partition, int]
    ) -> ProcessingStrategy[KafkaPayload]:
        self.__on_assignment(len(partitions))
        executor = ThreadPoolExecutor(self.__concurrency, thread_name_prefix="sync-deliver")
        stop = threading.Event()
        engine = self.__build_engine(executor, stop)
        strategy = SyncStrategy(
            engine,
            CommitOffsets(commit),
            self.__dead_letters,
            executor,
            stop,
            self.__drain_timeout_s,
            self.__stopped,
        )
        self.__current = strategy
        if self.__abandoned:
            strategy.abandon()
        return strategy
