"""HubSpot CRM v3 companies on the sandbox store: ``batch/upsert``, ``batch/read``,
``batch/archive`` (bodies parsed, auth and limits checked by ``hubspot_api``).

Contract (reference §6, companies spec): upsert inputs are ``{"idProperty", "id",
"properties"}``; ``idProperty`` must be a company property with ``hasUniqueValue: true``
(created through ``/crm/v3/properties/companies``), else the whole request is refused with 400
"Unable to perform update/upsert by non-unique 0-1 property"; duplicate ids → 400; values must
be strings; a property the catalog refuses (missing, read-only, bad option) → a 207 item error
naming the input. Archiving a company also removes its associations (HubSpot does).
"""

from __future__ import annotations

import time
from typing import cast

from starlette.responses import Response

from sandbox_platform.catalog import hubspot_refusal
from sandbox_platform.companies import Company
from sandbox_platform.faults import hubspot_error
from sandbox_platform.hubspot_batches import (
    batch_answer,
    item_error,
    objects_not_found,
    string_properties,
)
from sandbox_platform.state import SandboxState

Body = dict[str, object]
Inputs = list[dict[str, object]]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def public(company: Company, new: bool | None = None, wanted: list[str] | None = None) -> Body:
    shown = {k: v for k, v in company.properties.items() if wanted is None or k in wanted}
    shown.update(
        hs_object_id=str(company.id),
        createdate=company.created_at,
        hs_lastmodifieddate=company.updated_at,
    )
    item: Body = {
        "id": str(company.id),
        "properties": shown,
        "createdAt": company.created_at,
        "updatedAt": company.updated_at,
        "archived": False,
    }
    if new is not None:
        item["new"] = new
    return item


def _non_unique(state: SandboxState, id_property: object) -> Response | None:
    prop = state.hubspot_company_properties.get(str(id_property or ""))
    if prop is not None and prop.unique:
        return None
    return hubspot_error(
        400,
        "VALIDATION_ERROR",
        f"Unable to perform update/upsert by non-unique 0-1 property: {id_property}",
    )


def upsert(state: SandboxState, body: Body) -> Response:
    started, inputs = _now(), cast(Inputs, body["inputs"])
    ids = [str(i.get("id", "")) for i in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        return hubspot_error(
            400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: {duplicates}"
        )
    results: list[Body] = []
    errors: list[Body] = []
    for item in inputs:
        refused = _non_unique(state, item.get("idProperty"))
        if refused is not None:
            return refused
        props = string_properties(item)
        if isinstance(props, Response):
            return props
        id_property, sent_id = str(item["idProperty"]), str(item.get("id", ""))
        props = {**props, id_property: sent_id}
        refusal = hubspot_refusal(state.hubspot_company_properties, props)
        if refusal is not None:
            errors.append(
                item_error(
                    "VALIDATION_ERROR",
                    f"Property values were not valid: {refusal.message}",
                    [sent_id],
                    refusal.code,
                    refusal.name,
                )
            )
            continue
        found = state.hubspot_companies.find(id_property, sent_id)
        if found is not None:
            state.hubspot_companies.update(found, props)
            results.append(public(found, new=False))
        else:
            results.append(public(state.hubspot_companies.create(props), new=True))
    return batch_answer(results, errors, started)


def read(state: SandboxState, body: Body) -> Response:
    started, inputs = _now(), cast(Inputs, body["inputs"])
    wanted = [str(p) for p in cast(list[object], body.get("properties") or [])] or ["name"]
    id_property = body.get("idProperty")
    if id_property not in (None, "", "hs_object_id"):
        refused = _non_unique(state, id_property)
        if refused is not None:
            return refused
    results: list[Body] = []
    missing: list[str] = []
    for item in inputs:
        sent_id = str(item.get("id", ""))
        if id_property in (None, "", "hs_object_id"):
            company = state.hubspot_companies.by_id.get(int(sent_id)) if sent_id.isdigit() else None
        else:
            company = state.hubspot_companies.find(str(id_property), sent_id)
        if company is None:
            missing.append(sent_id)
        else:
            results.append(public(company, wanted=wanted))
    errors = [objects_not_found("COMPANY", missing)] if missing else []
    return batch_answer(results, errors, started)


def archive(state: SandboxState, body: Body) -> Response:
    for item in cast(Inputs, body["inputs"]):
        sent_id = str(item.get("id", ""))
        if sent_id.isdigit() and state.hubspot_companies.delete(int(sent_id)) is not None:
            state.hubspot_associations.drop_company(int(sent_id))
    return Response(status_code=204)
