"""Waiting out the sync lag before a mismatch is believed.

A row changed a moment ago may not have reached the platform yet. ``SyncCatchUp`` notes the CDC
topic's end offsets when asked and waits until the sync group's committed offsets have passed
them: every change committed before the question is then on the platform (or dead-lettered).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cdcbridge.clock import Clock
from streams.sync import kafka_boundary


class Settler(Protocol):
    def wait(self) -> bool:
        """Block until what was in flight when called has been synced; False on timeout."""
        ...


class SyncCatchUp:
    """Polls ``group_lag`` of the sync group on the injected clock until it is past the ends."""

    def __init__(
        self,
        lag_rows: Callable[[], list[kafka_boundary.PartitionLag]],
        clock: Clock,
        timeout_s: float,
        interval_s: float = 0.5,
        grace_s: float = 2.0,
    ) -> None:
        self.__grace_s = grace_s  # Debezium's own lag: WAL -> topic
        self.__lag_rows = lag_rows
        self.__clock = clock
        self.__timeout_s = timeout_s
        self.__interval_s = interval_s

    def wait(self) -> bool:
        """False on timeout or when Kafka cannot tell (the mismatches are then reported)."""
        self.__clock.sleep(self.__grace_s)
        try:
            return self.__wait()
        except kafka_boundary.KafkaIOError:
            return False

    def __wait(self) -> bool:
        targets = {row.partition: row.end for row in self.__lag_rows()}
        deadline = self.__clock.monotonic() + self.__timeout_s
        while True:
            committed = {row.partition: row.committed for row in self.__lag_rows()}
            if all((committed.get(p) or 0) >= end for p, end in targets.items()):
                return True
            if self.__clock.monotonic() >= deadline:
                return False
            self.__clock.sleep(self.__interval_s)


class FixedWait:
    """Without Kafka access: wait a fixed time (an upper bound of the sync lag)."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.__clock = clock
        self.__seconds = seconds

    def wait(self) -> bool:
        self.__clock.sleep(self.__seconds)
        return True


def kafka_settler(
    bootstrap_servers: str, group_id: str, topic: str, clock: Clock, timeout_s: float
) -> SyncCatchUp:
    return SyncCatchUp(
        lambda: kafka_boundary.group_lag(bootstrap_servers, group_id, topic), clock, timeout_s
    )
