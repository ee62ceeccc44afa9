"""Prometheus for real: the stack's Prometheus (our rules loaded) scrapes a sync process; the
platform goes down while changes keep coming, ``CdcbridgeSyncLagHigh`` becomes firing in
Prometheus's own API, and it resolves once the platform is back and the backlog drained."""

from __future__ import annotations

import socket
import threading
import uuid

import psycopg
import pytest

from local_stack import prometheus
from local_stack import stack as local
from local_stack.endpoints import StackEndpoints
from local_stack.layout import StackLayout
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import wait_for
from tests.fakes.sync_process import SyncGroup, unique_email

pytestmark = pytest.mark.integration
ALERT = "CdcbridgeSyncLagHigh"


def lag_alert_state() -> str | None:
    for alert in prometheus.alerts():
        labels = alert["labels"]
        assert isinstance(labels, dict)
        if labels.get("alertname") == ALERT:
            return str(alert["state"])
    return None


def test_lag_alert_fires_during_an_outage_and_resolves(
    stack: StackEndpoints, sync_group: SyncGroup, sandbox: Sandbox
) -> None:
    if stack.origin != "local":
        pytest.skip("Prometheus runs in the local stack only")
    layout = StackLayout.default()
    local.up(layout, with_prometheus=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        metrics_port = sock.getsockname()[1]
    sync = sync_group.spawn(
        CDCBRIDGE_METRICS_PORT=str(metrics_port), CDCBRIDGE_SYNC_LAG_SAMPLE_INTERVAL_S="1",
        CDCBRIDGE_SYNC_RETRY_CAP_S="2",
    )  # fmt: skip
    target = prometheus.add_target(layout, f"cdcbridge-it-{uuid.uuid4().hex[:6]}",
                                   f"127.0.0.1:{metrics_port}")  # fmt: skip
    stop_writing = threading.Event()

    def keep_writing() -> None:
        with psycopg.connect(stack.pg_dsn, autocommit=True) as pg:
            while not stop_writing.is_set():
                pg.execute("INSERT INTO customers (email) VALUES (%s)", (unique_email("prom"),))
                stop_writing.wait(2.0)

    writer = threading.Thread(target=keep_writing, daemon=True)
    try:
        assert lag_alert_state() is None, "the alert must be quiet before the outage"
        sandbox.knobs(outage_s=3600)
        writer.start()
        wait_for(lambda: lag_alert_state() == "pending", 150, f"{ALERT} pending", 1.0)
        wait_for(lambda: lag_alert_state() == "firing", 240, f"{ALERT} firing", 1.0)
        sandbox.knobs(outage_s=0)  # the platform is back while changes still flow
        wait_for(lambda: lag_alert_state() is None, 180, f"{ALERT} resolved", 1.0)
    finally:
        stop_writing.set()
        sandbox.knobs(outage_s=0)
        target.unlink(missing_ok=True)
    assert sync.stop() == 0, sync.log()
