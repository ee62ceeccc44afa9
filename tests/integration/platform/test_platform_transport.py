"""Retries, backoff, Retry-After and TLS over real HTTP against the sandbox."""

from __future__ import annotations

import logging
import time

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.logs import JsonFormatter, trace_context
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import RecordOutcome, TransientPlatformError, VendorRecord
from tests.fakes.platform_sandbox import Sandbox, hubspot_adapter

pytestmark = pytest.mark.integration

UPSERT = "POST /crm/v3/objects/contacts/batch/upsert"


def record(email: str, **props: str) -> VendorRecord:
    return VendorRecord(key=email, id_value=email, properties=props)


def test_5xx_is_retried_with_exponential_backoff(sandbox: Sandbox) -> None:
    sandbox.knobs(fail_next=2)
    clock = MockedClock(start=time.time())
    adapter = hubspot_adapter(sandbox, transport_clock=clock)

    results = adapter.upsert_batch([record("a@example.com", firstname="Ann")])

    assert [r.outcome for r in results] == [RecordOutcome.OK]
    assert sandbox.endpoint(UPSERT) == {"500": 2, "200": 1}
    assert [s for s in clock.sleeps if s > 0] == [2.0]  # backoff_factor 1: 0 s, then 2 s


def test_every_transport_retry_is_a_log_line_with_trace_id_and_a_metric(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.knobs(fail_next=2, error_status=502)
    metrics = RecordingMetrics()
    adapter = hubspot_adapter(sandbox, transport_clock=MockedClock(), metrics=metrics)

    with caplog.at_level(logging.WARNING), trace_context("trace-5xx"):
        adapter.upsert_batch([record("a@example.com")])

    retries = {
        tags: n for (name, tags), n in metrics.counters.items()
        if name == "cdcbridge_platform_retries_total"
    }  # fmt: skip
    assert retries == {(("layer", "transport"), ("platform", "hubspot"), ("reason", "502")): 2}
    lines = [r for r in caplog.records if r.getMessage() == "transport retrying a request"]
    assert len(lines) == 2
    assert {JsonFormatter().format(r).count('"trace_id": "trace-5xx"') for r in lines} == {1}


def test_backoff_is_capped_and_gives_up_after_five_retries(sandbox: Sandbox) -> None:
    sandbox.knobs(fail_next=50, error_status=503)
    clock = MockedClock(start=time.time())
    adapter = hubspot_adapter(sandbox, transport_clock=clock, backoff_max=5.0)

    with pytest.raises(TransientPlatformError):
        adapter.upsert_batch([record("a@example.com")])

    # 1 try + 5 retries spaced 0, 2, 4, 5 (cap), 5; then the adapter gives up (transient).
    assert sandbox.endpoint(UPSERT) == {"503": 6}
    assert clock.sleeps == [0.0, 2.0, 4.0, 5.0, 5.0]


def test_retry_after_in_seconds_is_honoured(sandbox: Sandbox) -> None:
    sandbox.knobs(burst_429=1, retry_after="seconds", retry_after_s=3)
    clock = MockedClock(start=time.time())
    adapter = hubspot_adapter(sandbox, transport_clock=clock)

    results = adapter.upsert_batch([record("a@example.com")])

    assert results[0].outcome is RecordOutcome.OK
    assert sandbox.endpoint(UPSERT) == {"429": 1, "200": 1}
    assert clock.sleeps == [3.0]


def test_retry_after_as_http_date_is_honoured(sandbox: Sandbox) -> None:
    sandbox.knobs(fail_next=1, error_status=503, retry_after="date", retry_after_s=5)
    clock = MockedClock(start=time.time())
    adapter = hubspot_adapter(sandbox, transport_clock=clock)

    adapter.upsert_batch([record("a@example.com")])

    assert sandbox.endpoint(UPSERT) == {"503": 1, "200": 1}
    assert len(clock.sleeps) == 1
    assert 4.0 <= clock.sleeps[0] <= 7.0


def test_outage_window_surfaces_as_transient_error(sandbox: Sandbox) -> None:
    sandbox.knobs(outage_s=60, retry_after="seconds", retry_after_s=1)
    clock = MockedClock(start=time.time())
    adapter = hubspot_adapter(sandbox, transport_clock=clock)

    with pytest.raises(TransientPlatformError):
        adapter.upsert_batch([record("a@example.com")])
    assert sandbox.contacts("hubspot") == []
