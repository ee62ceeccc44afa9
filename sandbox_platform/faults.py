"""Injected faults and vendor-shaped refusals shared by the HubSpot and Marketo routes.

Order for each vendor API request: added latency → outage window (503) → ``fail_next`` /
``error_rate`` (``error_status``) → ``burst_429``. Retry-After (seconds or HTTP-date, per the
``retry_after`` knob) is added to the injected 429s and 5xx only: the real vendors don't send it.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import uuid
from typing import Literal

from starlette.responses import JSONResponse, Response

from sandbox_platform.state import SandboxState

Vendor = Literal["hubspot", "marketo"]

HUBSPOT_429_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "DAILY": "You have reached your daily limit.",
    "SECONDLY": "You have reached your secondly limit.",
}


def retry_after_headers(state: SandboxState) -> dict[str, str]:
    knobs = state.knobs
    if knobs.retry_after == "seconds":
        return {"Retry-After": str(knobs.retry_after_s)}
    if knobs.retry_after == "date":
        # HTTP-date has whole seconds: round up so the client never comes back early.
        when = int(time.time()) + knobs.retry_after_s + 1
        return {"Retry-After": email.utils.formatdate(when, usegmt=True)}
    return {}


def hubspot_error(status: int, category: str, message: str, **extra: object) -> JSONResponse:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return JSONResponse(body, status_code=status)


def hubspot_429(policy: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """HubSpot's documented 429 body."""
    body = {
        "status": "error",
        "message": HUBSPOT_429_MESSAGES.get(policy, "You have reached your limit."),
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }
    return JSONResponse(body, status_code=429, headers=headers)


def marketo_failure(code: str, message: str) -> JSONResponse:
    """Marketo reports request-level errors inside an HTTP 200."""
    body = {
        "requestId": f"{uuid.uuid4().hex[:5]}#{uuid.uuid4().hex[:11]}",
        "success": False,
        "errors": [{"code": code, "message": message}],
        "result": [],  # the swagger's ResponseOfLead requires result and warnings
        "warnings": [],
    }
    return JSONResponse(body, status_code=200)


MARKETO_MESSAGES = {
    "601": "Access token invalid",
    "602": "Access token expired",
    "603": "Access denied",
    "604": "Request timed out",
    "606": "Max rate limit '{limit}' exceeded with in '{window}' secs",
    "607": "Daily quota reached",
    "608": "API Temporarily Unavailable",
    "611": "System error",
    "615": "Concurrent access limit reached",
}


def marketo_message(code: str, state: SandboxState) -> str:
    template = MARKETO_MESSAGES.get(code, "Error")
    return template.format(
        limit=state.knobs.marketo_limit, window=f"{state.knobs.marketo_window_s:g}"
    )


async def injected_fault(state: SandboxState, vendor: Vendor) -> Response | None:
    """The response an injected fault dictates for this request, or ``None`` to proceed."""
    knobs = state.knobs
    if knobs.latency_ms:
        await asyncio.sleep(knobs.latency_ms / 1000)
    if time.time() < state.outage_until:
        return Response("Service Unavailable", status_code=503, headers=retry_after_headers(state))
    failing = knobs.fail_next > 0 or (knobs.error_rate and random.random() < knobs.error_rate)
    if failing:
        if knobs.fail_next > 0:
            knobs.fail_next -= 1
        headers = retry_after_headers(state)
        if vendor == "hubspot":
            response = hubspot_error(knobs.error_status, "INTERNAL_ERROR", "internal error")
            response.headers.update(headers)
            return response
        return Response("Bad Gateway", status_code=knobs.error_status, headers=headers)
    if knobs.burst_429 > 0:
        knobs.burst_429 -= 1
        if vendor == "hubspot":
            return hubspot_429(knobs.burst_429_policy, retry_after_headers(state))
        return marketo_failure("606", marketo_message("606", state))
    if vendor == "marketo" and knobs.marketo_error_count > 0 and knobs.marketo_error_code:
        knobs.marketo_error_count -= 1
        code = knobs.marketo_error_code
        return marketo_failure(code, marketo_message(code, state))
    return None
