"""Lag arithmetic on awkward partitions and the Burrow-style status over a window."""

from __future__ import annotations

import math

import pytest

from streams.lag.evaluate import Status, group_status
from streams.lag.model import GroupReading, PartitionReading
from streams.lag.report import lag_document, lag_table

pytestmark = pytest.mark.unit


def reading(
    committed: int | None, end: int, *, start: int = 0, ts_ms: int | None = None,
    at: float = 1000.0, members: int = 1,
) -> GroupReading:  # fmt: skip
    return GroupReading(
        "g", at, members, (PartitionReading("t", 0, committed, start, end, ts_ms),)
    )


@pytest.mark.parametrize(
    ("committed", "start", "end", "lag"),
    [
        (None, 0, 0, 0),  # empty topic, never committed
        (None, 5, 9, 4),  # never committed: resumes at the log start (auto.offset.reset)
        (3, 10, 10, 0),  # retention deleted past the committed offset, nothing new
        (12, 0, 10, 0),  # committed beyond the end (truncated log): never negative
        (7, 0, 10, 3),
    ],
)
def test_lag_is_never_negative(committed: int | None, start: int, end: int, lag: int) -> None:
    partition = reading(committed, end, start=start).partitions[0]
    assert partition.lag == lag
    seconds = partition.lag_seconds(1000.0)
    assert seconds >= 0 and not math.isnan(seconds)


def test_lag_seconds_is_the_age_of_the_oldest_unconsumed_record() -> None:
    partition = reading(7, 10, ts_ms=990_500).partitions[0]
    assert partition.lag_seconds(1000.0) == 9.5
    assert partition.lag_seconds(900.0) == 0.0  # a clock behind the broker's: not negative
    assert reading(10, 10, ts_ms=990_500).partitions[0].lag_seconds(1000.0) == 0.0


def status(*window: GroupReading) -> Status:
    return group_status(list(window))[0]


def test_statuses_over_a_window() -> None:
    assert status(reading(10, 10)) is Status.OK
    assert status(reading(5, 10)) is Status.OK  # one reading, a live member: no verdict yet
    assert status(reading(5, 10, members=0)) is Status.STOP  # nobody consumes
    assert status(reading(5, 10), reading(5, 12)) is Status.STALL  # member present, stuck
    assert status(reading(5, 10, members=0), reading(5, 12, members=0)) is Status.STOP
    assert status(reading(5, 10), reading(6, 12), reading(8, 15)) is Status.WARN  # falling behind
    assert status(reading(5, 10), reading(9, 12)) is Status.OK  # catching up
    assert status(reading(5, 10), reading(10, 10), reading(10, 14)) is Status.OK  # was at 0
    assert status(reading(8, 10), reading(5, 10)) is Status.ERR  # rewound


def test_document_and_table() -> None:
    window = [reading(5, 10, ts_ms=990_000, members=0)]
    doc = lag_document(window)
    assert doc["status"] == "STOP"
    assert doc["total_lag"] == 5 and doc["max_lag_seconds"] == 10.0
    assert doc["partitions"] == [{"topic": "t", "partition": 0, "committed": 5, "log_start": 0,
                                  "log_end": 10, "lag": 5, "lag_seconds": 10.0, "status": "STOP"}]
    table = lag_table(doc)
    assert "STATUS STOP" in table and table.splitlines()[2].split() == [
        "t", "0", "5", "10", "5", "10.0", "STOP"]
