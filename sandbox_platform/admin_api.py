"""The admin API (not part of any vendor contract), for tests, the demo and the local stack.

- ``GET /admin/health`` → 200 ``{"status": "ok"}``.
- ``GET /admin/contacts`` → ``{"hubspot": [contact...], "marketo": [lead...]}``; each item is
  ``{"id", "properties", "createdAt", "updatedAt"}`` (``?platform=hubspot`` for one list).
- ``GET /admin/companies`` → ``{"hubspot": [company...], "marketo": [company...]}`` (same item
  shape, ``?platform=``); ``GET /admin/associations`` → ``{"hubspot": [{"contactId",
  "companyId", "associationTypeId"}], "marketo": [{"leadId", "externalCompanyId"}]}``.
- ``GET /admin/requests`` → ``{"total", "by_status": {"200": n, "429": n},
  "by_endpoint": {"POST /crm/...": {"207": n}, "POST /rest/v1/leads.json": {"200:606": n}},
  "marketo_errors": {"606": n}, "webhooks_sent": {"2xx": n}}``; ``?log=1`` adds
  ``"log": [{"t", "endpoint", "status"}]`` (arrival order, epoch seconds).
- ``GET /admin/knobs``; ``PATCH /admin/knobs`` with a JSON object of knobs to change
  (``outage_s`` starts an outage of that length now) → the knobs; 422 on an unknown knob.
- ``POST /admin/reset`` empties contacts, tokens, windows and counters (knobs and the property
  catalogs stay); ``POST /admin/reset?catalog=defaults`` also drops the custom properties (a
  fresh portal).
- ``POST /admin/tokens/expire`` (next calls: Marketo 602 / HubSpot 401 for OAuth tokens),
  ``POST /admin/tokens/revoke`` (forgets them: Marketo 601).
- ``POST /admin/webhooks/emit`` ``{"count": n, "type": "email_opened"}`` sends signed webhooks
  to the ``webhook_url`` knob now → ``{"sent": n, "statuses": [...]}``.
"""

from __future__ import annotations

import time

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox_platform.catalog import (
    HUBSPOT_COMPANY_DEFAULTS,
    HUBSPOT_DEFAULTS,
    MARKETO_DEFAULTS,
    Catalog,
)
from sandbox_platform.knobs import Knobs
from sandbox_platform.state import SandboxState
from sandbox_platform.webhooks import emit_now


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def contacts(request: Request) -> Response:
    state = _state(request)
    lists = {"hubspot": state.hubspot.listing(), "marketo": state.marketo.listing()}
    wanted = request.query_params.get("platform")
    return JSONResponse({wanted: lists.get(wanted, [])} if wanted else lists)


async def companies(request: Request) -> Response:
    state = _state(request)
    lists = {
        "hubspot": state.hubspot_companies.listing(),
        "marketo": state.marketo_companies.listing(),
    }
    wanted = request.query_params.get("platform")
    return JSONResponse({wanted: lists.get(wanted, [])} if wanted else lists)


async def associations(request: Request) -> Response:
    """HubSpot's contact ↔ company pairs, and Marketo's leads with an ``externalCompanyId``."""
    state = _state(request)
    marketo = [
        {"leadId": str(lead.id), "externalCompanyId": lead.properties["externalCompanyId"]}
        for lead in sorted(state.marketo.by_id.values(), key=lambda lead: lead.id)
        if lead.properties.get("externalCompanyId")
    ]
    return JSONResponse({"hubspot": state.hubspot_associations.listing(), "marketo": marketo})


async def requests_seen(request: Request) -> Response:
    state = _state(request)
    body: dict[str, object] = {
        "total": sum(state.by_status.values()),
        "by_status": dict(state.by_status),
        "by_endpoint": {k: dict(v) for k, v in state.by_endpoint.items()},
        "marketo_errors": dict(state.marketo_errors),
        "webhooks_sent": dict(state.webhooks_sent),
    }
    if request.query_params.get("log"):
        body["log"] = list(state.log)
    return JSONResponse(body)


async def knobs(request: Request) -> Response:
    state = _state(request)
    if request.method == "PATCH":
        try:
            changes = await request.json()
        except ValueError:
            changes = None
        if not isinstance(changes, dict):
            return JSONResponse({"error": "send a JSON object of knobs"}, 400)
        try:
            updated = Knobs.model_validate({**state.knobs.model_dump(), **changes})
        except ValidationError as exc:
            return JSONResponse({"error": exc.errors(include_url=False)}, 422)
        state.knobs = updated
        if "outage_s" in changes:
            state.outage_until = time.time() + updated.outage_s
    return JSONResponse(state.knobs.model_dump())


async def reset(request: Request) -> Response:
    state = _state(request)
    state.reset()
    if request.query_params.get("catalog") == "defaults":
        state.hubspot_properties = Catalog(HUBSPOT_DEFAULTS)
        state.marketo_fields = Catalog(MARKETO_DEFAULTS)
        state.hubspot_company_properties = Catalog(HUBSPOT_COMPANY_DEFAULTS)
    return JSONResponse({"status": "reset"})


async def expire_tokens(request: Request) -> Response:
    state = _state(request)
    for token in state.tokens.values():
        token.expires_at = 0.0
    return JSONResponse({"expired": len(state.tokens)})


async def revoke_tokens(request: Request) -> Response:
    state = _state(request)
    count = len(state.tokens)
    state.tokens.clear()
    return JSONResponse({"revoked": count})


async def emit_webhooks(request: Request) -> Response:
    state = _state(request)
    body = await request.json() if await request.body() else {}
    count = int(body.get("count", 1))
    statuses = await emit_now(state, count, str(body.get("type", "email_opened")))
    return JSONResponse({"sent": len(statuses), "statuses": statuses})


def routes() -> list[Route]:
    return [
        Route("/admin/health", health, methods=["GET"]),
        Route("/admin/contacts", contacts, methods=["GET"]),
        Route("/admin/companies", companies, methods=["GET"]),
        Route("/admin/associations", associations, methods=["GET"]),
        Route("/admin/requests", requests_seen, methods=["GET"]),
        Route("/admin/knobs", knobs, methods=["GET", "PATCH"]),
        Route("/admin/reset", reset, methods=["POST"]),
        Route("/admin/tokens/expire", expire_tokens, methods=["POST"]),
        Route("/admin/tokens/revoke", revoke_tokens, methods=["POST"]),
        Route("/admin/webhooks/emit", emit_webhooks, methods=["POST"]),
    ]
