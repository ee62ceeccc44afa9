"""Marketo identity and leads, as much as cdcbridge uses.

- ``GET|POST /identity/oauth/token``: client credentials from the query, a form body or HTTP
  Basic (RFC 6749); bad credentials → HTTP 401; an unexpired token is returned again with its
  remaining ``expires_in`` (as Marketo does).
- ``POST /rest/v1/leads.json`` (sync: ``createOrUpdate`` | ``createOnly`` | ``updateOnly``,
  ``lookupField`` ``email`` or ``id``), ``GET /rest/v1/leads.json?filterType=email|id``,
  ``POST /rest/v1/leads/delete.json``; lead field schema (describe, list and create fields:
  ``marketo_fields``).
Errors inside HTTP 200 (``success: false``): 600 (no token), 601/602 (invalid/expired), 606 (more
than ``marketo_limit`` calls in ``marketo_window_s``), 607 (daily quota), 615 (more than
``marketo_concurrency`` in flight), 1003 (batch too large); record-level ``skipped`` reasons
from ``marketo_leads``.
"""

from __future__ import annotations

import base64
import binascii
import time
import urllib.parse
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox_platform import marketo_companies as companies
from sandbox_platform import marketo_fields
from sandbox_platform.faults import injected_fault, marketo_failure, marketo_message
from sandbox_platform.marketo_leads import delete_leads, get_leads, sync_leads
from sandbox_platform.refusals import input_refusal
from sandbox_platform.state import SandboxState

Handler = Callable[[SandboxState, Request], Awaitable[Response]]


async def token(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    fields = dict(request.query_params)
    if request.method == "POST":  # application/x-www-form-urlencoded (RFC 6749 §4.4.2)
        fields.update(urllib.parse.parse_qsl((await request.body()).decode("latin-1")))
    basic = request.headers.get("authorization", "")
    if basic.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        fields.update(client_id=client_id, client_secret=secret)
    knobs = state.knobs
    if fields.get("grant_type") != "client_credentials":
        response: Response = JSONResponse(
            {"error": "unsupported_grant_type", "error_description": "grant_type"}, 400
        )
    elif (fields.get("client_id"), fields.get("client_secret")) != (
        knobs.marketo_client_id,
        knobs.marketo_client_secret,
    ):
        response = JSONResponse(
            {"error": "invalid_client", "error_description": "Bad client credentials"}, 401
        )
    else:
        now = time.time()
        issued = state.issue_token(now)
        body = {
            "access_token": issued.value,
            "token_type": "bearer",
            "expires_in": max(int(issued.expires_at - now), 0),
            "scope": "apis@sandbox",
        }
        response = JSONResponse(body)
    state.record(f"{request.method} /identity/oauth/token", response.status_code)
    return response


def _token_error(state: SandboxState, request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    value = header[7:].strip() if header.startswith("Bearer ") else ""
    value = value or request.query_params.get("access_token", "")
    if not value:
        return "600"
    issued = state.tokens.get(value)
    if issued is None:
        return "601"
    return "602" if issued.expires_at <= time.time() else None


def _limit_error(state: SandboxState) -> str | None:
    knobs = state.knobs
    now = time.monotonic()
    if state.marketo_daily >= knobs.marketo_daily_limit:
        return "607"
    if state.marketo_in_flight >= knobs.marketo_concurrency:
        return "615"
    if state.marketo_window.count(now, knobs.marketo_window_s) >= knobs.marketo_limit:
        return "606"
    state.marketo_window.add(now)
    state.marketo_daily += 1
    return None


def _endpoint(label: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        code = _token_error(state, request) or _limit_error(state)
        if code is not None:
            response: Response = marketo_failure(code, marketo_message(code, state))
        else:
            state.marketo_in_flight += 1
            try:
                fault = await injected_fault(state, "marketo")
                fault = fault or await input_refusal(state, "marketo", request)
                response = fault or await handler(state, request)
            finally:
                state.marketo_in_flight -= 1
        state.record(label, response.status_code, _error_code(response))
        return response

    return endpoint


def _error_code(response: Response) -> str:
    body = bytes(response.body)
    if not isinstance(response, JSONResponse) or b'"success":false' not in body:
        return ""
    return body.split(b'"code":"', 1)[1].split(b'"', 1)[0].decode()


def company_routes() -> list[Route]:
    """Marketo companies (``marketo_companies``)."""
    sync, read = "/rest/v1/companies.json", "/rest/v1/companies/describe.json"
    delete = "/rest/v1/companies/delete.json"
    return [
        Route(sync, _endpoint(f"POST {sync}", companies.sync_companies), methods=["POST"]),
        Route(sync, _endpoint(f"GET {sync}", companies.get_companies), methods=["GET"]),
        Route(read, _endpoint(f"GET {read}", companies.describe), methods=["GET"]),
        Route(delete, _endpoint(f"POST {delete}", companies.delete_companies), methods=["POST"]),
    ]


def routes() -> list[Route]:
    return [
        *company_routes(),
        Route("/identity/oauth/token", token, methods=["GET", "POST"]),
        Route(
            "/rest/v1/leads.json",
            _endpoint("POST /rest/v1/leads.json", sync_leads),
            methods=["POST"],
        ),
        Route(
            "/rest/v1/leads.json", _endpoint("GET /rest/v1/leads.json", get_leads), methods=["GET"]
        ),
        Route(
            "/rest/v1/leads/describe.json",
            _endpoint("GET /rest/v1/leads/describe.json", marketo_fields.describe),
            methods=["GET"],
        ),
        Route(
            "/rest/v1/leads/schema/fields.json",
            _endpoint("GET /rest/v1/leads/schema/fields.json", marketo_fields.list_fields),
            methods=["GET"],
        ),
        Route(
            "/rest/v1/leads/schema/fields.json",
            _endpoint("POST /rest/v1/leads/schema/fields.json", marketo_fields.create_fields),
            methods=["POST"],
        ),
        Route(
            "/rest/v1/leads/delete.json",
            _endpoint("POST /rest/v1/leads/delete.json", delete_leads),
            methods=["POST"],
        ),
    ]
