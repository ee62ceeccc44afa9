"""One reading of a consumer group's position on its partitions, and the rows we print.

Invariants of ``PartitionReading``: offsets are never negative; ``lag`` and ``lag_seconds`` are
never negative or NaN, whatever the partition (empty, idle, never committed, committed offset
below the log start after retention).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PartitionReading:
    topic: str
    partition: int
    committed: int | None
    """The group's committed offset (the next record it will read); None when never committed."""
    log_start: int
    log_end: int
    oldest_unconsumed_ts_ms: int | None
    """Kafka timestamp of the first record not yet consumed; None when there is none."""

    @property
    def position(self) -> int:
        """Where the group resumes: the committed offset, or the log start when never committed
        (the sync consumer resets to earliest) or when retention deleted past it."""
        if self.committed is None:
            return self.log_start
        return max(self.committed, self.log_start)

    @property
    def lag(self) -> int:
        """Records between where the group resumes and the log end (>= 0)."""
        return max(self.log_end - self.position, 0)

    def lag_seconds(self, now_s: float) -> float:
        """Age of the oldest unconsumed record (0 when there is no lag or no timestamp)."""
        if self.lag == 0 or self.oldest_unconsumed_ts_ms is None:
            return 0.0
        return max(now_s - self.oldest_unconsumed_ts_ms / 1000.0, 0.0)


@dataclass(frozen=True)
class GroupReading:
    """All partitions of one group at one instant (``taken_at`` is wall-clock seconds)."""

    group: str
    taken_at: float
    active_members: int
    partitions: tuple[PartitionReading, ...]

    def key(self) -> dict[tuple[str, int], PartitionReading]:
        return {(p.topic, p.partition): p for p in self.partitions}
