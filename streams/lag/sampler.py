"""The sync service's lag gauges: the same numbers as ``cdcbridge lag``, every few seconds.

Gauges per topic and partition: ``cdcbridge_sync_consumer_lag`` (records) and
``cdcbridge_sync_consumer_lag_seconds``; per group ``cdcbridge_sync_consumer_group_status``
(0 OK … 4 ERR, over the last ``window`` readings). A failed reading sets the status to ERR and
leaves the other gauges as they were.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable

from cdcbridge.metrics import Metrics
from streams.lag.evaluate import Status, group_status
from streams.lag.kafka_reads import LagReadError
from streams.lag.model import GroupReading

log = logging.getLogger(__name__)


class LagSampler:
    """Reads the group through ``read`` and records the gauges; ``run`` loops until ``stop``."""

    def __init__(
        self, read: Callable[[], GroupReading], metrics: Metrics, window: int = 10
    ) -> None:
        self.__read = read
        self.__metrics = metrics
        self.__window: collections.deque[GroupReading] = collections.deque(maxlen=window)

    def sample_once(self) -> Status:
        try:
            reading = self.__read()
        except LagReadError as exc:
            log.warning("lag reading failed", extra={"error": str(exc)})
            self.__metrics.gauge("cdcbridge_sync_consumer_group_status", float(Status.ERR))
            return Status.ERR
        self.__window.append(reading)
        for p in reading.partitions:
            tags = {"topic": p.topic, "partition": str(p.partition)}
            self.__metrics.gauge("cdcbridge_sync_consumer_lag", float(p.lag), tags)
            self.__metrics.gauge(
                "cdcbridge_sync_consumer_lag_seconds", p.lag_seconds(reading.taken_at), tags
            )
        status, _ = group_status(list(self.__window))
        self.__metrics.gauge("cdcbridge_sync_consumer_group_status", float(status))
        return status

    def run(self, stop: threading.Event, interval_s: float) -> None:
        while not stop.is_set():
            self.sample_once()
            stop.wait(interval_s)
