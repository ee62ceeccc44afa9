"""``PropertyCatalog`` over each vendor's API (see ``provisioning``).

HubSpot (shared/reference/marketing_platforms.md §4): ``GET /crm/v3/properties/contacts`` lists
(``results[].name``); ``POST /crm/v3/properties/contacts/batch/create`` creates (201, or 207
with per-input errors; a name that exists answers ``CONFLICT``, which counts as present).
Marketo (AdobeDocs marketo-developer ``leads.md``; §8): ``GET /rest/v1/leads/describe.json``
lists the REST names (Read-Only Lead); ``POST /rest/v1/leads/schema/fields.json`` creates
(≤100 per call; per-input ``created`` or ``skipped``).
These are one-off admin calls: no rate limiter, no retry loop; a refusal is fatal with the
vendor's answer, quoted up to a bounded length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import requests

from streams.contracts import FatalPlatformError, TransientPlatformError
from streams.platform.auth import TokenProvider
from streams.platform.exchange import Exchange, json_body
from streams.platform.provisioning import PropertySpec
from streams.platform.records import chunks

HUBSPOT_PROPERTIES = "/crm/v3/properties/contacts"
MARKETO_DESCRIBE = "/rest/v1/leads/describe.json"
MARKETO_FIELDS = "/rest/v1/leads/schema/fields.json"
QUOTE_LIMIT = 300
Json = Mapping[str, object]

_HUBSPOT_TYPES = {
    "string": ("string", "text"),
    "text": ("string", "textarea"),
    "bool": ("bool", "booleancheckbox"),
}
_MARKETO_TYPES = {"string": "string", "text": "text", "bool": "boolean"}


def _check_http(response: requests.Response, what: str, ok: tuple[int, ...]) -> None:
    if response.status_code in ok:
        return
    detail = response.text[:QUOTE_LIMIT]
    if response.status_code in (401, 403):
        raise FatalPlatformError(f"{what}: access refused (HTTP {response.status_code}): {detail}")
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientPlatformError(f"{what}: HTTP {response.status_code}")
    raise FatalPlatformError(f"{what}: HTTP {response.status_code}: {detail}")


class HubSpotProperties:
    """Contact properties, or company properties (``object_type="companies"``: group
    ``companyinformation``, ``hasUniqueValue`` for a unique spec)."""

    platform = "hubspot"

    def __init__(
        self, exchange: Exchange, auth: TokenProvider, object_type: str = "contacts"
    ) -> None:
        self.__exchange = exchange
        self.__auth = auth
        self.object_type = object_type
        self.__path = f"/crm/v3/properties/{object_type}"

    def existing(self) -> set[str]:
        response = self.__exchange.send("GET", self.__path, token=self.__auth.token())
        _check_http(response, "listing HubSpot contact properties", (200,))
        results = cast(list[Json], json_body(response).get("results") or [])
        return {str(p.get("name")) for p in results}

    def create(self, specs: Sequence[PropertySpec]) -> list[str]:
        created: list[str] = []
        for batch in chunks(list(specs), 100):
            inputs = [_hubspot_input(s, self.object_type) for s in batch]
            response = self.__exchange.send(
                "POST",
                f"{self.__path}/batch/create",
                token=self.__auth.token(),
                json={"inputs": inputs},
            )
            _check_http(response, "creating HubSpot contact properties", (200, 201, 207))
            doc = json_body(response)
            created += [str(p.get("name")) for p in cast(list[Json], doc.get("results") or [])]
            refused = [
                e
                for e in cast(list[Json], doc.get("errors") or [])
                if e.get("category") != "CONFLICT"
            ]
            if refused:
                raise FatalPlatformError(
                    f"HubSpot refused to create properties: {str(refused)[:QUOTE_LIMIT]}"
                )
        return created


def _hubspot_input(spec: PropertySpec, object_type: str = "contacts") -> dict[str, object]:
    type_, field_type = _HUBSPOT_TYPES[spec.kind]
    item: dict[str, object] = {
        "name": spec.name,
        "label": spec.label,
        "type": type_,
        "fieldType": field_type,
        "groupName": "companyinformation" if object_type == "companies" else "contactinformation",
        "description": "Written by cdcbridge (CDC sync from the customer database).",
    }
    if spec.unique:
        item["hasUniqueValue"] = True
    if spec.kind == "bool":
        item["options"] = [
            {"label": "Yes", "value": "true", "displayOrder": 0},
            {"label": "No", "value": "false", "displayOrder": 1},
        ]
    return item


class MarketoFields:
    platform = "marketo"
    object_type = "contacts"

    def __init__(self, exchange: Exchange, auth: TokenProvider) -> None:
        self.__exchange = exchange
        self.__auth = auth

    def __call(self, method: str, path: str, what: str, body: object = None) -> Json:
        response = self.__exchange.send(method, path, token=self.__auth.token(), json=body)
        _check_http(response, what, (200,))
        doc = json_body(response)
        if doc.get("success") is not True:
            errors = cast(list[Json], doc.get("errors") or [{}])
            code, message = errors[0].get("code", ""), errors[0].get("message", "")
            if code in ("606", "608", "611", "615", "713"):
                raise TransientPlatformError(f"{what}: Marketo {code} {message}")
            raise FatalPlatformError(f"{what}: Marketo {code} {str(message)[:QUOTE_LIMIT]}")
        return doc

    def existing(self) -> set[str]:
        doc = self.__call("GET", MARKETO_DESCRIBE, "describing Marketo lead fields")
        names = set()
        for field in cast(list[Json], doc.get("result") or []):
            rest = cast(Json, field.get("rest") or {})
            if rest.get("name"):
                names.add(str(rest["name"]))
        return names

    def create(self, specs: Sequence[PropertySpec]) -> list[str]:
        created: list[str] = []
        for batch in chunks(list(specs), 100):
            inputs = [
                {
                    "displayName": s.label,
                    "name": s.name,
                    "dataType": _MARKETO_TYPES[s.kind],
                    "description": "Written by cdcbridge (CDC sync from the customer database).",
                }
                for s in batch
            ]
            doc = self.__call(
                "POST", MARKETO_FIELDS, "creating Marketo lead fields", {"input": inputs}
            )
            for item in cast(list[Json], doc.get("result") or []):
                if item.get("status") == "created":
                    created.append(str(item.get("name")))
        return created
