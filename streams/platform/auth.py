"""Authentication: static bearer tokens (HubSpot private apps) and the OAuth 2.0
client-credentials grant (RFC 6749 §4.4; Marketo's GET variant).

``ClientCredentialsAuth`` caches the token, refreshes it once ``refresh_fraction`` (80%) of
``expires_in`` has elapsed, and again when the server rejects it (``refresh_after_rejection``).
Refresh is driven by the token's own expiry: Marketo's identity service hands back the *same*
token with its remaining ``expires_in`` until it expires, so a same-token answer is used to
``margin_s`` before its end; callers then wait out its last moments (no call leaves with a
token about to expire, so no 602) and one fetch after the expiry brings the next token.
One lock guarantees a single in-flight refresh: eight callers that saw the same rejected token
cause exactly one token request. Secrets are ``SecretStr`` and never logged.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Literal, Protocol

import requests
from pydantic import SecretStr

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.contracts import FatalPlatformError, TransientPlatformError

log = logging.getLogger(__name__)

TokenRequestStyle = Literal["get_query", "post_basic", "post_body"]


class TokenProvider(Protocol):
    """Gives the bearer token to send. May raise ``FatalPlatformError`` (credentials rejected)
    or ``TransientPlatformError`` (identity service unavailable)."""

    def token(self) -> str: ...

    def refresh_after_rejection(self, rejected: str) -> str:
        """The server rejected ``rejected``: return a fresh token (fetched at most once for
        all callers that saw the same rejected token)."""
        ...


class StaticBearer:
    """A long-lived token (HubSpot private app). A rejection is fatal: nothing to refresh."""

    def __init__(self, token: SecretStr) -> None:
        self.__token = token

    def token(self) -> str:
        return self.__token.get_secret_value()

    def refresh_after_rejection(self, rejected: str) -> str:
        raise FatalPlatformError("the static access token was rejected (401): check it")


_SECRET_IN_URL = re.compile(r"(client_secret=)[^&\s\"']+")


class RedactClientSecret(logging.Filter):
    """Masks ``client_secret=...`` in log lines: Marketo's GET token request carries it in the
    query string, which urllib3 logs at DEBUG level."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "client_secret=" in message:
            record.msg, record.args = _SECRET_IN_URL.sub(r"\1***", message), ()
        return True


def _install_redaction() -> None:
    for name in ("urllib3.connectionpool", "requests"):
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactClientSecret) for f in target.filters):
            target.addFilter(RedactClientSecret())


@dataclass(frozen=True)
class _Cached:
    value: str
    refresh_at: float
    expires_at: float
    final: bool  # the identity service confirmed it keeps this token until it expires


class ClientCredentialsAuth:
    """OAuth 2.0 client-credentials tokens, cached and refreshed before expiry."""

    def __init__(
        self,
        session: requests.Session,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        style: TokenRequestStyle = "post_basic",
        clock: Clock = SYSTEM_CLOCK,
        refresh_fraction: float = 0.8,
        margin_s: float = 1.0,
        timeout: tuple[float, float] = (5.0, 30.0),
        metrics: Metrics | None = None,
        platform: str = "oauth",
    ) -> None:
        self.__session = session
        self.__url = token_url
        self.__client_id = client_id
        self.__secret = client_secret
        self.__style = style
        self.__clock = clock
        self.__fraction = refresh_fraction
        self.__margin = margin_s
        self.__timeout = timeout
        self.__metrics = metrics or NoOpMetrics()
        self.__platform = platform
        self.__lock = threading.Lock()
        self.__cached: _Cached | None = None
        if style == "get_query":
            _install_redaction()

    def token(self) -> str:
        cached = self.__cached
        if cached is not None and self.__clock.monotonic() < cached.refresh_at:
            return cached.value
        with self.__lock:
            cached = self.__cached
            if cached is not None and self.__clock.monotonic() < cached.refresh_at:
                return cached.value
            if cached is not None and cached.final:
                # Asking before the expiry would return this very token: let it expire (the
                # reported lifetime is whole seconds, hence the margin past it), then fetch.
                self.__clock.sleep(cached.expires_at + self.__margin - self.__clock.monotonic())
            return self.__fetch().value

    def refresh_after_rejection(self, rejected: str) -> str:
        with self.__lock:
            cached = self.__cached
            if cached is not None and cached.value != rejected:
                return cached.value  # another caller already refreshed
            return self.__fetch().value

    def __fetch(self) -> _Cached:
        secret = self.__secret.get_secret_value()
        form = {"grant_type": "client_credentials"}
        try:
            if self.__style == "get_query":
                params = {**form, "client_id": self.__client_id, "client_secret": secret}
                response = self.__session.get(self.__url, params=params, timeout=self.__timeout)
            elif self.__style == "post_body":
                body = {**form, "client_id": self.__client_id, "client_secret": secret}
                response = self.__session.post(self.__url, data=body, timeout=self.__timeout)
            else:
                response = self.__session.post(
                    self.__url,
                    data=form,
                    auth=(self.__client_id, secret),
                    timeout=self.__timeout,
                )
        except requests.RequestException as exc:
            self.__metrics.increment(
                "cdcbridge_platform_token_refreshes_total",
                tags={"platform": self.__platform, "status": "error"},
            )
            raise TransientPlatformError(f"token endpoint unreachable: {exc}") from exc
        self.__metrics.increment(
            "cdcbridge_platform_token_refreshes_total",
            tags={"platform": self.__platform, "status": str(response.status_code)},
        )
        if response.status_code in (400, 401, 403):
            raise FatalPlatformError(
                f"client credentials rejected by the token endpoint (HTTP {response.status_code})"
            )
        if response.status_code != 200:
            raise TransientPlatformError(f"token endpoint answered HTTP {response.status_code}")
        doc = response.json()
        value = str(doc["access_token"])
        expires_in = float(doc.get("expires_in", 3600))
        now = self.__clock.monotonic()
        previous = self.__cached
        expires_at = now + expires_in
        if previous is not None and previous.value == value:
            # The same token with its remaining lifetime: use it to (nearly) its end, once.
            self.__cached = _Cached(value, expires_at - self.__margin, expires_at, True)
        else:
            self.__cached = _Cached(value, now + expires_in * self.__fraction, expires_at, False)
        log.info(
            "access token fetched", extra={"platform": self.__platform, "expires_in": expires_in}
        )
        return self.__cached
