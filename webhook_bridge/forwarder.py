"""SQS -> Kafka forwarder: long-poll, normalise, produce, and delete only after delivery.

Per message: envelope -> mapping of its source -> canonical events -> Avro -> one record per
event on ``marketing.engagement.v1`` (key = contact identifier; headers ``trace_id``,
``event_id``, ``source``, ``schema_fingerprint``). The SQS message is deleted only once every
one of its records has a successful delivery report. A message that can never be normalised is
counted and released at once; SQS's redrive policy moves it to the dead-letter queue after its
``maxReceiveCount``. Events already delivered by this process (same source and event id) are
not produced again when SQS redelivers their message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cdcbridge.clock import Clock
from cdcbridge.logs import trace_context
from cdcbridge.metrics import Metrics, NoOpMetrics
from webhook_bridge.avro_codec import FINGERPRINT_HEADER, EngagementCodec
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.envelope import MalformedEnvelope, WebhookEnvelope
from webhook_bridge.kafka_producer import DeliveryCallback, OutRecord
from webhook_bridge.normalise import EngagementMapping, InvalidEngagement, contact_key
from webhook_bridge.queue import QueueMessage, QueueReceiver, QueueUnavailable
from webhook_bridge.queue_gauges import QueueGauges

TOPIC = "marketing.engagement.v1"
log = logging.getLogger(__name__)


class RecordSink(Protocol):
    def produce(self, record: OutRecord, on_delivery: DeliveryCallback) -> None: ...

    def poll(self, timeout_s: float) -> None: ...

    def flush(self, timeout_s: float) -> int: ...


@dataclass
class _Pending:
    """One SQS message whose records are in flight."""

    message: QueueMessage
    keys: list[str]
    outstanding: int
    failed: bool = False
    source: str = ""
    received_at_ms: int = 0
    produced: int = 0
    trace_id: str = "-"


@dataclass
class ForwardStats:
    """Counts of one ``run_once`` (also summed by ``run``)."""

    forwarded: int = 0
    skipped_duplicates: int = 0
    invalid: int = 0
    undelivered: int = 0
    deleted: list[str] = field(default_factory=list)


class Forwarder:
    """Single-threaded loop; ``run_once`` does one receive/produce/delete round."""

    def __init__(
        self,
        queue: QueueReceiver,
        sink: RecordSink,
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
    ) -> None:
        self.__queue = queue
        self.__sink = sink
        self.__mappings = dict(mappings)
        self.__codec = codec
        self.__clock = clock
        self.__topic = topic
        self.__metrics = metrics or NoOpMetrics()
        self.__dedupe = dedupe or DedupeWindow(clock, 3600.0, 200_000)
        self.__gauges = gauges
        self.__wait_s = wait_s
        self.__delivery_timeout_s = delivery_timeout_s

    def run(self, stop: threading.Event, max_backoff_s: float = 10.0) -> ForwardStats:
        """Loop until ``stop`` is set. While SQS is unreachable, backs off (doubling up to
        ``max_backoff_s``) and keeps trying; undelivered messages stay in the queue."""
        total = ForwardStats()
        backoff_s = 0.5
        while not stop.is_set():
            try:
                stats = self.run_once()
            except QueueUnavailable as exc:
                extra = {"error": str(exc), "retry_in_s": backoff_s}
                log.warning("queue unavailable; retrying", extra=extra)
                stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, max_backoff_s)
                continue
            backoff_s = 0.5
            total.forwarded += stats.forwarded
            total.invalid += stats.invalid
            total.skipped_duplicates += stats.skipped_duplicates
            total.undelivered += stats.undelivered
        return total

    def run_once(self) -> ForwardStats:
        """Receive up to 10 messages, forward them, delete the delivered ones."""
        stats = ForwardStats()
        pending: list[_Pending] = []
        if self.__gauges is not None:
            self.__gauges.maybe_sample_depth()
        messages = self.__queue.receive(10, self.__wait_s)
        if self.__gauges is not None:
            self.__gauges.received(messages)
        for message in messages:
            entry = self.__submit(message, stats)
            if entry is not None:
                pending.append(entry)
        self.__await_deliveries(pending)
        done = [p for p in pending if not p.failed and p.outstanding == 0]
        for entry in done:
            for key in entry.keys:
                self.__dedupe.add(key)
        stats.undelivered = len(pending) - len(done)
        self.__report(done)
        handles = [p.message.receipt_handle for p in done]
        failed_deletes = set(self.__queue.delete(handles)) if handles else set()
        stats.deleted = [h for h in handles if h not in failed_deletes]
        if stats.forwarded:
            self.__metrics.increment("cdcbridge_forward_events_total", stats.forwarded)
        return stats

    def __submit(self, message: QueueMessage, stats: ForwardStats) -> _Pending | None:
        try:
            envelope = WebhookEnvelope.decode(message.body)
            mapping = self.__mappings.get(envelope.source)
            if mapping is None:
                raise InvalidEngagement(f"no mapping for source {envelope.source!r}")
            records = [self.__record(envelope, event) for event in mapping.apply(envelope)]
        except (MalformedEnvelope, InvalidEngagement) as exc:
            stats.invalid += 1
            self.__metrics.increment("cdcbridge_forward_invalid_total")
            log.warning(
                "webhook cannot be normalised; released for redrive",
                extra={"message_id": message.message_id, "reason": str(exc),
                       "receive_count": message.receive_count},
            )  # fmt: skip
            self.__queue.release(message.receipt_handle)
            return None
        entry = _Pending(
            message, [key for key, _ in records], 0,
            source=envelope.source, received_at_ms=envelope.received_at_ms,
            trace_id=envelope.trace_id,
        )  # fmt: skip
        for key, record in records:
            if self.__dedupe.seen(key):
                stats.skipped_duplicates += 1
                continue
            entry.outstanding += 1
            entry.produced += 1
            stats.forwarded += 1
            self.__sink.produce(record, self.__on_delivery(entry))
        return entry

    def __record(
        self, envelope: WebhookEnvelope, event: Mapping[str, object]
    ) -> tuple[str, OutRecord]:
        with trace_context(envelope.trace_id):
            try:
                value = self.__codec.encode(event)
            except (ValueError, TypeError) as exc:
                raise InvalidEngagement(f"event violates the Avro schema: {exc}") from exc
        event_id = str(event["event_id"])
        headers = (
            ("trace_id", envelope.trace_id.encode()),
            ("event_id", event_id.encode()),
            ("source", envelope.source.encode()),
            (FINGERPRINT_HEADER, self.__codec.fingerprint.encode()),
        )
        record = OutRecord(self.__topic, contact_key(event).encode(), value, headers)
        return f"{envelope.source}\x00{event_id}", record

    def __report(self, done: list[_Pending]) -> None:
        """A log line per forwarded message, and the inbound end-to-end latency (webhook
        received -> every record of it delivered to Kafka)."""
        now = self.__clock.time()
        for entry in done:
            with trace_context(entry.trace_id):
                log.info(
                    "webhook forwarded",
                    extra={"message_id": entry.message.message_id, "source": entry.source,
                           "events": entry.produced, "topic": self.__topic},
                )  # fmt: skip
            if entry.produced and entry.received_at_ms:
                latency = max(now - entry.received_at_ms / 1000.0, 0.0)
                self.__metrics.timing(
                    "cdcbridge_webhooks_end_to_end_seconds", latency, {"source": entry.source}
                )

    @staticmethod
    def __on_delivery(entry: _Pending) -> DeliveryCallback:
        def done(error: str | None) -> None:
            entry.outstanding -= 1
            if error is not None:
                entry.failed = True
                log.warning("kafka delivery failed", extra={"error": error})

        return done

    def __await_deliveries(self, pending: list[_Pending]) -> None:
        deadline = self.__clock.monotonic() + self.__delivery_timeout_s
        while any(p.outstanding > 0 for p in pending) and self.__clock.monotonic() < deadline:
            self.__sink.flush(min(1.0, max(0.0, deadline - self.__clock.monotonic())))
