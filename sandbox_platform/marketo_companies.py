"""Marketo companies on the sandbox store (auth and limits checked by ``marketo_api``).

Reference §8 (``companies.md``): ``POST /rest/v1/companies.json`` ``{"action":
"createOrUpdate"|"createOnly"|"updateOnly", "dedupeBy": "dedupeFields"|"idField", "input":
[...]}`` (≤ ``marketo_max_batch``, 300); results ``{seq, id, status}`` in input order, or
``{seq, status: "skipped", reasons}``; ``GET /rest/v1/companies.json?filterType=
externalCompanyId|id&filterValues=…``; ``GET /rest/v1/companies/describe.json``;
``POST /rest/v1/companies/delete.json`` ``{"deleteBy": "dedupeFields"|"idField", "input"}``
(a missing company: skipped 1013). Empty values are written as null.
Assumed where the reference is silent: a field the company describe does not list is skipped
with 1006 (as for leads); ``updateOnly`` on a missing company is skipped with 1013; deleting a
company unlinks its leads (their ``externalCompanyId`` becomes null).
"""

from __future__ import annotations

from typing import cast

from starlette.requests import Request
from starlette.responses import Response

from sandbox_platform.companies import Company
from sandbox_platform.faults import marketo_failure
from sandbox_platform.marketo_leads import success
from sandbox_platform.state import SandboxState

Json = dict[str, object]
DEDUPE = "externalCompanyId"
FIELDS = {
    "externalCompanyId": "string",
    "company": "string",
    "website": "url",
    "industry": "string",
    "numberOfEmployees": "integer",
    "annualRevenue": "currency",
    "billingCountry": "string",
    "billingCity": "string",
    "mainPhone": "phone",
    "sicCode": "string",
}
ACTIONS = frozenset({"createOrUpdate", "createOnly", "updateOnly"})


def _skipped(seq: int, code: str, message: str) -> Json:
    return {"seq": seq, "status": "skipped", "reasons": [{"code": code, "message": message}]}


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _find(state: SandboxState, dedupe_by: str, item: Json) -> Company | None:
    if dedupe_by == "idField":
        raw = item.get("id")
        return state.marketo_companies.by_id.get(raw) if isinstance(raw, int) else None
    return state.marketo_companies.find(DEDUPE, str(item.get(DEDUPE) or ""))


def _sync_one(state: SandboxState, action: str, dedupe_by: str, seq: int, item: Json) -> Json:
    unknown = next((k for k in item if k not in FIELDS and k != "id"), None)
    if unknown is not None:
        return _skipped(seq, "1006", f"Field '{unknown}' not found")
    key = "id" if dedupe_by == "idField" else DEDUPE
    if item.get(key) in (None, ""):
        return _skipped(seq, "1003", f"Value for required field '{key}' not specified")
    numbers = item.get("numberOfEmployees")
    if numbers is not None and (not isinstance(numbers, int) or isinstance(numbers, bool)):
        return _skipped(seq, "1003", "Invalid value for field 'numberOfEmployees'")
    fields = {k: _text(v) for k, v in item.items() if k != "id"}
    found = _find(state, dedupe_by, item)
    if found is not None:
        if action == "createOnly":
            return _skipped(seq, "1005", "Company already exists")
        state.marketo_companies.update(found, fields)
        return {"seq": seq, "id": found.id, "status": "updated"}
    if action == "updateOnly" or dedupe_by == "idField":
        return _skipped(seq, "1013", "Company not found")
    return {"seq": seq, "id": state.marketo_companies.create(fields).id, "status": "created"}


async def sync_companies(state: SandboxState, request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return marketo_failure("609", "Invalid JSON")
    if not isinstance(body, dict) or not isinstance(body.get("input"), list):
        return marketo_failure("1003", "Invalid value for field 'input'")
    action = str(body.get("action", "createOrUpdate"))
    dedupe_by = str(body.get("dedupeBy", "dedupeFields"))
    inputs = cast(list[Json], body["input"])
    if action not in ACTIONS or dedupe_by not in ("dedupeFields", "idField"):
        return marketo_failure("1003", f"Invalid action '{action}' or dedupeBy '{dedupe_by}'")
    if action == "createOnly" and dedupe_by == "idField":
        return marketo_failure("1003", "dedupeBy idField is not allowed with createOnly")
    if len(inputs) > state.knobs.marketo_max_batch:
        return marketo_failure("1003", f"Batch size exceeds {state.knobs.marketo_max_batch}")
    if not all(isinstance(i, dict) for i in inputs):
        return marketo_failure("1003", "Invalid value for field 'input'")
    return success([_sync_one(state, action, dedupe_by, n, i) for n, i in enumerate(inputs)])


def _row(company: Company, fields: list[str]) -> Json:
    row: Json = {f: company.properties.get(f) for f in fields if f not in ("id",)}
    row.update(id=company.id, createdAt=company.created_at, updatedAt=company.updated_at)
    return row


async def get_companies(state: SandboxState, request: Request) -> Response:
    params = request.query_params
    filter_type = params.get("filterType", "")
    values = [v for v in params.get("filterValues", "").split(",") if v]
    fields = [f for f in params.get("fields", "externalCompanyId,company").split(",") if f]
    if filter_type not in (DEDUPE, "id") or not values or len(values) > 300:
        return marketo_failure("1003", "Invalid filterType / filterValues")
    found: list[Company] = []
    for value in values:
        if filter_type == "id":
            company = state.marketo_companies.by_id.get(int(value)) if value.isdigit() else None
        else:
            company = state.marketo_companies.find(DEDUPE, value)
        if company is not None:
            found.append(company)
    return success([_row(c, fields) for c in found])


async def describe(state: SandboxState, request: Request) -> Response:
    fields = [
        {"name": name, "displayName": name, "dataType": kind, "updateable": name != "id"}
        for name, kind in FIELDS.items()
    ]
    described: Json = {
        "name": "Company",
        "idField": "id",
        "dedupeFields": [DEDUPE],
        "searchableFields": [[DEDUPE], ["id"], ["company"]],
        "fields": fields,
    }
    return success([described])


async def delete_companies(state: SandboxState, request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return marketo_failure("609", "Invalid JSON")
    if not isinstance(body, dict) or not isinstance(body.get("input"), list):
        return marketo_failure("1003", "Invalid value for field 'input'")
    dedupe_by = str(body.get("deleteBy", "dedupeFields"))
    result: list[Json] = []
    for seq, item in enumerate(cast(list[Json], body["input"])):
        company = _find(state, dedupe_by, item) if isinstance(item, dict) else None
        if company is None:
            result.append(_skipped(seq, "1013", "Company not found"))
            continue
        state.marketo_companies.delete(company.id)
        _unlink_leads(state, company.properties.get(DEDUPE))
        result.append({"seq": seq, "id": company.id, "status": "deleted"})
    return success(result)


def _unlink_leads(state: SandboxState, external_id: str | None) -> None:
    if external_id is None:
        return
    for lead in state.marketo.by_id.values():
        if lead.properties.get(DEDUPE) == external_id:
            lead.properties[DEDUPE] = None
