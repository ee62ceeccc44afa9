"""HubSpot associations v4 between contacts and companies, default (unlabeled) type only
(reference §6; auth and limits checked by ``hubspot_api``).

- ``POST /crm/v4/associations/{from}/{to}/batch/associate/default`` ``{"inputs": [{"from":
  {"id"}, "to": {"id"}}]}`` → 200 with ``results`` (one per direction, as HubSpot lists them).
- ``POST …/batch/archive`` ``{"inputs": [{"from": {"id"}, "to": [{"id"}]}]}`` → 204 (a pair that
  does not exist is nothing to remove).
- ``POST …/batch/read`` ``{"inputs": [{"id"}]}`` → 200/207: per input ``{"from": {"id"}, "to":
  [{"toObjectId", "associationTypes": [{"category", "typeId", "label"}]}]}``.
- ``PUT /crm/v4/objects/{from}/{fromId}/associations/default/{to}/{toId}`` → 200.
``from``/``to`` are ``contacts``/``companies`` (singular names and ``0-1``/``0-2`` too).
Assumed where the reference is silent: an input naming a record that does not exist is a 207
item error ``OBJECT_NOT_FOUND`` whose ``context`` names ``fromObjectId`` and ``toObjectId``
(HubSpot documents 207 multi-status for its v4 batch endpoints, not this body); at most
``hubspot_association_max_batch`` inputs (1,000, the documented batch/read limit), else 400.
"""

from __future__ import annotations

import time
from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox_platform.companies import COMPANY_TO_CONTACT, CONTACT_TO_COMPANY
from sandbox_platform.faults import hubspot_error
from sandbox_platform.hubspot_batches import batch_answer
from sandbox_platform.state import SandboxState

Body = dict[str, object]
KINDS = {"contacts": "contact", "contact": "contact", "0-1": "contact"}
KINDS |= {"companies": "company", "company": "company", "0-2": "company"}
MAX_INPUTS = 1000


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _direction(request: Request) -> tuple[str, str] | Response:
    params = request.path_params
    pair = (KINDS.get(params.get("from", "")), KINDS.get(params.get("to", "")))
    if pair not in (("contact", "company"), ("company", "contact")):
        return hubspot_error(
            400,
            "VALIDATION_ERROR",
            f"Unsupported object types: {params.get('from')} → "
            f"{params.get('to')} (the sandbox associates contacts and companies)",
        )
    return (str(pair[0]), str(pair[1]))


def _exists(state: SandboxState, kind: str, record_id: str) -> bool:
    if not record_id.isdigit():
        return False
    store = state.hubspot.by_id if kind == "contact" else state.hubspot_companies.by_id
    return int(record_id) in store


def _pair(direction: tuple[str, str], from_id: str, to_id: str) -> tuple[int, int]:
    """(contact id, company id) whichever way the request reads."""
    if direction[0] == "contact":
        return int(from_id), int(to_id)
    return int(to_id), int(from_id)


def _spec(direction: tuple[str, str]) -> Body:
    type_id = CONTACT_TO_COMPANY if direction[0] == "contact" else COMPANY_TO_CONTACT
    return {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}


def _inputs(body: object) -> list[dict[str, object]] | Response:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        return hubspot_error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
    if len(inputs) > MAX_INPUTS:
        return hubspot_error(
            400,
            "VALIDATION_ERROR",
            f"The maximum number of inputs supported in a batch request is {MAX_INPUTS}",
        )
    return cast(list[dict[str, object]], inputs)


def _id_of(ref: object) -> str:
    return str(ref.get("id", "")) if isinstance(ref, dict) else ""


def _not_found(from_id: str, to_id: str) -> Body:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "message": f"No object found for from {from_id} / to {to_id}",
        "context": {"fromObjectId": [from_id], "toObjectId": [to_id]},
    }


def associate_default(state: SandboxState, request: Request, body: object) -> Response:
    direction = _direction(request)
    inputs = _inputs(body)
    if isinstance(direction, Response):
        return direction
    if isinstance(inputs, Response):
        return inputs
    started, results, errors = _now(), [], []
    for item in inputs:
        from_id, to_id = _id_of(item.get("from")), _id_of(item.get("to"))
        if not (_exists(state, direction[0], from_id) and _exists(state, direction[1], to_id)):
            errors.append(_not_found(from_id, to_id))
            continue
        state.hubspot_associations.add(*_pair(direction, from_id, to_id))
        results.append(
            {"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": _spec(direction)}
        )
    return batch_answer(results, errors, started)


def archive(state: SandboxState, request: Request, body: object) -> Response:
    direction = _direction(request)
    inputs = _inputs(body)
    if isinstance(direction, Response):
        return direction
    if isinstance(inputs, Response):
        return inputs
    for item in inputs:
        from_id = _id_of(item.get("from"))
        targets = item.get("to")
        for target in targets if isinstance(targets, list) else []:
            to_id = _id_of(target)
            if from_id.isdigit() and to_id.isdigit():
                state.hubspot_associations.remove(*_pair(direction, from_id, to_id))
    return Response(status_code=204)


def read(state: SandboxState, request: Request, body: object) -> Response:
    direction = _direction(request)
    inputs = _inputs(body)
    if isinstance(direction, Response):
        return direction
    if isinstance(inputs, Response):
        return inputs
    type_id = _spec(direction)["associationTypeId"]
    started = _now()
    results: list[Body] = []
    errors: list[Body] = []
    for item in inputs:
        from_id = _id_of(item)
        if not _exists(state, direction[0], from_id):
            errors.append(_not_found(from_id, ""))
            continue
        links = state.hubspot_associations
        targets = (
            links.companies_of(int(from_id))
            if direction[0] == "contact"
            else links.contacts_of(int(from_id))
        )
        kinds = [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]
        to = [{"toObjectId": t, "associationTypes": kinds} for t in targets]
        results.append({"from": {"id": from_id}, "to": to})
    return batch_answer(results, errors, started)


def associate_one(state: SandboxState, request: Request, _body: object) -> Response:
    direction = _direction(request)
    if isinstance(direction, Response):
        return direction
    from_id, to_id = request.path_params["from_id"], request.path_params["to_id"]
    if not (_exists(state, direction[0], from_id) and _exists(state, direction[1], to_id)):
        return hubspot_error(404, "OBJECT_NOT_FOUND", f"No object found for {from_id} / {to_id}")
    state.hubspot_associations.add(*_pair(direction, from_id, to_id))
    result = {"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": _spec(direction)}
    return JSONResponse({"status": "COMPLETE", "results": [result]})
