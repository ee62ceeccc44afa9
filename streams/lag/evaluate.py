"""Burrow's consumer-lag evaluation rules, over a window of our own readings.

Burrow (linkedin/Burrow, ``core/internal/evaluator/caching.go``) reads commit times from
``__consumer_offsets``; Kafka's admin API gives none, so the window here is the last N readings
this process took, and "commits stopped" is told from "commits stuck" by whether the group has
active members. Per partition, in order:

1. lag is 0 now, or was 0 in any reading of the window -> OK
2. the committed offset went backwards -> REWIND
3. the committed offset never moved over the window while lag > 0 -> STOP when the group has no
   active member (nobody consumes), STALL when it has (a consumer is stuck)
4. the offset advanced but the lag never decreased between readings -> WARN (falling behind)
5. otherwise OK

With a single reading, rule 3 applies only to a group without members; rules 4 and 5 need two.
The group's status is its worst partition's, in the order OK < WARN < STALL < STOP < ERR, where a
REWIND and a failed reading count as ERR. (Burrow folds STALL and STOP into ERR at group level;
we keep them apart, because they call for different first actions.)
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence

from streams.lag.model import GroupReading


class Status(enum.IntEnum):
    OK = 0
    WARN = 1
    STALL = 2
    STOP = 3
    ERR = 4


class PartitionStatus(enum.Enum):
    OK = "OK"
    WARN = "WARN"
    STALL = "STALL"
    STOP = "STOP"
    REWIND = "REWIND"

    def at_group_level(self) -> Status:
        return Status.ERR if self is PartitionStatus.REWIND else Status[self.value]


def partition_status(window: Sequence[GroupReading], topic: str, partition: int) -> PartitionStatus:
    """Status of one partition over ``window`` (oldest first, non-empty)."""
    readings = [r.key()[(topic, partition)] for r in window if (topic, partition) in r.key()]
    if not readings or readings[-1].lag == 0 or any(r.lag == 0 for r in readings):
        return PartitionStatus.OK
    positions = [r.position for r in readings]
    if any(later < earlier for earlier, later in itertools.pairwise(positions)):
        return PartitionStatus.REWIND
    if positions[0] == positions[-1]:
        if window[-1].active_members == 0:
            return PartitionStatus.STOP
        if len(readings) > 1:
            return PartitionStatus.STALL
        return PartitionStatus.OK
    lags = [r.lag for r in readings]
    if all(later >= earlier for earlier, later in itertools.pairwise(lags)):
        return PartitionStatus.WARN
    return PartitionStatus.OK


def group_status(window: Sequence[GroupReading]) -> tuple[Status, dict[tuple[str, int], str]]:
    """The group's status and each partition's, over ``window`` (oldest first, non-empty)."""
    statuses = {
        (p.topic, p.partition): partition_status(window, p.topic, p.partition)
        for p in window[-1].partitions
    }
    worst = max((s.at_group_level() for s in statuses.values()), default=Status.OK)
    return worst, {tp: s.value for tp, s in statuses.items()}
