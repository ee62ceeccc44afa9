"""The forwarder waits for a queue that does not answer at start, and stops when told."""

from __future__ import annotations

import threading

import pytest

from webhook_bridge.queue import QueueUnavailable
from webhook_bridge.startup import until_queue_answers

pytestmark = pytest.mark.unit


class RecordingStop(threading.Event):
    """A stop event whose waits are recorded instead of slept."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.stop_after = stop_after

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        if self.stop_after is not None and len(self.waits) >= self.stop_after:
            self.set()
        return self.is_set()


def test_it_retries_with_doubling_capped_waits_until_the_queue_answers() -> None:
    failures = iter([QueueUnavailable("down")] * 6)

    def build() -> str:
        for exc in failures:
            raise exc
        return "forwarder"

    stop = RecordingStop()
    assert until_queue_answers(build, stop, first_s=0.5, cap_s=4.0) == "forwarder"
    assert stop.waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_stop_while_the_queue_is_down_returns_none() -> None:
    def build() -> str:
        raise QueueUnavailable("down")

    stop = RecordingStop(stop_after=3)
    assert until_queue_answers(build, stop) is None
    assert len(stop.waits) == 3


def test_other_errors_are_not_retried() -> None:
    def build() -> str:
        raise ValueError("bad sources file")

    with pytest.raises(ValueError, match="bad sources file"):
        until_queue_answers(build, RecordingStop())
