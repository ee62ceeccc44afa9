"""``supervisor``: restarts after ``KafkaUnavailable`` with capped, jittered backoff (seeded),
reset by a healthy run; fatal errors and a stop end it."""

from __future__ import annotations

import logging
import random
import threading

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metric_names import MetricName
from cdcbridge.metrics import RecordingMetrics
from streams.sync.consumer_attempt import Progress, run_watched
from streams.sync.kafka_guard import ConsumerStalled, KafkaRefused, KafkaUnavailable
from streams.sync.supervisor import RestartBackoff, supervise

pytestmark = pytest.mark.unit

RESTARTS: MetricName = "cdcbridge_sync_consumer_restarts_total"


def test_backoff_doubles_to_the_cap_with_jitter_from_the_seeded_random() -> None:
    backoff = RestartBackoff(random.Random(17).random)
    draws = random.Random(17)
    delays = [backoff.next_delay(ran_for_s=1.0) for _ in range(8)]
    ceilings = [1, 2, 4, 8, 16, 30, 30, 30]
    assert delays == [c * (0.5 + 0.5 * draws.random()) for c in ceilings]
    assert all(c / 2 <= d <= c for c, d in zip(ceilings, delays, strict=True))


def test_a_healthy_run_of_60_s_resets_the_backoff() -> None:
    backoff = RestartBackoff(lambda: 1.0)  # no jitter: the ceiling itself
    assert [backoff.next_delay(5.0) for _ in range(4)] == [1, 2, 4, 8]
    assert backoff.next_delay(59.9) == 16
    assert backoff.next_delay(60.0) == 1
    assert backoff.failures == 1


class Attempts:
    """Raises the given failures in turn (each after ``runs_s`` on the clock), then answers."""

    def __init__(self, clock: MockedClock, failures: list[Exception], runs_s: float = 1.0) -> None:
        self.clock, self.failures, self.runs_s, self.count = clock, failures, runs_s, 0

    def __call__(self) -> str:
        self.count += 1
        self.clock.advance(self.runs_s)
        if self.failures:
            raise self.failures.pop(0)
        return "stopped"


class Records(logging.Handler):
    """The supervisor's log records (a handler and level of its own, enabled: other tests set
    the root logger's level, and a third-party ``dictConfig`` disables existing loggers)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_transient_kafka_failures_restart_after_the_backoff() -> None:
    clock, metrics, waits = MockedClock(), RecordingMetrics(), list[float]()
    attempts = Attempts(clock, [KafkaUnavailable("commit"), ConsumerStalled("stuck"),
                                KafkaUnavailable("down")])  # fmt: skip

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return False

    logger, handler = logging.getLogger("streams.sync.supervisor"), Records()
    logger.addHandler(handler)
    level, disabled = logger.level, logger.disabled
    logger.setLevel(logging.INFO)
    logger.disabled = False
    try:
        result = supervise(attempts, clock=clock, wait=wait, backoff=RestartBackoff(lambda: 0.0),
                           metrics=metrics, stopping=lambda: False)  # fmt: skip
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled
    assert result == "stopped" and attempts.count == 4
    assert waits == [0.5, 1.0, 2.0]
    assert metrics.counters[(RESTARTS, (("reason", "kafka_unavailable"),))] == 2
    assert metrics.counters[(RESTARTS, (("reason", "poll_stalled"),))] == 1
    restarts = [r for r in handler.records if r.getMessage() == "sync consumer restarting"]
    reasons = [r.__dict__["reason"] for r in restarts]
    assert reasons == ["kafka_unavailable", "poll_stalled", "kafka_unavailable"]


def test_a_fatal_error_passes_through_without_a_restart() -> None:
    clock, metrics = MockedClock(), RecordingMetrics()
    attempts = Attempts(clock, [KafkaRefused("topic authorization failed")])
    with pytest.raises(KafkaRefused):
        supervise(attempts, clock=clock, wait=lambda _s: False, backoff=RestartBackoff(lambda: 0.5),
                  metrics=metrics, stopping=lambda: False)  # fmt: skip
    assert attempts.count == 1 and metrics.total(RESTARTS) == 0


def test_a_stop_during_the_backoff_ends_it_and_a_failure_while_stopping_is_raised() -> None:
    clock = MockedClock()
    stopped = supervise(Attempts(clock, [KafkaUnavailable("down")]), clock=clock,
                        wait=lambda _s: True, backoff=RestartBackoff(lambda: 0.5),
                        metrics=RecordingMetrics(), stopping=lambda: False)  # fmt: skip
    assert stopped is None
    with pytest.raises(KafkaUnavailable):
        supervise(Attempts(clock, [KafkaUnavailable("down")]), clock=clock,
                  wait=lambda _s: False, backoff=RestartBackoff(lambda: 0.5),
                  metrics=RecordingMetrics(), stopping=lambda: True)  # fmt: skip


def test_the_watchdog_abandons_a_consumer_whose_poll_never_returns() -> None:
    clock = MockedClock()
    progress, release, abandoned = Progress(clock), threading.Event(), threading.Event()

    def stuck() -> None:
        clock.advance(61.0)  # poll entered and never came back
        release.wait(10)

    def abandon() -> None:
        abandoned.set()
        release.set()

    with pytest.raises(ConsumerStalled, match="61s"):
        run_watched(stuck, progress, 60.0, abandon=abandon, stopping=threading.Event(),
                    check_every_s=0.01, grace_s=5.0)  # fmt: skip
    assert abandoned.is_set()


def test_the_watchdog_leaves_a_stopping_or_beating_consumer_and_reraises_its_failure() -> None:
    clock = MockedClock()
    progress, stopping = Progress(clock), threading.Event()

    def beats_then_fails() -> None:
        for _ in range(50):
            clock.advance(30.0)
            progress.beat()
        raise KafkaRefused("group authorization failed")

    with pytest.raises(KafkaRefused):
        run_watched(beats_then_fails, progress, 60.0, abandon=pytest.fail, stopping=stopping,
                    check_every_s=0.001)  # fmt: skip
    stopping.set()
    clock.advance(600.0)
    assert progress.idle_for() > 60.0
    run_watched(lambda: None, progress, 60.0, abandon=pytest.fail, stopping=stopping)
