"""The Marketo adapter against the sandbox: errors inside HTTP 200 (601/602/606/607/615),
per-record skipped reasons, email changes, read and delete."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import DeleteMechanism, FatalPlatformError, RecordOutcome, VendorRecord
from streams.platform.ratelimit import RateLimiter
from tests.fakes.platform_sandbox import Sandbox, marketo_adapter, marketo_auth

pytestmark = pytest.mark.integration

LEADS = "POST /rest/v1/leads.json"
TOKEN = "GET /identity/oauth/token"


def record(email: str, key: str = "", previous: str | None = None, **props: str) -> VendorRecord:
    return VendorRecord(
        key=key or email, id_value=email, properties=props, previous_id_value=previous
    )


def emails(sandbox: Sandbox) -> list[str]:
    return sorted(sandbox.stored("marketo"))


@pytest.mark.parametrize("code", ["601", "602"])
def test_token_errors_reauthenticate_once(sandbox: Sandbox, code: str) -> None:
    adapter = marketo_adapter(sandbox)
    adapter.upsert_batch([record("warm@example.com")])
    sandbox.knobs(marketo_error_code=code, marketo_error_count=1)

    results = adapter.upsert_batch([record("a@example.com")])

    assert results[0].outcome is RecordOutcome.OK
    assert sandbox.endpoint(TOKEN) == {"200": 2}
    assert sandbox.endpoint(LEADS) == {"200": 2, f"200:{code}": 1}


def test_expired_token_is_replaced(sandbox: Sandbox) -> None:
    metrics = RecordingMetrics()
    adapter = marketo_adapter(sandbox, metrics=metrics)
    adapter.upsert_batch([record("warm@example.com")])
    sandbox.admin.post("/admin/tokens/expire").raise_for_status()

    assert adapter.upsert_batch([record("a@example.com")])[0].outcome is RecordOutcome.OK
    assert sandbox.endpoint(LEADS) == {"200": 2, "200:602": 1}
    assert sandbox.endpoint(TOKEN) == {"200": 2}
    # The 602 (in an HTTP 200) is counted under its code, not as a success, and retried once.
    requests = {
        dict(tags)["status"]: n for (name, tags), n in metrics.counters.items()
        if name == "cdcbridge_platform_requests_total"
    }  # fmt: skip
    assert requests == {"200": 2, "602": 1}
    assert metrics.total("cdcbridge_platform_retries_total") == 1


def test_606_waits_out_the_window_for_every_caller(sandbox: Sandbox) -> None:
    sandbox.knobs(marketo_error_code="606", marketo_error_count=1)
    clock = MockedClock(start=time.time())
    adapter = marketo_adapter(
        sandbox, limiter=RateLimiter(100, 20.0, clock=clock), policy_clock=clock
    )

    assert adapter.upsert_batch([record("a@example.com")])[0].outcome is RecordOutcome.OK
    assert sandbox.endpoint(LEADS) == {"200:606": 1, "200": 1}
    assert max(clock.sleeps) >= 20.0


def test_615_backs_off_then_succeeds(sandbox: Sandbox) -> None:
    sandbox.knobs(marketo_error_code="615", marketo_error_count=2)
    clock = MockedClock(start=time.time())
    adapter = marketo_adapter(sandbox, policy_clock=clock)

    assert adapter.upsert_batch([record("a@example.com")])[0].outcome is RecordOutcome.OK
    assert sandbox.endpoint(LEADS) == {"200:615": 2, "200": 1}
    assert [s for s in clock.sleeps if s > 0] == [1.0, 2.0]


def test_607_daily_quota_is_fatal(sandbox: Sandbox) -> None:
    sandbox.knobs(marketo_daily_limit=1)
    metrics = RecordingMetrics()
    adapter = marketo_adapter(sandbox, metrics=metrics)
    adapter.upsert_batch([record("a@example.com")])

    with pytest.raises(FatalPlatformError, match="607"):
        adapter.upsert_batch([record("b@example.com")])
    assert sandbox.endpoint(LEADS) == {"200": 1, "200:607": 1}
    assert metrics.total("cdcbridge_fatal_errors_total") == 1


def test_real_rate_limit_606_from_the_sandbox(sandbox: Sandbox) -> None:
    sandbox.knobs(marketo_limit=2, marketo_window_s=0.3)
    adapter = marketo_adapter(sandbox)  # our limiter is roomy: the sandbox says 606

    for i in range(4):
        assert adapter.upsert_batch([record(f"m{i}@example.com")])[0].outcome is RecordOutcome.OK
    counts = sandbox.endpoint(LEADS)
    assert counts["200"] == 4 and counts.get("200:606", 0) >= 1


def test_skipped_records_are_reported_individually(sandbox: Sandbox) -> None:
    adapter = marketo_adapter(sandbox)
    batch = [
        record("ok@example.com", firstName="A"),
        record("broken", firstName="B"),
        VendorRecord(key="k3", id_value="c@example.com", properties={"bad field": "x"}),
    ]

    results = adapter.upsert_batch(batch)

    assert [r.outcome for r in results] == [
        RecordOutcome.OK, RecordOutcome.INVALID, RecordOutcome.INVALID,
    ]  # fmt: skip
    assert [r.error_code for r in results] == [None, "1003", "1006"]
    assert results[0].created is True
    assert emails(sandbox) == ["ok@example.com"]


def test_duplicates_collapsed_and_email_change_keeps_the_lead(sandbox: Sandbox) -> None:
    adapter = marketo_adapter(sandbox)
    results = adapter.upsert_batch(
        [record("old@example.com", key="c1", firstName="x"),
         record("old@example.com", key="c1", firstName="y")]
    )  # fmt: skip
    assert [r.outcome for r in results] == [RecordOutcome.OK] * 2

    moved = record("new@example.com", key="c1", previous="old@example.com", firstName="y")
    first, replay = adapter.upsert_batch([moved])[0], adapter.upsert_batch([moved])[0]

    assert first.platform_id == results[0].platform_id == replay.platform_id
    assert emails(sandbox) == ["new@example.com"]
    assert sandbox.stored("marketo")["new@example.com"]["firstName"] == "y"


def test_read_and_delete(sandbox: Sandbox) -> None:
    adapter = marketo_adapter(sandbox)
    adapter.upsert_batch([record("r1@example.com", firstName="R"), record("r2@example.com")])

    found = adapter.read_batch(["r1@example.com", "none@example.com"])
    assert list(found) == ["r1@example.com"] and found["r1@example.com"]["firstName"] == "R"

    deleted = adapter.remove_batch([record("r1@example.com")], DeleteMechanism.HARD_DELETE)
    assert deleted[0].outcome is RecordOutcome.OK
    assert emails(sandbox) == ["r2@example.com"]


def test_token_refreshed_before_expiry_never_sees_602(sandbox: Sandbox) -> None:
    clock = MockedClock(start=time.time())
    adapter = marketo_adapter(sandbox, auth=marketo_auth(sandbox, clock=clock))
    adapter.upsert_batch([record("a@example.com")])
    clock.advance(0.81 * 3600)  # past 80% of expires_in

    adapter.upsert_batch([record("b@example.com")])

    assert sandbox.endpoint(TOKEN) == {"200": 2}
    assert sandbox.endpoint(LEADS) == {"200": 2}  # no 601/602 on the way


@pytest.mark.parametrize("style", ["post_basic", "post_body"])
def test_rfc6749_token_requests(sandbox: Sandbox, style: str) -> None:
    auth = marketo_auth(sandbox, style=style)
    assert auth.token().endswith(":sb")
    assert sandbox.endpoint("POST /identity/oauth/token") == {"200": 1}


def test_bad_client_secret_is_fatal(sandbox: Sandbox) -> None:
    sandbox.knobs(marketo_client_secret="rotated")
    with pytest.raises(FatalPlatformError):
        marketo_auth(sandbox).token()


def test_concurrency_cap_keeps_marketo_below_615(sandbox: Sandbox) -> None:
    sandbox.knobs(marketo_concurrency=2, latency_ms=100)
    adapter = marketo_adapter(sandbox, limiter=RateLimiter(1000, 1.0, max_concurrency=2))
    adapter.upsert_batch([record("warm@example.com")])

    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(lambda i: adapter.upsert_batch([record(f"p{i}@x.io")])[0], range(6))
        )

    assert [r.outcome for r in results] == [RecordOutcome.OK] * 6
    assert sandbox.endpoint(LEADS) == {"200": 7}  # never a 615
