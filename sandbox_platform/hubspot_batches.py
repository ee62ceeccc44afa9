"""The HubSpot batch operations on the sandbox store (bodies already parsed, auth and limits
already checked). Each returns HubSpot's 200/207/204/400 answer."""

from __future__ import annotations

import json
import re
import time
from typing import cast

from starlette.responses import JSONResponse, Response

from sandbox_platform.catalog import hubspot_refusal
from sandbox_platform.faults import hubspot_error
from sandbox_platform.state import Contact, SandboxState

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UPDATE_ID_PROPERTIES = (None, "", "hs_object_id", "email")  # record id or a unique property
Body = dict[str, object]
Inputs = list[dict[str, object]]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _public(contact: Contact, new: bool | None = None, wanted: list[str] | None = None) -> Body:
    props = contact.properties
    shown = {k: v for k, v in props.items() if wanted is None or k in wanted}
    shown.update(
        hs_object_id=str(contact.id),
        createdate=contact.created_at,
        lastmodifieddate=contact.updated_at,
    )
    item: Body = {
        "id": str(contact.id),
        "properties": shown,
        "createdAt": contact.created_at,
        "updatedAt": contact.updated_at,
        "archived": False,
    }
    if new is not None:
        item["new"] = new
    return item


def batch_answer(
    results: list[Body], errors: list[Body], started: str, ok_status: int = 200
) -> Response:
    body: Body = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": _now(),
    }
    if errors:
        body.update(numErrors=len(errors), errors=errors)
        return JSONResponse(body, status_code=207)
    return JSONResponse(body, status_code=ok_status)


def objects_not_found(object_name: str, ids: list[str]) -> Body:
    """HubSpot's batch-read item error for ids it does not hold (``CONTACT``, ``COMPANY``)."""
    return item_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {object_name} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        ids,
        "NOT_FOUND",
    )


def item_error(category: str, message: str, ids: list[str], code: str, prop: str = "") -> Body:
    detail: Body = {"message": message, "code": code}
    if prop:
        detail["context"] = {"propertyName": [prop]}
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": {"ids": ids},
        "errors": [detail],
    }


def string_properties(item: dict[str, object]) -> dict[str, str | None] | Response:
    props = item.get("properties")
    if not isinstance(props, dict) or any(not isinstance(v, str) for v in props.values()):
        return hubspot_error(
            400, "VALIDATION_ERROR", "Invalid input JSON: property values must be strings"
        )
    return cast(dict[str, str | None], props)


def _invalid(state: SandboxState, props: dict[str, str | None], sent_id: str) -> Body | None:
    """HubSpot's per-input refusal: a property it doesn't have, a read-only one, a value
    outside an enumeration's options (``catalog``), or an invalid email."""
    refusal = hubspot_refusal(state.hubspot_properties, props)
    if refusal is not None:
        detail = {
            "isValid": False,
            "message": refusal.message,
            "error": refusal.code,
            "name": refusal.name,
        }
        return item_error(
            "VALIDATION_ERROR",
            f"Property values were not valid: {json.dumps([detail])}",
            [sent_id],
            refusal.code,
            refusal.name,
        )
    email = props.get("email")
    if email is not None and not EMAIL.match(email):
        return item_error(
            "VALIDATION_ERROR",
            f"Property values were not valid: {email} is invalid email",
            [sent_id],
            "INVALID_EMAIL",
            "email",
        )
    return None


def upsert(state: SandboxState, body: Body) -> Response:
    started, inputs = _now(), cast(Inputs, body["inputs"])
    ids = [str(i.get("id", "")).casefold() for i in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        return hubspot_error(
            400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: {duplicates}"
        )
    results: list[Body] = []
    errors: list[Body] = []
    for item in inputs:
        if item.get("idProperty") != "email":
            return hubspot_error(
                400, "VALIDATION_ERROR", "idProperty must be a unique property: email"
            )
        props = string_properties(item)
        if isinstance(props, Response):
            return props
        sent_id = str(item["id"])
        props = {**props, "email": props.get("email") or sent_id}
        error = _invalid(state, props, sent_id)
        if error is not None:
            errors.append(error)
            continue
        found = state.hubspot.find_by_email(sent_id)
        if found:
            state.hubspot.update(found[0], props)
            results.append(_public(found[0], new=False))
        else:
            results.append(_public(state.hubspot.create(props), new=True))
    return batch_answer(results, errors, started)


def _target(state: SandboxState, item: dict[str, object]) -> Contact | None:
    """The contact an update input names: by record id, or by the unique ``idProperty``
    ``email`` when the input sets it (contacts spec, batch/update inputs; reference §6)."""
    sent_id = str(item.get("id", ""))
    id_property = item.get("idProperty")
    if id_property in (None, "", "hs_object_id"):
        return state.hubspot.by_id.get(int(sent_id)) if sent_id.isdigit() else None
    found = state.hubspot.find_by_email(sent_id)
    return found[0] if found else None


def update(state: SandboxState, body: Body) -> Response:
    started, inputs = _now(), cast(Inputs, body["inputs"])
    results: list[Body] = []
    errors: list[Body] = []
    for item in inputs:
        props = string_properties(item)
        if isinstance(props, Response):
            return props
        if item.get("idProperty") not in UPDATE_ID_PROPERTIES:
            return hubspot_error(
                400,
                "VALIDATION_ERROR",
                f"Unable to perform update/upsert by non-unique 0-1 property: "
                f"{item.get('idProperty')}",
            )
        sent_id = str(item.get("id", ""))
        contact = _target(state, item)
        error = _invalid(state, props, sent_id)
        if contact is None:
            error = item_error("OBJECT_NOT_FOUND", "Object not found", [sent_id], "NOT_FOUND")
        elif error is None and props.get("email"):
            clash = [
                c for c in state.hubspot.find_by_email(props["email"] or "") if c.id != contact.id
            ]
            if clash:
                error = item_error(
                    "CONFLICT",
                    f"Contact already exists. Existing ID: {clash[0].id}",
                    [sent_id],
                    "CONFLICT",
                    "email",
                )
        if error is not None or contact is None:
            errors.append(error or {})
            continue
        state.hubspot.update(contact, props)
        results.append(_public(contact))
    return batch_answer(results, errors, started)


def read(state: SandboxState, body: Body) -> Response:
    started, inputs = _now(), cast(Inputs, body["inputs"])
    wanted = [str(p) for p in cast(list[object], body.get("properties") or [])]
    wanted = wanted or ["email", "firstname", "lastname"]
    by_email = body.get("idProperty") == "email"
    results: list[Body] = []
    missing: list[str] = []
    for item in inputs:
        sent_id = str(item.get("id", ""))
        if by_email:
            found = state.hubspot.find_by_email(sent_id)
            contact = found[0] if found else None
        else:
            contact = state.hubspot.by_id.get(int(sent_id)) if sent_id.isdigit() else None
        if contact is None:
            missing.append(sent_id)
        else:
            results.append(_public(contact, wanted=wanted))
    errors = [objects_not_found("CONTACT", missing)] if missing else []
    return batch_answer(results, errors, started)


def archive(state: SandboxState, body: Body) -> Response:
    for item in cast(Inputs, body["inputs"]):
        sent_id = str(item.get("id", ""))
        if sent_id.isdigit() and state.hubspot.delete(int(sent_id)):
            state.hubspot_associations.drop_contact(int(sent_id))
    return Response(status_code=204)
