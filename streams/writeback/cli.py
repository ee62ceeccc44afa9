"""``cdcbridge writeback``: engagement events from Kafka into PostgreSQL (registered by
``cdcbridge.cli``). Options override the environment (``CDCBRIDGE_WRITEBACK_*``).

Exit codes: 0 after SIGTERM/SIGINT (the batch in progress is either committed or re-read on
the next start); 2 on a ``FatalError`` (a Kafka error retrying cannot fix) or a database error
retrying cannot fix (the message says which).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING

import psycopg

from cdcbridge.clock import SYSTEM_CLOCK
from cdcbridge.errors import FatalError
from cdcbridge.metrics import Metrics, NoOpMetrics

if TYPE_CHECKING:
    from streams.writeback.consumer import WritebackSettings

log = logging.getLogger(__name__)

_OPTIONS = {
    "dsn": "dsn",
    "bootstrap_servers": "bootstrap_servers",
    "topic": "topic",
    "group_id": "group_id",
    "mapping_file": "mapping_file",
}


def run(args: argparse.Namespace) -> int:
    from streams.writeback.consumer import WritebackLoop, WritebackSettings

    overrides = {k: getattr(args, k) for k in _OPTIONS if getattr(args, k, None) is not None}
    settings = WritebackSettings(**overrides)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("writeback starting", extra={"topic": settings.topic, "group": settings.group_id})
    from cdcbridge.metrics_setup import metrics_from_env

    metrics = metrics_from_env(args.metrics_port)
    _start_lag_sampler(settings, metrics, stop)
    loop = WritebackLoop(settings, stop, from_beginning=args.from_beginning, metrics=metrics)
    try:
        loop.run()
    except psycopg.OperationalError:
        if stop.is_set():
            return 0
        raise
    except (FatalError, psycopg.Error) as exc:  # WritebackFatal
        log.error("writeback stopped: %s", exc, extra={"error_class": type(exc).__name__})
        return 2
    log.info("writeback stopped cleanly")
    return 0


def _start_lag_sampler(
    settings: WritebackSettings, metrics: Metrics, stop: threading.Event
) -> None:
    """Export the group's lag (``cdcbridge lag --direction inbound``'s numbers) as the
    ``cdcbridge_writeback_consumer_*`` gauges from a daemon thread, when metrics are exported."""
    if not settings.lag_sample_interval_s or isinstance(metrics, NoOpMetrics):
        return
    from streams.lag.kafka_reads import read_group
    from streams.lag.sampler import WRITEBACK_GAUGES, LagSampler

    read = partial(
        read_group, settings.bootstrap_servers, settings.group_id, [settings.topic], SYSTEM_CLOCK
    )
    sampler = LagSampler(read, metrics, gauges=WRITEBACK_GAUGES)
    threading.Thread(
        target=sampler.run,
        args=(stop, settings.lag_sample_interval_s),
        name="writeback-lag-sampler",
        daemon=True,
    ).start()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "writeback", help="write engagement events into PostgreSQL (exactly once, no echo)"
    )
    parser.add_argument("--dsn", help="PostgreSQL DSN")
    parser.add_argument("--bootstrap-servers", help="Kafka bootstrap servers")
    parser.add_argument("--topic", help="engagement topic (default marketing.engagement.v1)")
    parser.add_argument("--group-id", help="consumer group (default cdcbridge-writeback)")
    parser.add_argument("--mapping-file", help="inbound mapping (default writeback.yaml)")
    parser.add_argument(
        "--from-beginning",
        action="store_true",
        help="re-read the topic from its start (replays change nothing: rows are keyed)",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus /metrics on this port (0: off; env CDCBRIDGE_METRICS_PORT)",
    )
    parser.set_defaults(handler=run)
