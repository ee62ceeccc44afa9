"""Vendor decisions and the policy loop, with fakes and a mocked clock."""

from __future__ import annotations

import pytest
import requests

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.contracts import FatalPlatformError, RequestRefused, TransientPlatformError
from streams.platform.ratelimit import RateLimiter
from streams.platform.retry_policy import (
    Action,
    Decision,
    PolicyLimits,
    PolicySignal,
    call_with_policy,
    classify,
    http_error,
    hubspot_429,
    marketo_error,
)

pytestmark = pytest.mark.unit


def test_hubspot_ten_secondly_waits_the_reported_interval() -> None:
    decision = hubspot_429({"policyName": "TEN_SECONDLY_ROLLING"}, "10000")
    assert (decision.action, decision.wait_s) == (Action.WAIT_WINDOW, 10.0)


def test_hubspot_daily_is_fatal() -> None:
    body = {"policyName": "DAILY", "message": "You have reached your daily limit."}
    assert hubspot_429(body, None).action is Action.FATAL


def test_hubspot_secondly_message_waits_one_second() -> None:
    decision = hubspot_429({"message": "You have reached your secondly limit."}, None)
    assert (decision.action, decision.wait_s) == (Action.WAIT_WINDOW, 1.0)


@pytest.mark.parametrize(
    ("code", "action"),
    [("601", Action.REAUTH), ("602", Action.REAUTH), ("606", Action.WAIT_WINDOW),
     ("615", Action.BACK_OFF), ("604", Action.BACK_OFF), ("607", Action.FATAL),
     ("603", Action.FATAL), ("605", Action.FATAL), ("609", Action.REFUSED),
     ("610", Action.REFUSED), ("1011", Action.REFUSED), ("702", Action.REFUSED),
     ("713", Action.BACK_OFF), ("1008", Action.FATAL), ("699", Action.FATAL)],
)  # fmt: skip
def test_marketo_codes(code: str, action: Action) -> None:
    assert marketo_error(code, "x").action is action


def test_marketo_606_waits_the_stated_window() -> None:
    decision = marketo_error("606", "Max rate limit '100' exceeded with in '20' secs", 99.0)
    assert decision.wait_s == 20.0


class FakeAuth:
    def __init__(self) -> None:
        self.refreshes = 0

    def token(self) -> str:
        return "t0"

    def refresh_after_rejection(self, rejected: str) -> str:
        self.refreshes += 1
        return f"t{self.refreshes}"


def run(
    signals: list[Decision | None], attempts: int = 3
) -> tuple[list[str], FakeAuth, MockedClock]:
    clock, auth, tokens = MockedClock(), FakeAuth(), []
    pending = list(signals)

    def send(token: str) -> str:
        tokens.append(token)
        decision = pending.pop(0)
        if decision is not None:
            raise PolicySignal(decision)
        return "done"

    assert call_with_policy(
        send, auth=auth, limiter=RateLimiter(1000, 1.0, clock=clock), clock=clock,
        metrics=RecordingMetrics(), platform="p", limits=PolicyLimits(max_attempts=attempts),
    ) == "done"  # fmt: skip
    return tokens, auth, clock


def test_reauth_once_with_the_new_token() -> None:
    tokens, auth, _ = run([Decision(Action.REAUTH, 0, "601"), None])
    assert tokens == ["t0", "t1"] and auth.refreshes == 1


def test_back_off_doubles() -> None:
    _, _, clock = run([Decision(Action.BACK_OFF, 1.0, "615")] * 2 + [None])
    assert [s for s in clock.sleeps if s > 0] == [1.0, 2.0]


def test_gives_up_with_retry_after() -> None:
    with pytest.raises(TransientPlatformError) as raised:
        run([Decision(Action.WAIT_WINDOW, 10.0, "rate")] * 3)
    assert raised.value.retry_after == 10.0


def test_second_reauth_is_not_attempted() -> None:
    with pytest.raises(TransientPlatformError):
        run([Decision(Action.REAUTH, 0, "601")] * 3)


def test_fatal_is_raised_and_counted() -> None:
    metrics = RecordingMetrics()
    clock = MockedClock()

    def send(token: str) -> str:
        raise PolicySignal(Decision(Action.FATAL, 0, "607 daily quota", "607"))

    with pytest.raises(FatalPlatformError, match="607"):
        call_with_policy(
            send, auth=FakeAuth(), limiter=RateLimiter(10, 1.0, clock=clock), clock=clock,
            metrics=metrics, platform="marketo",
        )  # fmt: skip
    assert metrics.total("cdcbridge_fatal_errors_total") == 1


@pytest.mark.parametrize(
    ("error", "expected"),
    [(FatalPlatformError("607"), "fatal"), (TransientPlatformError("5xx"), "transient"),
     (requests.ConnectionError("reset"), "transient"), (ValueError("bad value"), "invalid")],
)  # fmt: skip
def test_classify(error: BaseException, expected: str) -> None:
    assert classify(error) == expected


@pytest.mark.parametrize("status", [400, 404, 405, 409, 410, 413, 422])
def test_persistent_client_errors_are_refused_not_retried(status: int) -> None:
    decision = http_error("HubSpot", status, "OBJECT_NOT_FOUND")
    assert decision is not None and decision.action is Action.REFUSED
    calls = []
    clock = MockedClock()

    def send(token: str) -> str:
        calls.append(token)
        raise PolicySignal(decision)

    with pytest.raises(RequestRefused) as refused:
        call_with_policy(
            send, auth=FakeAuth(), limiter=RateLimiter(10, 1.0, clock=clock), clock=clock,
            metrics=RecordingMetrics(), platform="hubspot",
        )  # fmt: skip
    assert calls == ["t0"]  # one call, no retry
    assert refused.value.code == str(status)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, None), (207, None), (423, Action.BACK_OFF), (403, Action.FATAL),
     (401, Action.REAUTH), (418, Action.REFUSED)],
)  # fmt: skip
def test_http_statuses_have_a_class(status: int, expected: Action | None) -> None:
    decision = http_error("HubSpot", status, "")
    assert (decision.action if decision else None) is expected


def test_one_fatal_stop_is_counted_once_with_labels_and_halts_the_limiter() -> None:
    metrics = RecordingMetrics()
    clock = MockedClock()
    limiter = RateLimiter(1000, 1.0, clock=clock)
    sent = []

    def send(token: str) -> str:
        sent.append(token)
        raise PolicySignal(Decision(Action.FATAL, 0, "HubSpot DAILY limit", "DAILY"))

    for _ in range(4):  # four workers hitting the same daily limit
        with pytest.raises(FatalPlatformError):
            call_with_policy(
                send, auth=FakeAuth(), limiter=limiter, clock=clock, metrics=metrics,
                platform="hubspot",
            )  # fmt: skip
    assert len(sent) == 1  # the halted limiter let no further call out
    assert metrics.total("cdcbridge_fatal_errors_total") == 1
    labels = [dict(t) for (n, t) in metrics.counters if n == "cdcbridge_fatal_errors_total"]
    assert labels == [{"platform": "hubspot", "code": "DAILY"}]  # no empty-label series


def test_every_policy_retry_is_counted_with_its_reason() -> None:
    metrics = RecordingMetrics()
    clock = MockedClock()
    pending = [Decision(Action.BACK_OFF, 1.0, "615", "615"), Decision(Action.REAUTH, 0, "602",
               "602"), None]  # fmt: skip

    def send(token: str) -> str:
        decision = pending.pop(0)
        if decision is not None:
            raise PolicySignal(decision)
        return "done"

    call_with_policy(
        send, auth=FakeAuth(), limiter=RateLimiter(1000, 1.0, clock=clock), clock=clock,
        metrics=metrics, platform="marketo",
    )  # fmt: skip
    reasons = sorted(
        dict(t)["reason"] for (n, t) in metrics.counters if n == "cdcbridge_platform_retries_total"
    )
    assert reasons == ["602", "615"]
