"""Client-credentials caching, refresh timing, single refresh and secret hygiene (fakes only)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from cdcbridge.clock import MockedClock
from streams.contracts import FatalPlatformError
from streams.platform.auth import ClientCredentialsAuth, RedactClientSecret, StaticBearer

pytestmark = pytest.mark.unit


class FakeSession(requests.Session):
    """Answers token requests with t1, t2, ... (or a fixed token) and records them."""

    def __init__(self, fixed: str = "", expires_in: int = 100, status: int = 200) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []
        self.fixed, self.expires_in, self.status = fixed, expires_in, status
        self.gate = threading.Lock()

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kw: Any
    ) -> requests.Response:
        with self.gate:
            self.calls.append({"method": method, **kw})
            response = requests.Response()
            response.status_code = self.status
            token = self.fixed or f"t{len(self.calls)}"
            response._content = (
                f'{{"access_token": "{token}", "expires_in": {self.expires_in}}}'.encode()
            )
            return response


def auth(
    session: FakeSession, clock: MockedClock, style: str = "post_basic"
) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(
        session, "https://id.example.com/oauth/token", "cid", SecretStr("s3cret"),
        style=style, clock=clock,  # type: ignore[arg-type]
    )  # fmt: skip


def test_token_cached_until_80_percent_of_lifetime() -> None:
    session, clock = FakeSession(expires_in=100), MockedClock()
    provider = auth(session, clock)
    assert provider.token() == "t1"
    clock.advance(79)
    assert provider.token() == "t1"
    clock.advance(2)
    assert provider.token() == "t2"
    assert len(session.calls) == 2


def test_rfc6749_basic_and_body_styles() -> None:
    basic, body, query = FakeSession(), FakeSession(), FakeSession()
    auth(basic, MockedClock(), "post_basic").token()
    auth(body, MockedClock(), "post_body").token()
    auth(query, MockedClock(), "get_query").token()
    assert basic.calls[0]["auth"] == ("cid", "s3cret")
    assert basic.calls[0]["data"] == {"grant_type": "client_credentials"}
    assert body.calls[0]["data"]["client_secret"] == "s3cret"
    assert query.calls[0]["method"] == "GET" and query.calls[0]["params"]["client_id"] == "cid"


def test_same_token_returned_early_is_used_to_its_end() -> None:
    session, clock = FakeSession(fixed="same", expires_in=100), MockedClock()
    provider = auth(session, clock)
    provider.token()
    clock.advance(81)
    session.expires_in = 19  # Marketo: same token, remaining lifetime
    provider.token()
    clock.advance(10)
    provider.token()
    assert len(session.calls) == 2


def test_one_refresh_for_many_rejections_of_the_same_token() -> None:
    session, clock = FakeSession(), MockedClock()
    provider = auth(session, clock)
    stale = provider.token()
    threads = [
        threading.Thread(target=provider.refresh_after_rejection, args=(stale,)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(session.calls) == 2 and provider.token() == "t2"


def test_rejected_credentials_are_fatal() -> None:
    with pytest.raises(FatalPlatformError):
        auth(FakeSession(status=401), MockedClock()).token()
    with pytest.raises(FatalPlatformError):
        StaticBearer(SecretStr("x")).refresh_after_rejection("x")


def test_secret_in_a_logged_url_is_masked() -> None:
    record = logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, "x", 1,
        '"%s %s" 200', ("GET", "/oauth/token?client_id=a&client_secret=s3cret&x=1"), None,
    )  # fmt: skip
    assert RedactClientSecret().filter(record)
    assert "s3cret" not in record.getMessage() and "client_secret=***" in record.getMessage()


class MarketoIdentity(requests.Session):
    """Marketo's identity service: the same token with its remaining (whole-second) lifetime
    until it expires, then a new one."""

    def __init__(self, clock: MockedClock, lifetime: float = 3600.0) -> None:
        super().__init__()
        self.clock, self.lifetime = clock, lifetime
        self.fetches = 0
        self.issued: list[tuple[str, float]] = []  # (token, expires at)

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kw: Any
    ) -> requests.Response:
        self.fetches += 1
        now = self.clock.monotonic()
        if not self.issued or self.issued[-1][1] <= now:
            self.issued.append((f"tok{len(self.issued) + 1}", now + self.lifetime))
        token, expires_at = self.issued[-1]
        response = requests.Response()
        response.status_code = 200
        remaining = int(expires_at - now)  # Marketo reports whole seconds
        response._content = f'{{"access_token": "{token}", "expires_in": {remaining}}}'.encode()
        return response

    def valid(self, token: str) -> bool:
        return any(t == token and self.clock.monotonic() < end for t, end in self.issued)


def test_token_refresh_follows_the_tokens_own_expiry() -> None:
    """Issue #18 item 7: in the token's last seconds the client fetched before almost every
    call (9 fetches) and still got 602s. Now: one early refresh, one after the expiry."""
    clock = MockedClock()
    identity = MarketoIdentity(clock, lifetime=100.0)
    provider = auth(identity, clock)  # type: ignore[arg-type]
    expired_uses = 0
    for _ in range(1500):  # a call every 0.1 s for 150 s: across the first token's end
        if not identity.valid(provider.token()):
            expired_uses += 1
        clock.advance(0.1)
    assert expired_uses == 0  # no 602
    assert identity.fetches == 3  # at start, at 80 % (same token back), after its expiry
    assert len(identity.issued) == 2
