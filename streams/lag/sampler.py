"""A consumer's lag gauges: the same numbers as ``cdcbridge lag``, every few seconds.

Gauges per topic and partition: ``cdcbridge_<d>_consumer_lag`` (records) and
``cdcbridge_<d>_consumer_lag_seconds``; per group ``cdcbridge_<d>_consumer_group_status``
(0 OK … 4 ERR, over the last ``window`` readings), where ``<d>`` is ``sync`` in the sync service
(outbound, ``SYNC_GAUGES``) and ``writeback`` in the write-back (inbound, ``WRITEBACK_GAUGES``).
A failed reading sets the status to ERR and leaves the other gauges as they were.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cdcbridge.metric_names import MetricName
from cdcbridge.metrics import Metrics
from streams.lag.evaluate import Status, group_status
from streams.lag.kafka_reads import LagReadError
from streams.lag.model import GroupReading

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LagGauges:
    """The three gauge names one consumer's sampler records under."""

    lag: MetricName
    lag_seconds: MetricName
    group_status: MetricName


SYNC_GAUGES = LagGauges(
    "cdcbridge_sync_consumer_lag",
    "cdcbridge_sync_consumer_lag_seconds",
    "cdcbridge_sync_consumer_group_status",
)
WRITEBACK_GAUGES = LagGauges(
    "cdcbridge_writeback_consumer_lag",
    "cdcbridge_writeback_consumer_lag_seconds",
    "cdcbridge_writeback_consumer_group_status",
)


class LagSampler:
    """Reads the group through ``read`` and records the gauges; ``run`` loops until ``stop``."""

    def __init__(
        self,
        read: Callable[[], GroupReading],
        metrics: Metrics,
        window: int = 10,
        gauges: LagGauges = SYNC_GAUGES,
    ) -> None:
        self.__read = read
        self.__gauges = gauges
        self.__metrics = metrics
        self.__window: collections.deque[GroupReading] = collections.deque(maxlen=window)

    def sample_once(self) -> Status:
        try:
            reading = self.__read()
        except LagReadError as exc:
            log.warning("lag reading failed", extra={"error": str(exc)})
            self.__metrics.gauge(self.__gauges.group_status, float(Status.ERR))
            return Status.ERR
        self.__window.append(reading)
        for p in reading.partitions:
            tags = {"topic": p.topic, "partition": str(p.partition)}
            self.__metrics.gauge(self.__gauges.lag, float(p.lag), tags)
            self.__metrics.gauge(self.__gauges.lag_seconds, p.lag_seconds(reading.taken_at), tags)
        status, _ = group_status(list(self.__window))
        self.__metrics.gauge(self.__gauges.group_status, float(status))
        return status

    def run(self, stop: threading.Event, interval_s: float) -> None:
        while not stop.is_set():
            self.sample_once()
            stop.wait(interval_s)

    def start(self, stop: threading.Event, interval_s: float, name: str) -> None:
        """``run`` on a daemon thread named ``name``."""
        threading.Thread(target=self.run, args=(stop, interval_s), name=name, daemon=True).start()
