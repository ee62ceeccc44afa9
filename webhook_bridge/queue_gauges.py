"""The forwarder's view of its queues for SREs: ``sqs.queue.depth`` and the oldest message's age.

Depth: every ``every_s`` the sampler asks each queue (the engagement queue and its DLQ) for its
approximate visible count and sets ``cdcbridge_sqs_queue_depth{queue}``. Age: after each receive
the forwarder reports the messages it got; the gauge ``cdcbridge_sqs_oldest_message_age_seconds``
is now minus the oldest ``SentTimestamp`` among them (SQS hands out roughly oldest first), and 0
when a long poll came back empty (the queue is drained). A queue that cannot be asked is logged
and skipped, never raised into the forwarder's loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence

from cdcbridge.clock import Clock
from cdcbridge.metrics import Metrics
from webhook_bridge.queue import QueueMessage, QueueUnavailable

log = logging.getLogger(__name__)

DepthReader = Callable[[], int]
"""Returns the queue's approximate visible message count; raises ``QueueUnavailable``."""


class QueueGauges:
    def __init__(
        self,
        depths: Mapping[str, DepthReader],
        main_queue: str,
        metrics: Metrics,
        clock: Clock,
        every_s: float = 10.0,
    ) -> None:
        self.__depths = dict(depths)
        self.__main = main_queue
        self.__metrics = metrics
        self.__clock = clock
        self.__every_s = every_s
        self.__last: float | None = None
        self.__lock = threading.Lock()  # the forwarder's receive threads all report here

    def maybe_sample_depth(self) -> None:
        """Sample every queue's depth if ``every_s`` passed since the last time."""
        now = self.__clock.monotonic()
        with self.__lock:
            if self.__last is not None and now - self.__last < self.__every_s:
                return
            self.__last = now
        for name, read in self.__depths.items():
            try:
                depth = read()
            except QueueUnavailable as exc:
                log.warning("queue depth unavailable", extra={"queue": name, "error": str(exc)})
                continue
            self.__metrics.gauge("cdcbridge_sqs_queue_depth", float(depth), {"queue": name})

    def received(self, messages: Sequence[QueueMessage]) -> None:
        """Record the age of the oldest of the messages one receive returned."""
        stamps = [m.sent_at_ms for m in messages if m.sent_at_ms is not None]
        age = max(self.__clock.time() - min(stamps) / 1000.0, 0.0) if stamps else 0.0
        self.__metrics.gauge(
            "cdcbridge_sqs_oldest_message_age_seconds", age, {"queue": self.__main}
        )
