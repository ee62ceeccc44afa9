"""The forwarder's bookkeeping: which SQS messages it holds, which of their records are on the
way to Kafka, and what to produce again, delete, keep invisible or release. Single-threaded
(the forwarder's main thread); time from an injected clock.

Invariants (a message is a pack of one or more webhooks, ``envelope.decode_message``):
- a message is ready to delete only once every record of every webhook in it has a successful
  delivery report (records of events already delivered by this process are not produced again);
- a record whose delivery failed for a transient reason is produced again after a backoff while
  the message stays held (its visibility is extended, so a Kafka outage never counts towards
  the redrive limit); only a message that can never be forwarded (not a pack, a webhook in it
  that cannot be normalised, or a record Kafka refuses for good) is released for redrive to the
  dead-letter queue, after its other webhooks' records are delivered;
- a producer in a fatal state, or one whose deliveries have failed without a single success for
  ``stuck_after_s``, is replaced by a new one from the factory and every undelivered record is
  produced again on it (reports from the old producer are ignored).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cdcbridge.clock import Clock
from cdcbridge.logs import trace_context
from cdcbridge.metrics import Metrics
from webhook_bridge.avro_codec import FINGERPRINT_HEADER, EngagementCodec
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.engagement_mapping import EngagementMapping, InvalidEngagement, contact_key
from webhook_bridge.envelope import MalformedEnvelope, WebhookEnvelope, decode_message
from webhook_bridge.kafka_producer import DeliveryCallback, DeliveryError, OutRecord, ProducerFull
from webhook_bridge.queue import QueueMessage

log = logging.getLogger(__name__)


class RecordSink(Protocol):
    """A Kafka producer. ``fatal_error`` is set once it can no longer deliver anything;
    ``close`` drops what it still holds (it is being replaced)."""

    @property
    def fatal_error(self) -> str | None: ...

    def close(self) -> None: ...

    def produce(self, record: OutRecord, on_delivery: DeliveryCallback) -> None: ...

    def poll(self, timeout_s: float) -> None: ...

    def flush(self, timeout_s: float) -> int: ...


SinkFactory = Callable[[], RecordSink]


@dataclass
class _Held:
    """One received SQS message (a pack of webhooks) not yet deleted."""

    message: QueueMessage
    waiting: dict[str, OutRecord]  # dedupe key -> record without a successful report yet
    webhooks: list[tuple[WebhookEnvelope, int]]  # each forwardable webhook, records produced
    unforwardable: str = ""  # why one of its webhooks never can be (released once the rest is)
    retry: dict[str, OutRecord] = field(default_factory=dict)
    retry_at: float = 0.0
    failures: int = 0
    extended_at: float = 0.0


@dataclass
class CoreCounts:
    """Running totals (read by the loop for stats and logs)."""

    forwarded: int = 0
    skipped_duplicates: int = 0
    invalid: int = 0
    delivery_failures: int = 0
    producers_replaced: int = 0


class ForwardCore:
    """Feed it received messages (``accept``), drive it (``pump``), collect its decisions
    (``take_done``, ``take_release``, ``due_for_extension``)."""

    def __init__(self, sink_factory: SinkFactory, mappings: Mapping[str, EngagementMapping],
                 codec: EngagementCodec, clock: Clock, metrics: Metrics, dedupe: DedupeWindow, *,
                 topic: str, visibility_timeout_s: float, max_backoff_s: float = 10.0,
                 stuck_after_s: float = 60.0) -> None:  # fmt: skip
        self.__factory = sink_factory
        self.__sink = sink_factory()
        self.__generation = 0
        self.__mappings = dict(mappings)
        self.__codec = codec
        self.__clock = clock
        self.__metrics = metrics
        self.__dedupe = dedupe
        self.__topic = topic
        self.__visibility_s = visibility_timeout_s
        self.__max_backoff_s = max_backoff_s
        self.__stuck_after_s = stuck_after_s
        self.__held: dict[str, _Held] = {}
        self.__done: list[str] = []
        self.__release: list[str] = []
        self.__last_success = clock.monotonic()
        self.__failing_since: float | None = None
        self.__in_flight = 0  # records produced on the current producer without a report yet
        self.__next_failure_log = 0.0
        self.counts = CoreCounts()

    @property
    def held(self) -> int:
        return len(self.__held)

    @property
    def in_flight(self) -> int:
        """Records awaiting a delivery report."""
        return self.__in_flight

    @property
    def undelivered(self) -> int:
        """Held messages with records still waiting for a successful report."""
        return sum(1 for held in self.__held.values() if held.waiting)

    def accept(self, messages: Iterable[QueueMessage]) -> None:
        """Normalise and produce the records of each message's webhooks. A message that is not
        a pack of envelopes is marked for release at once; one holding a webhook that can never
        be forwarded is marked once its other webhooks' records are delivered (those reach
        Kafka once; the whole message is redriven to the dead-letter queue)."""
        now = self.__clock.monotonic()
        for message in messages:
            try:
                envelopes = decode_message(message.body)
            except MalformedEnvelope as exc:
                self.__invalid(message, str(exc))
                continue
            held = _Held(message, {}, [], extended_at=now)
            for envelope in envelopes:
                self.__add(held, envelope)
            self.__held[message.receipt_handle] = held
            for key, record in list(held.waiting.items()):
                self.__produce(held, key, record)
            self.__settle(held)

    def __add(self, held: _Held, envelope: WebhookEnvelope) -> None:
        try:
            records = self.__records(envelope)
        except InvalidEngagement as exc:
            with trace_context(envelope.trace_id):
                log.warning(
                    "webhook cannot be normalised",
                    extra={"webhook_id": envelope.webhook_id, "reason": str(exc)},
                )
            held.unforwardable = held.unforwardable or f"webhook {envelope.webhook_id}: {exc}"
            return
        produced = 0
        for key, record in records:
            if self.__dedupe.seen(key) or key in held.waiting:
                self.counts.skipped_duplicates += 1
            else:
                held.waiting[key] = record
                produced += 1
        held.webhooks.append((envelope, produced))

    def pump(self, timeout_s: float) -> None:
        """Serve delivery reports (waiting up to ``timeout_s``), produce due retries, and
        replace the producer when it is fatal or stuck."""
        self.__sink.poll(timeout_s)
        now = self.__clock.monotonic()
        fatal = self.__sink.fatal_error
        stuck = (
            self.__failing_since is not None
            and now - self.__failing_since >= self.__stuck_after_s
            and now - self.__last_success >= self.__stuck_after_s
        )
        if fatal is not None or stuck:
            self.__replace_sink(fatal or "deliveries kept failing without a single success")
        for held in list(self.__held.values()):
            if held.retry and held.retry_at <= now:
                retry, held.retry = held.retry, {}
                for key, record in retry.items():
                    self.__produce(held, key, record)

    def flush(self, timeout_s: float) -> None:
        """Wait for outstanding reports (shutdown)."""
        self.__sink.flush(timeout_s)

    def take_done(self) -> list[str]:
        """Receipt handles of fully delivered messages (delete them), once each."""
        done, self.__done = self.__done, []
        return done

    def take_release(self) -> list[str]:
        """Receipt handles of messages that can never be forwarded (release them)."""
        release, self.__release = self.__release, []
        return release

    def due_for_extension(self) -> list[str]:
        """Handles held for over a third of the visibility timeout since their last extension;
        they are counted as extended now (call ``forget`` for those the queue refused)."""
        now = self.__clock.monotonic()
        due = [h for h, held in self.__held.items()
               if now - held.extended_at >= self.__visibility_s / 3]  # fmt: skip
        for handle in due:
            self.__held[handle].extended_at = now
        return due

    def forget(self, handles: Iterable[str]) -> None:
        """Stop tracking messages whose receipt handle the queue no longer honours (another
        receive owns them now; their records may still arrive, the dedupe key catches it)."""
        for handle in handles:
            self.__held.pop(handle, None)

    def __records(self, envelope: WebhookEnvelope) -> list[tuple[str, OutRecord]]:
        mapping = self.__mappings.get(envelope.source)
        if mapping is None:
            raise InvalidEngagement(f"no mapping for source {envelope.source!r}")
        return [self.__record(envelope, event) for event in mapping.apply(envelope)]

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

    def __invalid(self, message: QueueMessage, reason: str) -> None:
        self.counts.invalid += 1
        self.__metrics.increment("cdcbridge_forward_invalid_total")
        log.warning(
            "webhook cannot be forwarded; released for redrive",
            extra={"message_id": message.message_id, "reason": reason,
                   "receive_count": message.receive_count},
        )  # fmt: skip
        self.__release.append(message.receipt_handle)

    def __produce(self, held: _Held, key: str, record: OutRecord) -> None:
        self.__in_flight += 1
        try:
            self.__sink.produce(record, self.__on_delivery(held, key, self.__generation))
        except ProducerFull:
            self.__in_flight -= 1
            self.__failed(held, key, DeliveryError("local producer queue full"))

    def __on_delivery(self, held: _Held, key: str, generation: int) -> DeliveryCallback:
        def report(error: DeliveryError | None) -> None:
            if generation != self.__generation:
                return  # a replaced producer's report
            self.__in_flight -= 1
            if key not in held.waiting:
                return  # a message no longer held
            if error is None:
                del held.waiting[key]
                self.__dedupe.add(key)
                self.counts.forwarded += 1
                self.__metrics.increment("cdcbridge_forward_events_total")
                self.__last_success = self.__clock.monotonic()
                self.__failing_since = None
                held.failures = 0
                self.__settle(held)
            else:
                self.__failed(held, key, error)

        return report

    def __failed(self, held: _Held, key: str, error: DeliveryError) -> None:
        self.counts.delivery_failures += 1
        now = self.__clock.monotonic()
        if self.__failing_since is None:
            self.__failing_since = now
        if error.permanent:
            self.__held.pop(held.message.receipt_handle, None)
            self.__invalid(held.message, f"kafka refused a record: {error.reason}")
            return
        held.failures += 1
        held.retry[key] = held.waiting[key]
        held.retry_at = now + min(self.__max_backoff_s, 0.25 * 2 ** min(held.failures, 8))
        if now >= self.__next_failure_log:  # one line per 10 s, not one per record
            self.__next_failure_log = now + 10.0
            log.warning(
                "kafka deliveries failing; records will be produced again",
                extra={"error": error.reason, "failures_so_far": self.counts.delivery_failures,
                       "held_messages": len(self.__held)},
            )  # fmt: skip

    def __settle(self, held: _Held) -> None:
        if held.waiting or self.__held.pop(held.message.receipt_handle, None) is None:
            return
        self.__report(held)
        if held.unforwardable:
            self.__invalid(held.message, held.unforwardable)
        else:
            self.__done.append(held.message.receipt_handle)

    def __report(self, held: _Held) -> None:
        """A log line per forwarded webhook, and the inbound end-to-end latency (webhook
        received -> every record of it delivered to Kafka)."""
        for envelope, produced in held.webhooks:
            with trace_context(envelope.trace_id):
                log.info(
                    "webhook forwarded",
                    extra={"message_id": held.message.message_id, "source": envelope.source,
                           "webhook_id": envelope.webhook_id, "events": produced,
                           "topic": self.__topic},
                )  # fmt: skip
            if produced and envelope.received_at_ms:
                latency = max(self.__clock.time() - envelope.received_at_ms / 1000.0, 0.0)
                self.__metrics.timing(
                    "cdcbridge_webhooks_end_to_end_seconds", latency, {"source": envelope.source}
                )

    def __replace_sink(self, reason: str) -> None:
        log.error("replacing the Kafka producer", extra={"reason": reason})
        self.counts.producers_replaced += 1
        self.__generation += 1
        self.__in_flight = 0
        self.__sink.close()
        self.__sink = self.__factory()
        self.__failing_since = None
        self.__last_success = self.__clock.monotonic()
        for held in self.__held.values():
            held.retry.update(held.waiting)
            held.retry_at = 0.0
