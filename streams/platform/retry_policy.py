"""Vendor retry policies on top of the transport's urllib3 ``Retry``.

The transport retries 5xx and 429-with-Retry-After. What only a body can say is decided here,
from the one table of vendor codes (``vendor_codes``):
- HubSpot 429 ``TEN_SECONDLY_ROLLING`` → wait out the window (all callers: the shared limiter
  pauses), ``secondly limit`` → wait 1 s, ``DAILY`` (or any other policy) → fatal, alert.
- Marketo (errors inside HTTP 200): 601/602 → re-authenticate once; 606 (rate) → wait out the
  20 s window; 615 (concurrency), 604/608/611/713 → back off; 607 (daily quota) and 603 (access
  denied) → fatal; an error caused by the request's input (609, 610, 1011, 7xx ...) → refused.
- Any HTTP status: ``vendor_codes.http_status_class``.

``call_with_policy`` runs one logical call through the limiter, the auth provider and these
decisions, with an injected clock. A refusal raises ``RequestRefused`` (never retried); a
fatal answer halts the shared limiter, so no call of this platform leaves afterwards, and is
counted once per stop. Every retry is a log line (with the trace id) and a
``cdcbridge_platform_retries_total`` increment with its reason.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import requests

from cdcbridge.clock import Clock
from cdcbridge.errors import FailureClass, TransientError, failure_class
from cdcbridge.metrics import Metrics
from streams.contracts import FatalPlatformError, RequestRefused, TransientPlatformError
from streams.platform.auth import TokenProvider
from streams.platform.ratelimit import RateLimiter
from streams.platform.vendor_codes import CodeClass, http_status_class, marketo_code_class

log = logging.getLogger(__name__)
T = TypeVar("T")


class Action(enum.Enum):
    WAIT_WINDOW = "wait_window"  # every caller waits: pause the shared limiter
    BACK_OFF = "back_off"  # this caller waits, exponentially
    REAUTH = "reauth"
    REFUSED = "refused"  # the request's input is at fault: never retried, split the batch
    FATAL = "fatal"


_ACTIONS: dict[CodeClass, Action] = {
    "refused": Action.REFUSED,
    "back_off": Action.BACK_OFF,
    "wait_window": Action.WAIT_WINDOW,
    "reauth": Action.REAUTH,
    "fatal": Action.FATAL,
}


@dataclass(frozen=True)
class Decision:
    action: Action
    wait_s: float
    reason: str
    code: str = ""


class PolicySignal(TransientError):
    """Raised by a ``send`` function when the vendor answered with a policy signal. Never
    leaves ``call_with_policy``: a FATAL decision leaves as ``FatalPlatformError``, a REFUSED
    one as ``RequestRefused``, the rest are waited out and retried there."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason, retry_after=decision.wait_s or None)
        self.decision = decision


def hubspot_429(body: Mapping[str, object], interval_ms: str | None) -> Decision:
    """Decide on a HubSpot 429 from its body (``policyName``, ``message``)."""
    policy = str(body.get("policyName", ""))
    message = str(body.get("message", ""))
    if policy == "TEN_SECONDLY_ROLLING":
        window = float(interval_ms) / 1000 if interval_ms and interval_ms.isdigit() else 10.0
        return Decision(Action.WAIT_WINDOW, window, f"HubSpot {policy}: {message}", policy)
    if "secondly limit" in message:
        return Decision(Action.WAIT_WINDOW, 1.0, f"HubSpot secondly limit: {message}", "SECONDLY")
    return Decision(Action.FATAL, 0.0, f"HubSpot {policy or 'rate'} limit: {message}", policy)


_MARKETO_WINDOW = re.compile(r"with ?in '([0-9]+(?:\.[0-9]+)?)' sec")


def marketo_error(code: str, message: str, window_s: float = 20.0) -> Decision:
    """Decide on a Marketo ``errors[]`` entry of a ``success: false`` body."""
    text = f"Marketo {code}: {message}"
    action = _ACTIONS[marketo_code_class(code)]
    if action is Action.WAIT_WINDOW:  # "Max rate limit '100' exceeded with in '20' secs"
        stated = _MARKETO_WINDOW.search(message)
        return Decision(action, float(stated[1]) if stated else window_s, text, code)
    if action is Action.BACK_OFF:
        return Decision(action, 1.0, text, code)
    return Decision(action, 0.0, text, code)


def http_error(vendor: str, status: int, message: str) -> Decision | None:
    """Decide on an HTTP status other than 429 (whose body decides: ``hubspot_429``); None
    for a success."""
    code_class = http_status_class(status)
    if code_class is None:
        return None
    wait = 1.0 if code_class == "back_off" else 0.0
    return Decision(_ACTIONS[code_class], wait, f"{vendor} HTTP {status}: {message}", str(status))


@dataclass(frozen=True)
class PolicyLimits:
    """How many attempts one logical call makes before giving up with a transient error, and
    the cap on any single wait."""

    max_attempts: int = 3
    max_wait_s: float = 30.0


DEFAULT_POLICY = PolicyLimits()


def classify(error: BaseException) -> FailureClass:
    """The failure class (DESIGN.md vocabulary) of an error raised by an adapter call: its
    root in ``cdcbridge.errors`` (``FatalPlatformError`` → fatal, ``TransientPlatformError``
    → transient ...), transport errors → transient, anything else (a value the vendor can
    never take) → invalid."""
    known = failure_class(type(error))
    if known is not None:
        return known
    if isinstance(error, requests.RequestException | TimeoutError):
        return "transient"
    return "invalid"


class _CodedFatal(FatalPlatformError):
    """A fatal vendor answer with its code (the label of the fatal-stop metric)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def call_with_policy(
    send: Callable[[str], T],
    *,
    auth: TokenProvider,
    limiter: RateLimiter,
    clock: Clock,
    metrics: Metrics,
    platform: str,
    limits: PolicyLimits = DEFAULT_POLICY,
) -> T:
    """Call ``send(token)`` under the limiter until it returns, following vendor decisions.

    Raises ``FatalPlatformError`` (the limiter halted, the alert metric incremented once per
    stop), ``RequestRefused`` (the vendor refused the input: not retried) or
    ``TransientPlatformError`` (with ``retry_after``) when the attempts are used up.
    Re-authenticates at most once.
    """
    try:
        return _attempts(send, auth, limiter, clock, metrics, platform, limits)
    except FatalPlatformError as exc:
        # Halting the shared limiter stops every caller of this platform, including those
        # already holding a token; only the caller that halted it counts the stop.
        if limiter.halt(str(exc)):
            metrics.increment(
                "cdcbridge_fatal_errors_total",
                tags={"platform": platform, "code": getattr(exc, "code", "") or "fatal"},
            )
            log.error("platform answered with a fatal error", extra={"reason": str(exc)})
        raise


def _attempts(
    send: Callable[[str], T],
    auth: TokenProvider,
    limiter: RateLimiter,
    clock: Clock,
    metrics: Metrics,
    platform: str,
    limits: PolicyLimits,
) -> T:
    token = auth.token()
    reauthenticated = False
    decision: Decision | None = None
    for attempt in range(1, limits.max_attempts + 1):
        try:
            with limiter.slot():
                return send(token)
        except PolicySignal as signal:
            decision = signal.decision
        if decision.action is Action.FATAL:
            raise _CodedFatal(decision.reason, decision.code or "fatal")
        if decision.action is Action.REFUSED:
            raise RequestRefused(decision.code, decision.reason)
        reason = decision.code or decision.action.value
        tags = {"platform": platform, "layer": "policy", "reason": reason}
        if decision.action is Action.REAUTH:
            if reauthenticated:
                raise TransientPlatformError(f"token rejected after refresh: {decision.reason}")
            metrics.increment("cdcbridge_platform_retries_total", tags=tags)
            log.warning("token rejected, refreshing it once", extra={"reason": decision.reason})
            token = auth.refresh_after_rejection(token)
            reauthenticated = True
            continue
        metrics.increment(  # a rate, window or concurrency answer (429, 606, 615 ...)
            "cdcbridge_platform_rate_limited_total", tags={"platform": platform, "code": reason}
        )
        wait = min(decision.wait_s, limits.max_wait_s)
        if decision.action is Action.BACK_OFF:
            wait = min(decision.wait_s * 2 ** (attempt - 1), limits.max_wait_s)
        if decision.action is Action.WAIT_WINDOW:
            limiter.pause_for(wait)  # every caller of this platform waits, not just this one
        if attempt < limits.max_attempts:
            metrics.increment("cdcbridge_platform_retries_total", tags=tags)
            log.warning(
                "platform asked us to wait, retrying",
                extra={"reason": decision.reason, "wait_s": wait, "attempt": attempt},
            )
            if decision.action is Action.BACK_OFF:
                clock.sleep(wait)
    assert decision is not None
    retry_after = min(decision.wait_s, limits.max_wait_s)
    raise TransientPlatformError(decision.reason, retry_after=retry_after)
