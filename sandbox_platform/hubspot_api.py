"""HubSpot CRM v3 contacts, as much as cdcbridge uses: batch upsert / read / update / archive,
plus companies and contact ↔ company associations v4 (``hubspot_companies``,
``hubspot_associations``), the contact and company properties API and communication-preferences
unsubscribe-all (``hubspot_properties``) behind the same auth and limits.

Contract emulated: private-app bearer token (the sandbox also accepts its own OAuth tokens, to
exercise refresh-on-401); rolling ``hubspot_limit`` per ``hubspot_window_s`` and a daily limit,
answered with HubSpot's 429 body (``policyName``) and ``X-HubSpot-RateLimit-*`` headers, never
Retry-After; ≤``hubspot_max_batch`` inputs; whole-batch 400 for malformed input (duplicate ids,
non-string values, too many inputs); 207 with per-item ``errors`` (``context.ids``) for invalid
emails and for property writes the catalog refuses (``catalog``: PROPERTY_DOESNT_EXIST,
READ_ONLY_VALUE, INVALID_OPTION); ``CONFLICT`` when an update moves a contact onto an existing
email.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox_platform import hubspot_associations as links
from sandbox_platform import hubspot_companies as companies
from sandbox_platform import hubspot_properties as props
from sandbox_platform.faults import hubspot_429, hubspot_error, injected_fault
from sandbox_platform.hubspot_batches import archive, read, update, upsert
from sandbox_platform.refusals import input_refusal
from sandbox_platform.state import SandboxState

BASE = "/crm/v3/objects/contacts/batch"
Handler = Callable[[SandboxState, dict[str, object]], Response]


def _auth_error(state: SandboxState, request: Request) -> Response | None:
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if token and token == state.knobs.hubspot_token:
        return None
    issued = state.tokens.get(token)
    if issued is not None and issued.expires_at > time.time():
        return None
    if issued is not None:
        return hubspot_error(
            401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired."
        )
    return hubspot_error(
        401,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
    )


def _limit_error(state: SandboxState) -> Response | None:
    knobs = state.knobs
    now = time.monotonic()
    if state.hubspot_daily >= knobs.hubspot_daily_limit:
        return hubspot_429("DAILY")
    if state.hubspot_window.count(now, knobs.hubspot_window_s) >= knobs.hubspot_limit:
        return hubspot_429("TEN_SECONDLY_ROLLING", _limit_headers(state, 0))
    state.hubspot_window.add(now)
    state.hubspot_daily += 1
    return None


def _limit_headers(state: SandboxState, remaining: int) -> dict[str, str]:
    knobs = state.knobs
    return {
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(knobs.hubspot_window_s * 1000)),
        "X-HubSpot-RateLimit-Max": str(knobs.hubspot_limit),
        "X-HubSpot-RateLimit-Remaining": str(max(remaining, 0)),
        "X-HubSpot-RateLimit-Daily": str(knobs.hubspot_daily_limit),
        "X-HubSpot-RateLimit-Daily-Remaining": str(knobs.hubspot_daily_limit - state.hubspot_daily),
    }


def _endpoint(
    name: str, handler: Handler, base: str = BASE
) -> Callable[[Request], Awaitable[Response]]:
    label = f"POST {base}/{name}"

    async def endpoint(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        response = await injected_fault(state, "hubspot")
        if response is None:
            response = _auth_error(state, request) or _limit_error(state)
        if response is None:
            response = await input_refusal(state, "hubspot", request)
        if response is None:
            try:
                body = await request.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
                response = hubspot_error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
            elif len(body["inputs"]) > state.knobs.hubspot_max_batch:
                response = hubspot_error(
                    400,
                    "VALIDATION_ERROR",
                    f"The maximum number of inputs supported in a batch request is "
                    f"{state.knobs.hubspot_max_batch}",
                )
            else:
                response = handler(state, body)
            remaining = state.knobs.hubspot_limit - state.hubspot_window.count(
                time.monotonic(), state.knobs.hubspot_window_s
            )
            response.headers.update(_limit_headers(state, remaining))
        state.record(label, response.status_code)
        return response

    return endpoint


RequestHandler = Callable[[SandboxState, Request, object], Response]


def _guarded(label: str, handler: RequestHandler) -> Callable[[Request], Awaitable[Response]]:
    """Faults, auth and limits like the batch endpoints, then ``handler(state, request, body)``
    (``body`` is the parsed JSON, or None for a GET or an unreadable body)."""

    async def endpoint(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        response = await injected_fault(state, "hubspot")
        if response is None:
            response = _auth_error(state, request) or _limit_error(state)
        if response is None:
            body: object = None
            if request.method == "POST":
                try:
                    body = await request.json()
                except ValueError:
                    body = None
            response = handler(state, request, body)
        state.record(label, response.status_code)
        return response

    return endpoint


PROPERTIES = "/crm/v3/properties/contacts"
UNSUBSCRIBE_ALL = "/communication-preferences/v4/statuses/batch/unsubscribe-all"
COMPANIES = "/crm/v3/objects/companies/batch"
ASSOCIATIONS = "/crm/v4/associations/{from}/{to}/batch"
ONE_ASSOCIATION = "/crm/v4/objects/{from}/{from_id}/associations/default/{to}/{to_id}"


def _property_routes(base: str) -> list[Route]:
    return [
        Route(base, _guarded(f"GET {base}", props.list_properties), methods=["GET"]),
        Route(base, _guarded(f"POST {base}", props.create_property), methods=["POST"]),
        Route(
            f"{base}/batch/create",
            _guarded(f"POST {base}/batch/create", props.batch_create),
            methods=["POST"],
        ),
        Route(
            base + "/{name}", _guarded(f"GET {base}/{{name}}", props.read_property), methods=["GET"]
        ),
    ]


def company_routes() -> list[Route]:
    """Companies (``hubspot_companies``), their properties, and associations v4."""
    return [
        *_property_routes(props.COMPANY_PROPERTIES),
        Route(
            f"{COMPANIES}/upsert",
            _endpoint("upsert", companies.upsert, COMPANIES),
            methods=["POST"],
        ),
        Route(f"{COMPANIES}/read", _endpoint("read", companies.read, COMPANIES), methods=["POST"]),
        Route(
            f"{COMPANIES}/archive",
            _endpoint("archive", companies.archive, COMPANIES),
            methods=["POST"],
        ),
        Route(
            f"{ASSOCIATIONS}/associate/default",
            _guarded(f"POST {ASSOCIATIONS}/associate/default", links.associate_default),
            methods=["POST"],
        ),
        Route(
            f"{ASSOCIATIONS}/archive",
            _guarded(f"POST {ASSOCIATIONS}/archive", links.archive),
            methods=["POST"],
        ),
        Route(
            f"{ASSOCIATIONS}/read",
            _guarded(f"POST {ASSOCIATIONS}/read", links.read),
            methods=["POST"],
        ),
        Route(
            ONE_ASSOCIATION,
            _guarded(f"PUT {ONE_ASSOCIATION}", links.associate_one),
            methods=["PUT"],
        ),
    ]


def routes() -> list[Route]:
    return [
        *company_routes(),
        *_property_routes(PROPERTIES),
        Route(
            UNSUBSCRIBE_ALL,
            _guarded(f"POST {UNSUBSCRIBE_ALL}", props.unsubscribe_all),
            methods=["POST"],
        ),
        Route(f"{BASE}/upsert", _endpoint("upsert", upsert), methods=["POST"]),
        Route(f"{BASE}/read", _endpoint("read", read), methods=["POST"]),
        Route(f"{BASE}/update", _endpoint("update", update), methods=["POST"]),
        Route(f"{BASE}/archive", _endpoint("archive", archive), methods=["POST"]),
    ]
