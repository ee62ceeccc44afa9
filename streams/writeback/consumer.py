"""The writeback loop: Kafka ``marketing.engagement.v1`` -> ``WritebackStore``, exactly once.

Offsets live in the database (``WritebackStore``), written in the same transaction as the
rows. On every partition assignment the consumer seeks to the stored offsets (the start of
the partition when none are stored, or always with ``from_beginning``), so a crash anywhere
(``kill -9`` included) neither loses nor doubles a row: a batch not committed is re-read, a
committed batch is never re-read, and the event-id key absorbs replays. Kafka-side commits
are made afterwards only so that ``cdcbridge lag`` sees the group; they are never read back.

A database outage is transient: the same batch is retried with capped backoff until it
commits or the loop is stopped (nothing is committed then).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.errors import FatalError
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.writeback.events import InboundEvent, Position, RejectedRecord, decode_record
from streams.writeback.spec import DEFAULT_MAPPING, load_writeback_mapping
from streams.writeback.store import BatchOutcome, WritebackStore

log = logging.getLogger(__name__)


class WritebackFatal(FatalError):
    """A Kafka error that retrying cannot fix (e.g. unknown topic, authorisation)."""


class WritebackSettings(BaseSettings):
    """Environment variables prefixed ``CDCBRIDGE_WRITEBACK_``."""

    model_config = SettingsConfigDict(env_prefix="CDCBRIDGE_WRITEBACK_", extra="ignore")

    dsn: str = "postgresql://cdcbridge:cdcbridge@127.0.0.1:5432/cdcbridge"
    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "marketing.engagement.v1"
    group_id: str = "cdcbridge-writeback"
    mapping_file: str = str(DEFAULT_MAPPING)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    poll_timeout_s: float = Field(default=0.1, gt=0.0)
    match_interval_s: float = Field(default=5.0, gt=0.0)
    retry_cap_s: float = Field(default=10.0, gt=0.0)
    # How often the process reads its own group's lag for the lag gauges (0: never; only
    # when metrics are exported).
    lag_sample_interval_s: float = Field(default=15.0, ge=0.0)


def retry_delay(attempt: int, cap_s: float, rng: random.Random) -> float:
    """The wait before retry ``attempt`` (0-based) of a database call: full jitter, uniform in
    [0, min(cap_s, 0.2 s x 2^attempt)], drawn from ``rng`` (seeded in tests: a run replays)."""
    return rng.uniform(0, min(cap_s, 0.2 * 2**attempt))


def _consumer(settings: WritebackSettings) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": settings.bootstrap_servers,
            "group.id": settings.group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            "fetch.wait.max.ms": 50,
            "session.timeout.ms": 10_000,
        }
    )


def _split(messages: list[Message]) -> tuple[
    list[InboundEvent], list[RejectedRecord], dict[tuple[str, int], int]
]:  # fmt: skip
    events: list[InboundEvent] = []
    rejected: list[RejectedRecord] = []
    next_offsets: dict[tuple[str, int], int] = {}
    for message in messages:
        error = message.error()
        if error is not None:
            if error.fatal() or error.code() in (
                KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.TOPIC_AUTHORIZATION_FAILED
            ):  # fmt: skip
                raise WritebackFatal(str(error))
            log.warning("kafka: %s", error)
            continue
        topic, partition, offset = message.topic() or "", message.partition(), message.offset()
        assert partition is not None and offset is not None
        raw = message.headers() or []
        pairs = list(raw.items()) if isinstance(raw, dict) else list(raw)
        headers = {k: (v.encode() if isinstance(v, str) else v or b"") for k, v in pairs}
        key, value = message.key(), message.value()
        decoded = decode_record(
            Position(topic, partition, offset),
            key.encode() if isinstance(key, str) else key,
            value.encode() if isinstance(value, str) else value,
            headers,
        )
        if isinstance(decoded, InboundEvent):
            events.append(decoded)
        else:
            rejected.append(decoded)
        next_offsets[(topic, partition)] = offset + 1
    return events, rejected, next_offsets


class WritebackLoop:
    def __init__(
        self,
        settings: WritebackSettings,
        stop: threading.Event,
        from_beginning: bool = False,
        connect: Callable[[], psycopg.Connection[tuple[Any, ...]]] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        metrics: Metrics | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.__clock = clock
        self.__rng = rng or random.Random()
        self.__metrics = metrics or NoOpMetrics()
        self.__settings = settings
        self.__stop = stop
        self.__from_beginning = from_beginning
        self.__connect = connect or (lambda: psycopg.connect(settings.dsn, autocommit=True))
        self.__store = WritebackStore(load_writeback_mapping(Path(settings.mapping_file)),
                                      settings.group_id)  # fmt: skip
        self.__conn: psycopg.Connection[tuple[Any, ...]] | None = None

    def __connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self.__conn is None or self.__conn.closed:
            self.__conn = self.__connect()
        return self.__conn

    def __on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        stored = self.__until_done(
            lambda: self.__store.stored_offsets(self.__connection(), self.__settings.topic)
        )
        for tp in partitions:
            tp.offset = (
                OFFSET_BEGINNING
                if self.__from_beginning
                else stored.get(tp.partition, OFFSET_BEGINNING)
            )
        log.info("partitions assigned", extra={"offsets": {tp.partition: tp.offset
                                                           for tp in partitions}})  # fmt: skip
        consumer.assign(partitions)

    def __until_done(self, work: Callable[[], Any]) -> Any:
        attempt = 0
        while True:
            try:
                return work()
            except psycopg.OperationalError as exc:
                if self.__conn is not None:
                    self.__conn.close()
                delay = retry_delay(attempt, self.__settings.retry_cap_s, self.__rng)
                log.warning("database unavailable, retrying", extra={"error": str(exc),
                                                                     "delay_s": delay})  # fmt: skip
                attempt += 1
                if self.__stop.wait(delay):
                    raise

    def __write(self, consumer: Consumer, messages: list[Message]) -> None:
        events, rejected, offsets = _split(messages)

        def write() -> BatchOutcome:
            return self.__store.write_batch(self.__connection(), events, rejected, offsets)

        outcome: BatchOutcome = self.__until_done(write)
        consumer.commit(
            offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=True
        )
        self.__count(outcome, len(events), len(rejected))

    def __count(self, outcome: BatchOutcome, consumed: int, rejected: int) -> None:
        metrics, now = self.__metrics, self.__clock.time()
        metrics.increment("cdcbridge_writeback_events_total", len(outcome.new_events))
        if consumed > len(outcome.new_events):
            metrics.increment("cdcbridge_writeback_duplicates_total",
                              consumed - len(outcome.new_events))  # fmt: skip
        if rejected:
            metrics.increment("cdcbridge_writeback_rejected_total", rejected)
        for platform in outcome.withdrawals:
            metrics.increment("cdcbridge_writeback_consent_withdrawn_total",
                              tags={"source": platform})  # fmt: skip
        for event in outcome.new_events:
            latency = max(now - event.received_at.timestamp(), 0.0)
            metrics.timing("cdcbridge_writeback_end_to_end_seconds", latency)

    def run(self) -> None:
        """Consume until ``stop`` is set. Raises ``WritebackFatal`` or a non-transient
        ``psycopg.Error`` (e.g. the tables are missing)."""
        consumer = _consumer(self.__settings)
        consumer.subscribe([self.__settings.topic], on_assign=self.__on_assign)
        last_match = 0.0
        try:
            while not self.__stop.is_set():
                messages = consumer.consume(self.__settings.batch_size,
                                            self.__settings.poll_timeout_s)  # fmt: skip
                if messages:
                    self.__write(consumer, messages)
                now = self.__clock.monotonic()
                if now - last_match >= self.__settings.match_interval_s:
                    last_match = now
                    self.__until_done(lambda: self.__store.match_pending(self.__connection()))
        finally:
            consumer.close()
            if self.__conn is not None:
                self.__conn.close()
