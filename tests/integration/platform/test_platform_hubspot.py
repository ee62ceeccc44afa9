"""The HubSpot adapter against the sandbox: rate-limit policies, partial failures, duplicate
collapsing, email changes, read and archive."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from cdcbridge.clock import SYSTEM_CLOCK, MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import (
    DeleteMechanism,
    FatalPlatformError,
    PublishedLimits,
    RecordOutcome,
    VendorRecord,
)
from streams.platform.auth import StaticBearer
from streams.platform.exchange import Exchange
from streams.platform.http import build_session
from streams.platform.hubspot import HubSpotAdapter
from streams.platform.ratelimit import RateLimiter
from tests.fakes.platform_sandbox import Sandbox, hubspot_adapter

pytestmark = pytest.mark.integration

UPSERT = "POST /crm/v3/objects/contacts/batch/upsert"


def record(email: str, key: str = "", previous: str | None = None, **props: str) -> VendorRecord:
    return VendorRecord(
        key=key or email, id_value=email, properties=props, previous_id_value=previous
    )


def emails(sandbox: Sandbox) -> list[str]:
    return sorted(sandbox.stored("hubspot"))


def test_ten_secondly_429_pauses_every_caller_for_the_window(sandbox: Sandbox) -> None:
    sandbox.knobs(burst_429=1, burst_429_policy="TEN_SECONDLY_ROLLING")
    limiter_clock = MockedClock(start=time.time())
    limiter = RateLimiter(100, 10.0, clock=limiter_clock)
    adapter = hubspot_adapter(sandbox, limiter=limiter, policy_clock=limiter_clock)

    results = adapter.upsert_batch([record("a@example.com")])

    assert results[0].outcome is RecordOutcome.OK
    assert sandbox.endpoint(UPSERT) == {"429": 1, "200": 1}
    assert max(limiter_clock.sleeps) >= 10.0  # waited out HubSpot's 10 s window


def test_stricter_server_reported_limit_is_adopted(sandbox: Sandbox) -> None:
    sandbox.knobs(hubspot_limit=3, hubspot_window_s=0.5)
    limiter = RateLimiter(10_000, 1.0)
    adapter = hubspot_adapter(sandbox, limiter=limiter)

    for i in range(6):
        assert adapter.upsert_batch([record(f"u{i}@example.com")])[0].outcome is RecordOutcome.OK

    assert sandbox.endpoint(UPSERT) == {"200": 6}  # X-HubSpot-RateLimit-* headers obeyed
    assert (limiter.requests, limiter.window_s) == (3, 0.5)


def test_daily_429_is_fatal_and_not_retried(sandbox: Sandbox) -> None:
    sandbox.knobs(burst_429=1, burst_429_policy="DAILY")
    metrics = RecordingMetrics()
    adapter = hubspot_adapter(sandbox, metrics=metrics)

    with pytest.raises(FatalPlatformError, match="DAILY"):
        adapter.upsert_batch([record("a@example.com")])

    assert sandbox.endpoint(UPSERT) == {"429": 1}
    assert metrics.total("cdcbridge_fatal_errors_total") == 1


def test_daily_limit_reached_stops_sending(sandbox: Sandbox) -> None:
    sandbox.knobs(hubspot_daily_limit=2)
    adapter = hubspot_adapter(sandbox)
    adapter.upsert_batch([record("a@example.com")])
    adapter.upsert_batch([record("b@example.com")])

    with pytest.raises(FatalPlatformError):
        adapter.upsert_batch([record("c@example.com")])
    assert sandbox.endpoint(UPSERT) == {"200": 2, "429": 1}


def test_207_reports_only_the_failed_items(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox)
    batch = [record("ok1@example.com"), record("not-an-email"), record("ok2@example.com")]

    results = adapter.upsert_batch(batch)

    assert [r.outcome for r in results] == [
        RecordOutcome.OK, RecordOutcome.INVALID, RecordOutcome.OK,
    ]  # fmt: skip
    assert [r.key for r in results] == ["ok1@example.com", "not-an-email", "ok2@example.com"]
    assert results[1].error_code == "VALIDATION_ERROR"
    assert sandbox.endpoint(UPSERT) == {"207": 1}
    assert emails(sandbox) == ["ok1@example.com", "ok2@example.com"]


def test_duplicate_keys_are_collapsed_last_write_wins(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox)
    batch = [
        record("a@example.com", key="k1", firstname="old"),
        record("b@example.com", key="k2"),
        record("A@example.com", key="k1", firstname="new"),
    ]

    results = adapter.upsert_batch(batch)

    assert [r.outcome for r in results] == [RecordOutcome.OK] * 3
    assert sandbox.endpoint(UPSERT) == {"200": 1}  # one request, no "Duplicate IDs" 400
    assert sandbox.stored("hubspot")["a@example.com"]["firstname"] == "new"


def test_whole_batch_400_is_bisected(sandbox: Sandbox) -> None:
    sandbox.knobs(hubspot_max_batch=2)
    adapter = hubspot_adapter(sandbox)

    results = adapter.upsert_batch([record(f"b{i}@example.com") for i in range(3)])

    assert [r.outcome for r in results] == [RecordOutcome.OK] * 3
    assert sandbox.endpoint(UPSERT) == {"400": 1, "200": 2}


def test_email_change_updates_the_existing_contact(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox)
    first = adapter.upsert_batch([record("old@example.com", key="c1", firstname="Ann")])[0]

    moved = record("new@example.com", key="c1", previous="old@example.com", firstname="Ann")
    second = adapter.upsert_batch([moved])[0]
    replay = adapter.upsert_batch([moved])[0]

    assert second.outcome is RecordOutcome.OK and replay.outcome is RecordOutcome.OK
    assert second.platform_id == first.platform_id == replay.platform_id
    assert emails(sandbox) == ["new@example.com"]


def test_email_change_onto_an_existing_contact_updates_that_one(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox)
    adapter.upsert_batch([record("old@example.com"), record("new@example.com", key="c9")])

    result = adapter.upsert_batch(
        [record("new@example.com", key="c1", previous="old@example.com", firstname="Z")]
    )[0]

    assert result.outcome is RecordOutcome.OK
    assert emails(sandbox) == ["new@example.com", "old@example.com"]


def test_read_and_archive(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox)
    adapter.upsert_batch([record("r1@example.com", firstname="R"), record("r2@example.com")])

    found = adapter.read_batch(["R1@example.com", "missing@example.com"])
    assert list(found) == ["R1@example.com"]
    assert found["R1@example.com"]["firstname"] == "R"

    archived = adapter.remove_batch(
        [record("r1@example.com"), record("gone@example.com")], DeleteMechanism.ARCHIVE
    )
    assert [r.outcome for r in archived] == [RecordOutcome.OK, RecordOutcome.OK]
    assert emails(sandbox) == ["r2@example.com"]


def test_rejected_private_app_token_is_fatal(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox, auth=StaticBearer(SecretStr("revoked")))
    with pytest.raises(FatalPlatformError, match="401"):
        adapter.upsert_batch([record("a@example.com")])
    assert sandbox.endpoint(UPSERT) == {"401": 1}


class RacingExchange(Exchange):
    """Creates the new email's contact right after our read: the update then conflicts."""

    def send(self, method: str, path: str, **kw: Any) -> requests.Response:
        response = super().send(method, path, **kw)
        if path.endswith("/batch/read"):
            body = {"inputs": [{"id": "new@example.com", "idProperty": "email",
                                "properties": {"firstname": "Other"}}]}  # fmt: skip
            super().send("POST", UPSERT.split(" ", 1)[1], token=kw["token"], json=body)
        return response


def test_conflict_on_email_change_falls_back_to_an_update(sandbox: Sandbox) -> None:
    adapter = hubspot_adapter(sandbox)
    adapter.upsert_batch([record("old@example.com", key="c1")])
    racing = RacingExchange(build_session(), sandbox.url, "hubspot")
    adapter = HubSpotAdapter(
        racing, StaticBearer(SecretStr("sandbox-token")), RateLimiter(1000, 1.0),
        PublishedLimits(100, 10.0, 100), clock=SYSTEM_CLOCK, metrics=RecordingMetrics(),
    )  # fmt: skip

    moved = record("new@example.com", key="c1", previous="old@example.com", firstname="Ann")
    result = adapter.upsert_batch([moved])[0]

    assert result.outcome is RecordOutcome.OK
    assert sandbox.endpoint("POST /crm/v3/objects/contacts/batch/update") == {"207": 1}
    assert sandbox.stored("hubspot")["new@example.com"]["firstname"] == "Ann"
