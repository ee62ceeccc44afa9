"""HubSpot's CRM properties API (contacts) and communication preferences v4 unsubscribe-all,
on the sandbox catalog (auth and limits already checked by ``hubspot_api``).

Properties (shared/reference/marketing_platforms.md §4): ``GET /crm/v3/properties/contacts``
→ ``{"results": [Property]}``; ``GET …/{name}`` → 200 or 404 ``OBJECT_NOT_FOUND``;
``POST /crm/v3/properties/contacts`` (``PropertyCreate``: ``name``, ``label``, ``type``,
``fieldType``, ``groupName`` required; ``options`` for enumerations; valid type/fieldType
pairs) → 201, 409 ``CONFLICT`` for a name that exists, 400 ``VALIDATION_ERROR`` otherwise;
``POST …/batch/create`` → 201, or 207 with per-input errors.
Unsubscribe (§5): ``POST /communication-preferences/v4/statuses/batch/unsubscribe-all
?channel=EMAIL`` with ``{"inputs": [email, ...]}``; opt-out is kept per address.
"""

from __future__ import annotations

import re
import time
from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox_platform.catalog import Catalog, PropertyDef
from sandbox_platform.faults import hubspot_error
from sandbox_platform.state import SandboxState

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELD_TYPES = {
    "bool": {"booleancheckbox", "calculation_equation"},
    "enumeration": {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"},
    "date": {"date"},
    "datetime": {"date"},
    "string": {"text", "textarea", "file", "html", "calculation_equation"},
    "number": {"number", "calculation_equation"},
    "phone_number": {"phonenumber"},
}
REQUIRED = ("name", "label", "type", "fieldType", "groupName")
Body = dict[str, object]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def public(prop: PropertyDef) -> Body:
    """A ``Property`` as HubSpot lists it."""
    return {
        "name": prop.name,
        "label": prop.label,
        "type": prop.type,
        "fieldType": prop.field_type,
        "groupName": prop.group,
        "description": prop.description,
        "options": [
            {"label": o, "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(prop.options)
        ],
        "hasUniqueValue": prop.unique,
        "hubspotDefined": not prop.custom,
        "modificationMetadata": {
            "archivable": prop.custom,
            "readOnlyDefinition": not prop.custom,
            "readOnlyValue": prop.read_only,
        },
    }


def _parse_create(item: object) -> PropertyDef | str:
    """The property to create, or why the input is invalid."""
    if not isinstance(item, dict):
        return "Invalid input JSON: a property must be an object"
    missing = [k for k in REQUIRED if not isinstance(item.get(k), str) or not item.get(k)]
    if missing:
        return f"Missing required fields: {missing}"
    name, type_, field_type = str(item["name"]), str(item["type"]), str(item["fieldType"])
    if not NAME.match(name):
        return f"Property name {name!r} is invalid: lower-case letters, digits and _ only"
    if field_type not in FIELD_TYPES.get(type_, set()):
        return f"fieldType {field_type} is not valid for type {type_}"
    raw_options = cast(list[dict[str, object]], item.get("options") or [])
    options = tuple(str(o.get("value", "")) for o in raw_options if isinstance(o, dict))
    if type_ == "enumeration" and not options:
        return "options are required for an enumeration property"
    return PropertyDef(
        name,
        str(item["label"]),
        type_,
        field_type,
        group=str(item["groupName"]),
        custom=True,
        options=options,
        description=str(item.get("description") or ""),
        unique=item.get("hasUniqueValue") is True,
    )


COMPANY_PROPERTIES = "/crm/v3/properties/companies"


def catalog_of(state: SandboxState, request: Request) -> Catalog:
    """The contacts' or the companies' catalog, by the request's path."""
    if request.url.path.startswith(COMPANY_PROPERTIES):
        return state.hubspot_company_properties
    return state.hubspot_properties


def list_properties(state: SandboxState, request: Request, _body: object) -> Response:
    results = [public(p) for p in catalog_of(state, request).all()]
    return JSONResponse({"results": results})


def read_property(state: SandboxState, request: Request, _body: object) -> Response:
    prop = catalog_of(state, request).get(request.path_params["name"])
    if prop is None:
        return hubspot_error(404, "OBJECT_NOT_FOUND", "Unable to find property")
    return JSONResponse(public(prop))


def create_property(state: SandboxState, request: Request, body: object) -> Response:
    parsed = _parse_create(body)
    if isinstance(parsed, str):
        return hubspot_error(400, "VALIDATION_ERROR", parsed)
    if not catalog_of(state, request).add(parsed):
        return hubspot_error(409, "CONFLICT", f"A property named '{parsed.name}' already exists.")
    return JSONResponse(public(parsed), status_code=201)


def batch_create(state: SandboxState, request: Request, body: object) -> Response:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        return hubspot_error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
    started, results, errors = _now(), [], []
    for item in inputs:
        parsed = _parse_create(item)
        name = str(item.get("name", "")) if isinstance(item, dict) else ""
        if isinstance(parsed, str):
            errors.append(_error("VALIDATION_ERROR", parsed, name))
        elif not catalog_of(state, request).add(parsed):
            errors.append(_error("CONFLICT", f"A property named '{name}' already exists.", name))
        else:
            results.append(public(parsed))
    answer: Body = {"status": "COMPLETE", "results": results, "startedAt": started}
    answer["completedAt"] = _now()
    if errors:
        answer.update(numErrors=len(errors), errors=errors)
    return JSONResponse(answer, status_code=207 if errors else 201)


def _error(category: str, message: str, name: str) -> Body:
    return {"status": "error", "category": category, "message": message, "context": {"ids": [name]}}


def unsubscribe_all(state: SandboxState, request: Request, body: object) -> Response:
    if request.query_params.get("channel") != "EMAIL":
        return hubspot_error(400, "VALIDATION_ERROR", "channel must be EMAIL")
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        return hubspot_error(400, "VALIDATION_ERROR", "inputs must be email addresses")
    started, results, errors = _now(), [], []
    for email in cast(list[str], inputs):
        if not EMAIL.match(email):
            errors.append(_error("VALIDATION_ERROR", f"{email} is not a valid email", email))
            continue
        state.hubspot_optouts.add(email.strip().casefold())
        status = {"channel": "EMAIL", "statusState": "UNSUBSCRIBED", "source": "API"}
        results.append({"subscriberIdString": email, "statuses": [status]})
    answer: Body = {"status": "COMPLETE", "results": results, "startedAt": started}
    answer["completedAt"] = _now()
    if errors:
        answer.update(numErrors=len(errors), errors=errors)
    return JSONResponse(answer, status_code=207 if errors else 200)
