"""The HTTP edge: a ``requests`` Session with the mandated urllib3 ``Retry``, TLS >= 1.2,
timeouts and a User-Agent naming cdcbridge.

Retry (as our users mandate): ``total=5``, ``status_forcelist=[429, 500, 502, 503, 504]``,
``backoff_factor=1``, POST retried (our upserts are idempotent), ``Retry-After`` honoured in
seconds and HTTP-date form, backoff and Retry-After capped at ``backoff_max``. Time goes through
an injected ``Clock`` so tests can count attempts and the spacing between them.

One vendor-policy exception: a 429 *without* ``Retry-After`` is not retried here. Only the body
says what it means (HubSpot ``TEN_SECONDLY_ROLLING`` → wait the window, ``DAILY`` → stop), so the
adapter's policy decides; blind exponential retries would burn a daily quota.

Every transport retry is a log line (with the trace id of the call) and a
``cdcbridge_platform_retries_total{layer="transport"}`` increment with its reason (the status,
or the kind of connection error).
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import ssl
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from cdcbridge import __version__
from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.logs import current_trace_id
from cdcbridge.metrics import Metrics, NoOpMetrics

log = logging.getLogger(__name__)

USER_AGENT = f"cdcbridge/{__version__} (+marketing-platform-sync)"
RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class ClockedRetry(Retry):
    """urllib3 ``Retry`` whose sleeps and HTTP-date arithmetic use an injected clock, whose
    jitter (``backoff_jitter``; none in the mandated configuration) is drawn from an injected
    ``rng``, and whose every retry is logged and counted."""

    def __init__(
        self,
        *args: Any,
        clock: Clock = SYSTEM_CLOCK,
        metrics: Metrics | None = None,
        platform: str = "",
        rng: random.Random | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.clock = clock
        self.rng = rng or random.Random()
        self.metrics = metrics or NoOpMetrics()
        self.platform = platform

    def new(self, **kw: Any) -> Self:
        kw.setdefault("clock", self.clock)
        kw.setdefault("metrics", self.metrics)
        kw.setdefault("platform", self.platform)
        kw.setdefault("rng", self.rng)
        return super().new(**kw)

    def get_backoff_time(self) -> float:
        """urllib3's backoff, with its jitter drawn from ``rng`` (urllib3 draws from the global
        ``random`` module, which a failing test cannot replay)."""
        if not self.backoff_jitter:
            return super().get_backoff_time()
        plain = self.new(backoff_jitter=0.0).get_backoff_time()
        if not plain:
            return 0.0  # no wait before the first retry, as urllib3
        jittered = plain + self.rng.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, jittered)))

    def increment(self, *args: Any, **kwargs: Any) -> Self:
        """Count the retry urllib3 is about to make (raises ``MaxRetryError`` when none is
        left, which is then no retry)."""
        following = super().increment(*args, **kwargs)
        response = kwargs.get("response") if "response" in kwargs else _arg(args, 2)
        error = kwargs.get("error") if "error" in kwargs else _arg(args, 3)
        status = getattr(response, "status", None)
        reason = str(status) if status else type(error).__name__ if error else "unknown"
        self.metrics.increment(
            "cdcbridge_platform_retries_total",
            tags={"platform": self.platform or "-", "layer": "transport", "reason": reason},
        )
        log.warning(
            "transport retrying a request",
            extra={
                "platform": self.platform,
                "reason": reason,
                "method": kwargs.get("method") or _arg(args, 0),
                "retries_left": following.total,
                "trace_id": current_trace_id(),
            },
        )
        return following

    def parse_retry_after(self, retry_after: str) -> float:
        if re.fullmatch(r"\s*[0-9]+\s*", retry_after):
            seconds = float(int(retry_after))
        else:
            parsed = email.utils.parsedate_tz(retry_after)
            if parsed is None:
                return super().parse_retry_after(retry_after)  # raises InvalidHeader
            seconds = email.utils.mktime_tz(parsed) - self.clock.time()
        return min(max(seconds, 0.0), float(self.retry_after_max))

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429 and not has_retry_after:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            self.clock.sleep(retry_after)
            return True
        return False

    def _sleep_backoff(self) -> None:
        self.clock.sleep(self.get_backoff_time())


def _arg(args: tuple[Any, ...], index: int) -> Any:
    return args[index] if len(args) > index else None


def mandated_retry(
    clock: Clock = SYSTEM_CLOCK,
    backoff_max: float = 30.0,
    metrics: Metrics | None = None,
    platform: str = "",
) -> ClockedRetry:
    """The users' mandated retry configuration, with backoff and Retry-After capped."""
    return ClockedRetry(
        total=5,
        status_forcelist=list(RETRY_STATUSES),
        backoff_factor=1,
        backoff_max=backoff_max,
        retry_after_max=int(backoff_max),
        allowed_methods=RETRY_METHODS,
        respect_retry_after_header=True,
        raise_on_status=False,
        clock=clock,
        metrics=metrics,
        platform=platform,
    )


def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """Certificate and host-name verification on, TLS 1.2 as the minimum protocol.
    ``cafile`` adds a trust anchor (a private CA); it never turns verification off."""
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Tls12Adapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose pools use ``tls_context()``."""

    def __init__(self, context: ssl.SSLContext, **kwargs: Any) -> None:
        self._tls_context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._tls_context
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        return host_params, {
            **pool_kwargs,
            "ssl_context": self._tls_context,
            "cert_reqs": "CERT_REQUIRED",
        }

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._tls_context
        return super().proxy_manager_for(proxy, **kwargs)


def build_session(
    *,
    clock: Clock = SYSTEM_CLOCK,
    backoff_max: float = 30.0,
    pool_size: int = 16,
    context: ssl.SSLContext | None = None,
    metrics: Metrics | None = None,
    platform: str = "",
) -> requests.Session:
    """A Session for one vendor. Callers pass ``timeout=`` on every request; ``metrics`` and
    ``platform`` label the transport's retries."""
    session = requests.Session()
    session.verify = True
    session.headers["User-Agent"] = USER_AGENT
    adapter = Tls12Adapter(
        context or tls_context(),
        max_retries=mandated_retry(clock, backoff_max, metrics, platform),
        pool_connections=pool_size,
        pool_maxsize=pool_size,
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
