"""Marketo lead field schema on the sandbox catalog (auth and limits already checked).

Sources: AdobeDocs/marketo-developer.en ``leads.md`` (Describe; Field Management: Get Lead
Fields, Create Lead Fields) and shared/reference/marketing_platforms.md §8.
- ``GET /rest/v1/leads/describe.json`` (Read-Only Lead): per field ``id``, ``displayName``,
  ``dataType``, ``length``, ``rest{name, readOnly}``.
- ``GET /rest/v1/leads/schema/fields.json`` (Read-Write Schema Custom Field): ``displayName``,
  ``name``, ``dataType``, ``isCustom``, … (one page; the catalog is small).
- ``POST /rest/v1/leads/schema/fields.json``: ``{"input": [{displayName, name, dataType, …}]}``,
  ``displayName``, ``name`` and ``dataType`` required, ``name`` starts with a letter and has
  letters, digits or ``_`` only, ≤100 per call; per input ``{"name", "status": "created"}``, or
  ``skipped`` with a reason for a name that exists (the reason code is not documented; 1009 is
  used here) or an invalid input (1003).
"""

from __future__ import annotations

import re
from typing import cast

from starlette.requests import Request
from starlette.responses import Response

from sandbox_platform.catalog import PropertyDef
from sandbox_platform.faults import marketo_failure
from sandbox_platform.marketo_leads import success
from sandbox_platform.state import SandboxState

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
DATA_TYPES = frozenset(
    {
        "boolean",
        "currency",
        "date",
        "datetime",
        "email",
        "float",
        "integer",
        "percent",
        "phone",
        "score",
        "string",
        "text",
        "url",
    }
)
MAX_CREATE = 100
Json = dict[str, object]


def _schema_row(prop: PropertyDef) -> Json:
    return {
        "displayName": prop.label,
        "name": prop.name,
        "description": prop.description or None,
        "dataType": prop.type,
        "length": 255 if prop.type == "string" else None,
        "isHidden": False,
        "isHtmlEncodingInEmail": True,
        "isSensitive": False,
        "isCustom": prop.custom,
    }


async def describe(state: SandboxState, _request: Request) -> Response:
    rows: list[Json] = []
    for number, prop in enumerate(state.marketo_fields.all(), start=1):
        rows.append(
            {
                "id": number,
                "displayName": prop.label,
                "dataType": prop.type,
                "rest": {"name": prop.name, "readOnly": prop.read_only},
            }
        )
    return success(rows)


async def list_fields(state: SandboxState, _request: Request) -> Response:
    return success([_schema_row(p) for p in state.marketo_fields.all()])


def _skipped(name: str, code: str, message: str) -> Json:
    return {"name": name, "status": "skipped", "reasons": [{"code": code, "message": message}]}


def _create_one(state: SandboxState, item: object) -> Json:
    if not isinstance(item, dict):
        return _skipped("", "1003", "Invalid field definition")
    name, label, data_type = (str(item.get(k) or "") for k in ("name", "displayName", "dataType"))
    if not (name and label and data_type):
        return _skipped(name, "1003", "displayName, name and dataType are required")
    if not NAME.match(name) or data_type not in DATA_TYPES:
        return _skipped(name, "1003", f"Invalid name or dataType for field '{name}'")
    prop = PropertyDef(
        name, label, data_type, custom=True, description=str(item.get("description") or "")
    )
    if not state.marketo_fields.add(prop):
        return _skipped(name, "1009", f"Field '{name}' already exists")
    return {"name": name, "status": "created"}


async def create_fields(state: SandboxState, request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return marketo_failure("609", "Invalid JSON")
    inputs = body.get("input") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        return marketo_failure("1003", "Invalid value for field 'input'")
    if len(inputs) > MAX_CREATE:
        return marketo_failure("1003", f"At most {MAX_CREATE} fields per call")
    return success([_create_one(state, item) for item in cast(list[object], inputs)])
