"""No call reaches the sandbox after a daily-limit answer, with eight workers over real HTTP
(issue #18 item 2). The sandbox logs when it answered each request; a call still in flight when
the first limit answer left (a few ms) is not one sent after it."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from sandbox_harness import Sandbox, hubspot_adapter, marketo_adapter, roomy_limiter

from streams.contracts import FatalPlatformError, PlatformAdapter, VendorRecord

pytestmark = pytest.mark.integration

IN_FLIGHT_SLACK_S = 0.05
WORKERS = 8


def hammer(adapter: PlatformAdapter, calls: int) -> None:
    def one(i: int) -> None:
        with contextlib.suppress(FatalPlatformError):
            adapter.upsert_batch([VendorRecord(f"k{i}", f"u{i}@example.com", {})])

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, range(calls)))


def calls_after_first(sandbox: Sandbox, endpoint: str, status: str) -> tuple[int, int]:
    """(calls answered after the first ``status`` answer plus the slack, ``status`` answers)."""
    log = sandbox.admin.get("/admin/requests", params={"log": 1}).json()["log"]
    entries = [e for e in log if e["endpoint"] == endpoint]
    first = min(e["t"] for e in entries if e["status"] == status)
    after = sum(1 for e in entries if e["t"] > first + IN_FLIGHT_SLACK_S)
    return after, sum(1 for e in entries if e["status"] == status)


def test_hubspot_daily_limit_stops_every_worker(sandbox: Sandbox) -> None:
    sandbox.knobs(hubspot_daily_limit=20)
    adapter = hubspot_adapter(sandbox, limiter=roomy_limiter())
    hammer(adapter, 80)
    after, answered = calls_after_first(
        sandbox, "POST /crm/v3/objects/contacts/batch/upsert", "429"
    )
    assert after == 0
    assert answered <= WORKERS  # only calls already in flight met the limit


def test_marketo_607_stops_every_worker(sandbox: Sandbox) -> None:
    sandbox.knobs(marketo_daily_limit=20)
    adapter = marketo_adapter(sandbox, limiter=roomy_limiter(concurrency=10))
    hammer(adapter, 80)
    after, answered = calls_after_first(sandbox, "POST /rest/v1/leads.json", "200:607")
    assert after == 0
    assert answered <= WORKERS
