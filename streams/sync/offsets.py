"""Which offsets may be committed: only the highest one below which everything is done.

Pure and single-threaded (the engine holds its lock around it). A record is "done" when the
platform confirmed it, it was dead-lettered (DLQ delivery confirmed), or it needs no delivery
(skip, ignored delete). Kafka's committed offset is the *next* offset to read, so the
committable value of a partition is ``last contiguous done offset + 1``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

TopicPartition = tuple[str, int]


@dataclass
class _PartitionState:
    outstanding: deque[int] = field(default_factory=deque)
    done: set[int] = field(default_factory=set)
    next_commit: int | None = None


class OffsetTracker:
    """Tracks consumed offsets per partition and the committable watermark."""

    def __init__(self) -> None:
        self.__partitions: dict[TopicPartition, _PartitionState] = {}
        self.__changed: set[TopicPartition] = set()

    def track(self, tp: TopicPartition, offset: int) -> None:
        """Register a consumed offset (offsets of one partition arrive in increasing order)."""
        self.__partitions.setdefault(tp, _PartitionState()).outstanding.append(offset)

    def done(self, tp: TopicPartition, offset: int) -> None:
        """Mark one tracked offset done; advances the watermark past contiguous done ones."""
        state = self.__partitions[tp]
        state.done.add(offset)
        advanced = False
        while state.outstanding and state.outstanding[0] in state.done:
            first = state.outstanding.popleft()
            state.done.discard(first)
            state.next_commit = first + 1
            advanced = True
        if advanced:
            self.__changed.add(tp)

    @property
    def outstanding(self) -> int:
        """Consumed records not yet done, over all partitions."""
        return sum(len(s.outstanding) for s in self.__partitions.values())

    def take_committable(self) -> dict[TopicPartition, int]:
        """Watermarks that advanced since the last call (offset to commit = next to read)."""
        result: dict[TopicPartition, int] = {}
        for tp in self.__changed:
            next_commit = self.__partitions[tp].next_commit
            if next_commit is not None:
                result[tp] = next_commit
        self.__changed.clear()
        return result
