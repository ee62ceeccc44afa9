"""Settings validation, the mandated Retry, TLS context and ``build_adapter`` wiring."""

from __future__ import annotations

import random
import ssl

import pytest
from pydantic import ValidationError
from urllib3.util.retry import RequestHistory

from cdcbridge.clock import MockedClock
from streams.platform import build_adapter, effective_limits
from streams.platform.http import (
    USER_AGENT,
    ClockedRetry,
    build_session,
    mandated_retry,
    tls_context,
)
from streams.platform.settings import PlatformSettings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CDCBRIDGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir("/")  # no stray .env file


def hubspot(**kw: object) -> PlatformSettings:
    return PlatformSettings(platform="hubspot", hubspot_token="t", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["http://api.example.com", "ftp://127.0.0.1", "http://10.0.0.1"])
def test_plain_http_refused_except_loopback(url: str) -> None:
    with pytest.raises(ValidationError, match="refusing"):
        hubspot(hubspot_base_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8099", "http://localhost:1", "http://[::1]:2"])
def test_loopback_http_allowed(url: str) -> None:
    assert hubspot(hubspot_base_url=url).hubspot_base_url == url


def test_environment_is_read_and_secret_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDCBRIDGE_PLATFORM", "marketo")
    monkeypatch.setenv("CDCBRIDGE_MARKETO_BASE_URL", "https://123-abc-456.mktorest.com")
    monkeypatch.setenv("CDCBRIDGE_MARKETO_CLIENT_ID", "id")
    monkeypatch.setenv("CDCBRIDGE_MARKETO_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("CDCBRIDGE_BATCH_SIZE", "500")
    settings = PlatformSettings()
    assert "s3cret" not in repr(settings)
    assert settings.marketo_token_url == "https://123-abc-456.mktorest.com/identity/oauth/token"
    assert effective_limits(settings).max_batch_size == 300  # never above the vendor's


def test_missing_credentials_are_reported() -> None:
    with pytest.raises(ValidationError, match="CDCBRIDGE_HUBSPOT_TOKEN"):
        PlatformSettings(platform="hubspot")


def test_tier_sets_published_limit() -> None:
    assert effective_limits(hubspot(hubspot_tier="professional")).requests_per_window == 190
    override = hubspot(rate_limit_requests=10, rate_limit_window_s=1)
    assert (
        effective_limits(override).requests_per_window,
        effective_limits(override).window_s,
    ) == (10, 1.0)


def test_build_adapter_wires_the_platform() -> None:
    adapter = build_adapter(hubspot(hubspot_base_url="http://127.0.0.1:9"))
    assert adapter.name == "hubspot" and adapter.limits.max_batch_size == 100
    marketo = PlatformSettings(
        platform="marketo", marketo_base_url="https://1-a-2.mktorest.com",
        marketo_client_id="c", marketo_client_secret="s",  # type: ignore[arg-type]
    )  # fmt: skip
    adapter = build_adapter(marketo)
    assert adapter.name == "marketo" and adapter.limits.max_concurrency == 10


def test_mandated_retry_configuration() -> None:
    retry = mandated_retry(MockedClock(), backoff_max=30)
    assert retry.total == 5 and retry.backoff_factor == 1 and retry.backoff_max == 30
    assert set(retry.status_forcelist or ()) == {429, 500, 502, 503, 504}
    assert retry.allowed_methods is not None and "POST" in retry.allowed_methods
    assert retry.respect_retry_after_header


def test_mandated_retry_waits_without_jitter() -> None:
    errors = tuple(RequestHistory("POST", "/x", None, 503, None) for _ in range(3))
    assert mandated_retry(MockedClock()).new(history=errors).get_backoff_time() == 4.0


def test_transport_jitter_replays_from_the_seed() -> None:
    def backoffs(seed: int) -> list[float]:
        retry = ClockedRetry(total=9, backoff_factor=0.1, backoff_jitter=1.0,
                             rng=random.Random(seed))  # fmt: skip
        waits: list[float] = []
        for errors in range(2, 7):
            history = tuple(RequestHistory("POST", "/x", None, 503, None) for _ in range(errors))
            waits.append(retry.new(history=history).get_backoff_time())
        return waits

    assert backoffs(11) == backoffs(11)
    assert backoffs(11) != backoffs(12)
    assert all(
        0.1 * 2 ** (n + 1) <= w <= 0.1 * 2 ** (n + 1) + 1.0 for n, w in enumerate(backoffs(11))
    )


def test_retry_after_http_date_uses_the_injected_clock() -> None:
    clock = MockedClock(start=784111777.0 - 7)  # Sun, 06 Nov 1994 08:49:37 GMT minus 7 s
    retry = mandated_retry(clock)
    assert retry.parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == 7.0
    assert retry.parse_retry_after("120") == 30.0  # capped


def test_429_without_retry_after_is_left_to_the_vendor_policy() -> None:
    retry = mandated_retry()
    assert not retry.is_retry("POST", 429, has_retry_after=False)
    assert retry.is_retry("POST", 429, has_retry_after=True)
    assert retry.is_retry("POST", 503)


def test_tls_context_requires_1_2_and_verification() -> None:
    context = tls_context()
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_session_names_cdcbridge() -> None:
    assert build_session().headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("cdcbridge/")
