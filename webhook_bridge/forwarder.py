"""SQS -> Kafka forwarder: long-poll, normalise, produce, and delete only after delivery.

Per message: envelope -> mapping of its source -> canonical events -> Avro -> one record per
event on ``marketing.engagement.v1`` (key = contact identifier; headers ``trace_id``,
``event_id``, ``source``, ``schema_fingerprint``). The bookkeeping (when to delete, retry,
release, extend, replace the producer) is ``forward_core.ForwardCore``; this module runs it.

Pipeline (``run``): ``receivers`` threads long-poll SQS concurrently (10 messages a call) into
an inbox; the main thread normalises and produces without waiting for each batch's reports
(delivery reports arrive asynchronously through ``poll``); ``receivers + 1`` deleter threads
send DeleteMessageBatch calls of up to 10 delivered messages each. At most ``max_in_flight``
messages are held at once: when Kafka is slow or down the receivers stop receiving
(backpressure), and the held messages' visibility is extended every third of the visibility
timeout, so nothing reaches the redrive limit while the fault lasts. Several forwarders may
read one queue (scale out): SQS hands each message to one of them at a time; a message
redelivered to another after a crash is produced again, and the ``event_id`` header lets
consumers drop that duplicate.
"""

from __future__ import annotations

import logging
import queue as stdqueue
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdcbridge.clock import Clock
from cdcbridge.metrics import Metrics, NoOpMetrics
from webhook_bridge.avro_codec import EngagementCodec
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.engagement_mapping import EngagementMapping
from webhook_bridge.forward_core import ForwardCore, RecordSink, SinkFactory
from webhook_bridge.queue import (
    MAX_BATCH_ENTRIES,
    QueueMessage,
    QueueReceiver,
    QueueUnavailable,
)
from webhook_bridge.queue_gauges import QueueGauges

TOPIC = "marketing.engagement.v1"
log = logging.getLogger(__name__)
__all__ = ["TOPIC", "ForwardStats", "Forwarder", "RecordSink"]


@dataclass
class ForwardStats:
    """Counts of one ``run_once`` (or of a whole ``run``)."""

    forwarded: int = 0
    skipped_duplicates: int = 0
    invalid: int = 0
    undelivered: int = 0
    producers_replaced: int = 0
    deleted: list[str] = field(default_factory=list)


DEFAULT_RECEIVERS = 8
"""Concurrent receives per forwarder. A receive costs the SQS server more than a send (it
updates each message's receive count and visibility, and each is deleted later), so on a
server that serves its callers in turn (the local stack's ElasticMQ with its H2 journal) the
forwarder's share follows its calls in flight: under a receiver's full load one forwarder
drained 114-675 of 986-1,159 messages/s accepted with 3, 600-915 of 825-953 with 8
(bench_inbound_rates, three runs each, one webhook a message; since the receiver packs them,
~15 a message under load, it drains all that is accepted: bench/README.md). Idle, each waits
in a long poll: 8 cost about 24 receives a minute."""


DELETE_LINGER_S = 0.02
"""How long delivered messages wait for a full DeleteMessageBatch (``MAX_BATCH_ENTRIES``)
before a partial one goes (their visibility timeout is far longer; each call saved is a
request SQS bills)."""


class Forwarder:
    """``run`` is the service loop; ``run_once`` does one synchronous receive/produce/delete
    round (tests, tools)."""

    def __init__(
        self,
        queue: QueueReceiver,
        sink: SinkFactory,
        mappings: Mapping[str, EngagementMapping],
        codec: EngagementCodec,
        clock: Clock,
        *,
        topic: str = TOPIC,
        metrics: Metrics | None = None,
        dedupe: DedupeWindow | None = None,
        gauges: QueueGauges | None = None,
        wait_s: float = 20.0,
        delivery_timeout_s: float = 30.0,
        visibility_timeout_s: float = 30.0,
        receivers: int = DEFAULT_RECEIVERS,
        max_in_flight: int = 2000,
    ) -> None:
        self.__queue = queue
        self.__clock = clock
        self.__gauges = gauges
        self.__wait_s = wait_s
        self.__delivery_timeout_s = delivery_timeout_s
        self.__visibility_s = visibility_timeout_s
        self.__receivers = receivers
        self.__max_in_flight = max_in_flight
        self.__core = ForwardCore(
            sink, mappings, codec, clock, metrics or NoOpMetrics(),
            dedupe if dedupe is not None else DedupeWindow(clock, 3600.0, 200_000), topic=topic,
            visibility_timeout_s=visibility_timeout_s, stuck_after_s=2 * delivery_timeout_s,
        )  # fmt: skip
        self.__inbox: stdqueue.SimpleQueue[list[QueueMessage]] = stdqueue.SimpleQueue()
        self.__deletes: stdqueue.SimpleQueue[list[str]] = stdqueue.SimpleQueue()
        self.__to_delete: list[str] = []  # delivered, not yet a full batch (main thread)
        self.__to_delete_since = 0.0
        self.__claimed = 0  # messages received and not yet deleted/released (all threads)
        self.__room = threading.Condition()

    def run(self, stop: threading.Event, max_backoff_s: float = 10.0) -> ForwardStats:
        """Run the pipeline until ``stop`` is set; then wait up to the delivery timeout for
        outstanding reports and delete what was delivered. While SQS is unreachable the
        receivers back off (doubling up to ``max_backoff_s``) and keep trying."""
        threads = [
            threading.Thread(target=self.__receive_loop, args=(stop, max_backoff_s),
                             name=f"sqs-receive-{i}", daemon=True)
            for i in range(self.__receivers)
        ]  # fmt: skip
        deleter_stop = threading.Event()
        deleters = [
            threading.Thread(target=self.__delete_loop, args=(deleter_stop,),
                             name=f"sqs-delete-{i}", daemon=True)
            for i in range(self.__receivers + 1)
        ]  # fmt: skip
        for thread in [*threads, *deleters]:
            thread.start()
        next_extension = self.__clock.monotonic()
        while not stop.is_set():
            batches = self.__take_inbox(0.0 if self.__core.held else 0.05)
            for batch in batches:
                self.__core.accept(batch)
            self.__core.pump(0.0 if batches else 0.005)
            self.__hand_over()
            if self.__clock.monotonic() >= next_extension:
                self.__extend()
                next_extension = self.__clock.monotonic() + max(0.5, self.__visibility_s / 6)
        with self.__room:
            self.__room.notify_all()
        self.__core.flush(self.__delivery_timeout_s)
        self.__core.pump(0.0)
        self.__hand_over(final=True)
        deleter_stop.set()
        for deleter in deleters:
            deleter.join(self.__delivery_timeout_s)
        counts = self.__core.counts
        return ForwardStats(counts.forwarded, counts.skipped_duplicates, counts.invalid,
                            self.__core.undelivered, counts.producers_replaced)  # fmt: skip

    def run_once(self) -> ForwardStats:
        """Receive up to 10 messages, forward them, wait (up to the delivery timeout) for their
        reports, delete the delivered ones. Raises ``QueueUnavailable``."""
        before = self.__core.counts
        counts = (before.forwarded, before.skipped_duplicates, before.invalid)
        if self.__gauges is not None:
            self.__gauges.maybe_sample_depth()
        messages = self.__queue.receive(10, self.__wait_s)
        if self.__gauges is not None:
            self.__gauges.received(messages)
        self.__core.accept(messages)
        deadline = self.__clock.monotonic() + self.__delivery_timeout_s
        while self.__core.in_flight and self.__clock.monotonic() < deadline:
            self.__core.flush(min(1.0, max(0.0, deadline - self.__clock.monotonic())))
            self.__core.pump(0.0)
        for handle in self.__core.take_release():
            self.__queue.release(handle)
        handles = self.__core.take_done()
        failed = set(self.__queue.delete(handles)) if handles else set()
        after = self.__core.counts
        return ForwardStats(
            after.forwarded - counts[0], after.skipped_duplicates - counts[1],
            after.invalid - counts[2], self.__core.undelivered, after.producers_replaced,
            [h for h in handles if h not in failed],
        )  # fmt: skip

    def __take_inbox(self, timeout_s: float) -> list[list[QueueMessage]]:
        batches: list[list[QueueMessage]] = []
        try:
            batches.append(self.__inbox.get(timeout=timeout_s) if timeout_s else
                           self.__inbox.get_nowait())  # fmt: skip
        except stdqueue.Empty:
            return batches
        while len(batches) < 20:
            try:
                batches.append(self.__inbox.get_nowait())
            except stdqueue.Empty:
                break
        return batches

    def __hand_over(self, final: bool = False) -> None:
        """Delivered messages go to the deleters in batches of 10; a partial batch once
        ``DELETE_LINGER_S`` passed without it filling (or at the end). Batches are formed here, on
        one thread: deleters taking single handles split a stream of deliveries between them
        (7.85 a call on average with 9 deleters, measured), each split batch a call more."""
        done = self.__core.take_done()
        if done and not self.__to_delete:
            self.__to_delete_since = self.__clock.monotonic()
        self.__to_delete += done
        while len(self.__to_delete) >= MAX_BATCH_ENTRIES:
            self.__deletes.put(self.__to_delete[:MAX_BATCH_ENTRIES])
            del self.__to_delete[:MAX_BATCH_ENTRIES]
            self.__to_delete_since = self.__clock.monotonic()
        waited = self.__clock.monotonic() - self.__to_delete_since
        if self.__to_delete and (final or waited >= DELETE_LINGER_S):
            self.__deletes.put(self.__to_delete)
            self.__to_delete = []
        for handle in self.__core.take_release():
            try:
                self.__queue.release(handle)
            except QueueUnavailable as exc:
                log.warning("release failed; the message reappears after its visibility "
                            "timeout", extra={"error": str(exc)})  # fmt: skip
            self.__unclaim(1)

    def __extend(self) -> None:
        due = self.__core.due_for_extension()
        for start in range(0, len(due), MAX_BATCH_ENTRIES):  # a failed call costs one chunk
            chunk = due[start : start + MAX_BATCH_ENTRIES]
            try:
                refused = self.__queue.extend(chunk, int(self.__visibility_s))
            except QueueUnavailable as exc:
                log.warning("visibility extension failed", extra={"error": str(exc)})
                continue
            if refused:
                self.__core.forget(refused)
                self.__unclaim(len(refused))

    def __unclaim(self, count: int) -> None:
        with self.__room:
            self.__claimed -= count
            self.__room.notify_all()

    def __receive_loop(self, stop: threading.Event, max_backoff_s: float) -> None:
        backoff_s = 0.5
        while not stop.is_set():
            with self.__room:
                self.__room.wait_for(
                    lambda: stop.is_set() or self.__claimed + 10 <= self.__max_in_flight, 1.0
                )
                if stop.is_set() or self.__claimed + 10 > self.__max_in_flight:
                    continue
                self.__claimed += 10
            if self.__gauges is not None:
                self.__gauges.maybe_sample_depth()
            try:
                messages = self.__queue.receive(10, self.__wait_s)
            except QueueUnavailable as exc:
                self.__unclaim(10)
                log.warning("queue unavailable; retrying",
                            extra={"error": str(exc), "retry_in_s": backoff_s})  # fmt: skip
                stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, max_backoff_s)
                continue
            backoff_s = 0.5
            if self.__gauges is not None:
                self.__gauges.received(messages)
            self.__unclaim(10 - len(messages))
            if messages:
                self.__inbox.put(messages)

    def __delete_loop(self, stop: threading.Event) -> None:
        while not (stop.is_set() and self.__deletes.empty()):
            try:
                handles = self.__deletes.get(timeout=0.1)
            except stdqueue.Empty:
                continue
            for attempt in range(3):
                try:
                    self.__queue.delete(handles)
                    break
                except QueueUnavailable as exc:
                    log.warning("delete failed; retrying",
                                extra={"error": str(exc), "attempt": attempt + 1})  # fmt: skip
                    stop.wait(0.5 * 2**attempt)
            self.__unclaim(len(handles))
