"""HubSpot companies and contact → company associations, for ``HubSpotAdapter``.

Companies (reference §6): ``POST /crm/v3/objects/companies/batch/upsert`` with ``idProperty`` =
a unique company property (``cdcbridge_company_id``, created by ``cdcbridge platform setup``;
``domain`` is not unique), ≤100 inputs, string values; 200 or 207 with ``errors[]`` naming
inputs in ``context.ids``. Deletes archive (``batch/read`` by the unique property for the
record ids, then ``batch/archive``; HubSpot removes the company's associations with it).

Associations v4 (``contact_company`` records: a contact's company, ``COMPANY_LINK`` None to
detach): read the contact ids (by email) and company ids (by the unique property), read the
contact's current company associations (``batch/read``), archive the ones that are not wanted
(``batch/archive``) and associate the wanted one (``batch/associate/default``, type 279). A
company that does not exist yet answers ``RETRY`` with ``COMPANY_NOT_FOUND`` (the sync keeps
the association pending); a contact that does not exist is ``INVALID`` ``CONTACT_NOT_FOUND``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import cast

import requests

from streams.contracts import (
    COMPANY_LINK,
    COMPANY_NOT_FOUND,
    RecordOutcome,
    RecordResult,
    TransientPlatformError,
    VendorRecord,
)
from streams.platform.exchange import json_body
from streams.platform.records import as_vendor_string, chunks

COMPANIES = "/crm/v3/objects/companies"
CONTACTS = "/crm/v3/objects/contacts"
ASSOCIATIONS = "/crm/v4/associations/contacts/companies"
COMPANY_ID_PROPERTY = "cdcbridge_company_id"
Call = Callable[[str, str, object], requests.Response]
"""(method, full path, JSON body) → the answer, through auth, limits and the vendor policy."""
Json = Mapping[str, object]


def _ok(response: requests.Response, what: str, codes: tuple[int, ...] = (200, 207)) -> Json:
    if response.status_code not in codes:
        raise TransientPlatformError(f"{what} answered HTTP {response.status_code}")
    return json_body(response) if response.status_code != 204 else {}


class HubSpotCompanies:
    """Companies and associations through ``call``; ``batch_size`` ≤ 100 (HubSpot's limit)."""

    def __init__(self, call: Call, batch_size: int, id_property: str = COMPANY_ID_PROPERTY) -> None:
        self.__call = call
        self.__size = batch_size
        self.__id_property = id_property

    def upsert(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        last = {r.id_value: r for r in records}  # last write wins per company
        answers: dict[str, RecordResult] = {}
        for batch in chunks(list(last.values()), self.__size):
            inputs = [self.__input(r) for r in batch]
            doc = _ok(
                self.__call("POST", f"{COMPANIES}/batch/upsert", {"inputs": inputs}), "upsert"
            )
            answers.update(self.__parse(doc, batch))
        return [self.__result(r, answers) for r in records]

    def archive(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        ids = self.company_ids([r.id_value for r in records])
        for batch in chunks(sorted(set(ids.values())), self.__size):
            body = {"inputs": [{"id": i} for i in batch]}
            _ok(self.__call("POST", f"{COMPANIES}/batch/archive", body), "archive", (200, 204))
        return [
            RecordResult(r.key, RecordOutcome.OK, platform_id=ids.get(r.id_value)) for r in records
        ]

    def company_ids(self, source_ids: Sequence[str]) -> dict[str, str]:
        """Company source id → HubSpot record id, for the companies that exist."""
        found: dict[str, str] = {}
        for batch in chunks(sorted(set(source_ids)), self.__size):
            body = {
                "idProperty": self.__id_property,
                "inputs": [{"id": i} for i in batch],
                "properties": [self.__id_property],
            }
            doc = _ok(self.__call("POST", f"{COMPANIES}/batch/read", body), "company read")
            for item in cast(list[Json], doc.get("results", [])):
                props = cast(Json, item.get("properties") or {})
                found[str(props.get(self.__id_property))] = str(item["id"])
        return found

    def associate(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        last = {r.key: r for r in records}
        contacts = self.__contact_ids([r.id_value for r in last.values()])
        wanted = [
            str(r.properties[COMPANY_LINK])
            for r in last.values()
            if r.properties.get(COMPANY_LINK) is not None
        ]
        companies = self.company_ids(wanted) if wanted else {}
        results: dict[str, RecordResult] = {}
        targets: dict[str, str | None] = {}  # contact id → wanted company record id (None: none)
        for record in last.values():
            contact = contacts.get(record.id_value.strip().casefold())
            link = record.properties.get(COMPANY_LINK)
            company = companies.get(str(link)) if link is not None else None
            if contact is None:
                results[record.key] = RecordResult(
                    record.key,
                    RecordOutcome.INVALID,
                    error_code="CONTACT_NOT_FOUND",
                    error_message="no contact with this email to associate",
                )
            elif link is not None and company is None:
                results[record.key] = RecordResult(
                    record.key,
                    RecordOutcome.RETRY,
                    error_code=COMPANY_NOT_FOUND,
                    error_message=f"company {link} does not exist on HubSpot yet",
                )
            else:
                targets[contact] = company
                results[record.key] = RecordResult(
                    record.key, RecordOutcome.OK, platform_id=contact
                )
        self.__apply(targets)
        return [results[r.key] for r in records]

    def __apply(self, targets: Mapping[str, str | None]) -> None:
        current = self.__current(list(targets))
        archive: list[dict[str, object]] = [
            {"from": {"id": k}, "to": [{"id": c} for c in current.get(k, set()) if c != want]}
            for k, want in targets.items()
            if current.get(k, set()) - {want}
        ]
        create: list[dict[str, object]] = [
            {"from": {"id": k}, "to": {"id": want}}
            for k, want in targets.items()
            if want is not None and want not in current.get(k, set())
        ]
        for batch in chunks(archive, self.__size):
            _ok(
                self.__call("POST", f"{ASSOCIATIONS}/batch/archive", {"inputs": list(batch)}),
                "association archive",
                (200, 204),
            )
        for batch in chunks(create, self.__size):
            doc = _ok(
                self.__call(
                    "POST", f"{ASSOCIATIONS}/batch/associate/default", {"inputs": list(batch)}
                ),
                "associate",
            )
            if doc.get("errors"):  # both records were just read: one vanished meanwhile
                raise TransientPlatformError(
                    f"associate answered errors: {str(doc['errors'])[:300]}"
                )

    def __current(self, contact_ids: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for batch in chunks(contact_ids, self.__size):
            body = {"inputs": [{"id": i} for i in batch]}
            doc = _ok(self.__call("POST", f"{ASSOCIATIONS}/batch/read", body), "association read")
            for item in cast(list[Json], doc.get("results", [])):
                source = str(cast(Json, item["from"])["id"])
                found[source] = {
                    str(cast(Json, t)["toObjectId"]) for t in cast(list[object], item.get("to", []))
                }
        return found

    def __contact_ids(self, emails: Sequence[str]) -> dict[str, str]:
        unique = sorted({e.strip().casefold() for e in emails})
        found: dict[str, str] = {}
        for batch in chunks(unique, self.__size):
            body = {
                "idProperty": "email",
                "inputs": [{"id": e} for e in batch],
                "properties": ["email"],
            }
            doc = _ok(self.__call("POST", f"{CONTACTS}/batch/read", body), "contact read")
            for item in cast(list[Json], doc.get("results", [])):
                email = str(cast(Json, item.get("properties") or {}).get("email", ""))
                found[email.strip().casefold()] = str(item["id"])
        return found

    def __input(self, record: VendorRecord) -> dict[str, object]:
        properties = {k: as_vendor_string(v) for k, v in record.properties.items()}
        properties[self.__id_property] = record.id_value
        item: dict[str, object] = {
            "idProperty": self.__id_property,
            "id": record.id_value,
            "properties": properties,
        }
        if record.trace_id:
            item["objectWriteTraceId"] = record.trace_id
        return item

    def __parse(self, doc: Json, batch: Sequence[VendorRecord]) -> dict[str, RecordResult]:
        by_id = {r.id_value: r for r in batch}
        by_trace = {r.trace_id: r for r in batch if r.trace_id}
        out: dict[str, RecordResult] = {}
        for item in cast(list[Json], doc.get("results", [])):
            props = cast(Json, item.get("properties") or {})
            record = by_id.get(str(props.get(self.__id_property))) or by_trace.get(
                str(item.get("objectWriteTraceId", ""))
            )
            if record is not None:
                new = item.get("new")
                out[record.id_value] = RecordResult(
                    record.key,
                    RecordOutcome.OK,
                    platform_id=str(item.get("id")),
                    created=new if isinstance(new, bool) else None,
                )
        for error in cast(list[Json], doc.get("errors", [])):
            context = cast(Mapping[str, list[str]], error.get("context") or {})
            category = str(error.get("category", ""))
            retry = category in ("RATE_LIMITS", "INTERNAL_ERROR", "TIMEOUT")
            for named in context.get("ids", []):
                if named in by_id:
                    out[named] = RecordResult(
                        by_id[named].key,
                        RecordOutcome.RETRY if retry else RecordOutcome.INVALID,
                        error_code=category or "VALIDATION_ERROR",
                        error_message=str(error.get("message", ""))[:500],
                    )
        return out

    @staticmethod
    def __result(record: VendorRecord, answers: Mapping[str, RecordResult]) -> RecordResult:
        found = answers.get(record.id_value)
        if found is None:
            return RecordResult(
                record.key,
                RecordOutcome.RETRY,
                error_code="NO_RESULT",
                error_message="the platform returned no result for this record",
            )
        return RecordResult(
            record.key,
            found.outcome,
            found.platform_id,
            found.created,
            found.error_code,
            found.error_message,
        )
