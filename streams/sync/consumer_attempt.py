"""One attempt of the sync consumer: a fresh Kafka consumer and arroyo ``StreamProcessor``, run
on a thread of their own under a poll watchdog (``supervisor.supervise`` runs the attempts).

The consumer is ``GuardedConsumer`` (``kafka_guard``: Kafka errors become ``KafkaUnavailable``
or ``KafkaRefused``) over the subscription of every sync topic, marked on each poll. The
watchdog (``run_watched``): while the service is not stopping, a consumer whose ``poll`` has not
returned for ``stall_s`` (``CDCBRIDGE_SYNC_POLL_STALL_S``) is treated as transient: the attempt
is abandoned (the strategy drops its work in flight without committing, the processor is told to
shut down), given ``grace_s`` to end, and ``ConsumerStalled`` is raised so that the supervisor
builds a new consumer (a thread still stuck in librdkafka is left behind as a daemon).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import cast

from arroyo.backends.abstract import Consumer
from arroyo.backends.kafka import KafkaPayload
from arroyo.commit import CommitPolicy
from arroyo.processing import StreamProcessor
from arroyo.types import Topic

from cdcbridge.clock import Clock
from streams.sync import kafka_boundary
from streams.sync.health import PollMarkingConsumer, SyncHealth
from streams.sync.kafka_guard import ConsumerStalled, GuardedConsumer
from streams.sync.settings import SyncSettings
from streams.sync.strategy import SyncStrategyFactory
from streams.sync.subscription import MultiTopicConsumer


class Progress:
    """When the consumer's poll last returned (thread-safe: the consumer beats, the watchdog
    reads)."""

    def __init__(self, clock: Clock) -> None:
        self.__clock = clock
        self.__lock = threading.Lock()
        self.__last = clock.monotonic()

    def beat(self) -> None:
        with self.__lock:
            self.__last = self.__clock.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last beat (or since this attempt began)."""
        with self.__lock:
            return self.__clock.monotonic() - self.__last


def build_processor(
    settings: SyncSettings,
    topics: tuple[str, ...],
    factory: SyncStrategyFactory,
    progress: Progress,
    health: SyncHealth | None,
) -> StreamProcessor[KafkaPayload]:
    """A new consumer in the sync group (it starts from the committed offsets) and its
    processor; nothing connects until ``run``."""
    kafka_consumer = kafka_boundary.build_sync_consumer(
        settings.bootstrap_servers, settings.group_id
    )
    guarded = GuardedConsumer(MultiTopicConsumer(kafka_consumer, topics), progress.beat)
    consumer = cast("Consumer[KafkaPayload]", guarded)
    if health is not None:
        consumer = cast("Consumer[KafkaPayload]", PollMarkingConsumer(consumer, health))
    return StreamProcessor(
        consumer,
        Topic(topics[0]),
        factory,
        commit_policy=CommitPolicy(settings.commit_interval_s, None),
        join_timeout=settings.drain_timeout_s,
    )


def run_watched(
    run: Callable[[], None],
    progress: Progress,
    stall_s: float,
    *,
    abandon: Callable[[], None],
    stopping: threading.Event,
    check_every_s: float = 1.0,
    grace_s: float = 10.0,
) -> None:
    """Run ``run`` on a thread until it returns (or re-raise what it raised). Raises
    ``ConsumerStalled`` after calling ``abandon`` when ``progress`` stayed idle ``stall_s``
    while ``stopping`` was not set."""
    failures: list[Exception] = []

    def target() -> None:
        try:
            run()
        except Exception as exc:  # noqa: BLE001 - handed over: the watching thread re-raises it
            failures.append(exc)

    thread = threading.Thread(target=target, name="sync-consumer", daemon=True)
    thread.start()
    while True:
        thread.join(check_every_s)
        if not thread.is_alive():
            if failures:
                raise failures[0]
            return
        idle = progress.idle_for()
        if idle > stall_s and not stopping.is_set():
            abandon()
            thread.join(grace_s)
            raise ConsumerStalled(f"no consumer poll returned for {idle:.0f}s")
