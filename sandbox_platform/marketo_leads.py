"""Marketo lead operations on the sandbox store (auth and limits already checked).

Per-record results are in input order: ``created`` / ``updated`` with ``id``, or ``skipped``
with ``reasons``: 1003 invalid data (bad email), 1004 lead not found (updateOnly), 1005 lead
already exists (createOnly), 1006 field not found (not in the ``catalog``: custom fields must be
created first), 1007 multiple leads match, 1013 the lead's ``externalCompanyId`` names no
company (assumed: the reference says a lead links to a company through that field, not what
Marketo answers when the company is missing; 1013 is its "object not found").
"""

from __future__ import annotations

import re
import uuid
from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox_platform.catalog import marketo_unknown_field
from sandbox_platform.faults import marketo_failure
from sandbox_platform.state import Contact, SandboxState

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ACTIONS = frozenset({"createOrUpdate", "createOnly", "updateOnly", "createDuplicate"})
Json = dict[str, object]


def success(result: list[Json]) -> JSONResponse:
    request_id = f"{uuid.uuid4().hex[:5]}#{uuid.uuid4().hex[:11]}"
    body = {
        "requestId": request_id,
        "result": result,
        "success": True,
        "errors": [],
        "warnings": [],
    }
    return JSONResponse(body)


def _skipped(code: str, message: str) -> Json:
    return {"status": "skipped", "reasons": [{"code": code, "message": message}]}


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _find(state: SandboxState, lookup: str, item: Json) -> list[Contact]:
    if lookup == "id":
        contact = state.marketo.by_id.get(int(cast(int, item.get("id", 0) or 0)))
        return [contact] if contact else []
    return state.marketo.find_by_email(str(item.get(lookup) or ""))


def _sync_one(state: SandboxState, action: str, lookup: str, item: Json) -> Json:
    bad_field = next((k for k in item if not FIELD.match(k)), None)
    bad_field = bad_field or marketo_unknown_field(state.marketo_fields, list(item))
    if bad_field is not None:
        return _skipped("1006", f"Field '{bad_field}' not found")
    if "id" in item and lookup != "id":  # system-managed: only the updateOnly lookup (§8)
        return _skipped("1003", "Field 'id' is system-managed: send it only as lookupField")
    email = item.get("email")
    if email is not None and not EMAIL.match(str(email)):
        return _skipped("1003", "Invalid email address")
    company = item.get("externalCompanyId")
    if company not in (None, "") and not state.marketo_companies.find(
        "externalCompanyId", str(company)
    ):
        return _skipped("1013", f"Company '{company}' not found")
    fields = {k: _as_text(v) for k, v in item.items() if k != "id"}
    found = _find(state, lookup, item) if action != "createDuplicate" else []
    if len(found) > 1:
        return _skipped("1007", "Multiple lead match lookup criteria")
    if found:
        if action == "createOnly":
            return _skipped("1005", "Lead already exists")
        state.marketo.update(found[0], fields)
        return {"id": found[0].id, "status": "updated"}
    if action == "updateOnly":
        return _skipped("1004", "Lead not found")
    if lookup == "id" or not email:
        return _skipped("1003", f"Value for lookup field '{lookup}' is required")
    return {"id": state.marketo.create(fields).id, "status": "created"}


async def sync_leads(state: SandboxState, request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return marketo_failure("609", "Invalid JSON")
    if not isinstance(body, dict) or not isinstance(body.get("input"), list):
        return marketo_failure("1003", "Invalid value for field 'input'")
    action = str(body.get("action", "createOrUpdate"))
    lookup = str(body.get("lookupField", "email"))
    inputs = cast(list[Json], body["input"])
    if action not in ACTIONS:
        return marketo_failure("1003", f"Invalid action '{action}'")
    if lookup == "id" and action != "updateOnly":
        return marketo_failure("1003", "lookupField 'id' requires action updateOnly")
    if len(inputs) > state.knobs.marketo_max_batch:
        return marketo_failure("1003", f"Batch size exceeds {state.knobs.marketo_max_batch}")
    return success([_sync_one(state, action, lookup, item) for item in inputs])


async def get_leads(state: SandboxState, request: Request) -> Response:
    params = request.query_params
    filter_type = params.get("filterType", "")
    values = [v for v in params.get("filterValues", "").split(",") if v]
    fields = [f for f in params.get("fields", "id,email,firstName,lastName").split(",") if f]
    if filter_type not in ("email", "id") or not values:
        return marketo_failure("1003", "Invalid filterType / filterValues")
    leads: list[Contact] = []
    for value in values:
        if filter_type == "email":
            leads.extend(state.marketo.find_by_email(value))
        elif value.isdigit() and int(value) in state.marketo.by_id:
            leads.append(state.marketo.by_id[int(value)])
    result: list[Json] = []
    for lead in leads:
        row: Json = {f: lead.properties.get(f) for f in fields if f not in ("id", "updatedAt")}
        row.update(id=lead.id, updatedAt=lead.updated_at)
        result.append(row)
    return success(result)


async def delete_leads(state: SandboxState, request: Request) -> Response:
    body = await request.json()
    result: list[Json] = []
    for item in cast(list[Json], body.get("input") or []):
        lead_id = int(cast(int, item.get("id", 0) or 0))
        if state.marketo.delete(lead_id):
            result.append({"id": lead_id, "status": "deleted"})
        else:
            result.append({"id": lead_id, **_skipped("1004", "Lead not found")})
    return success(result)
