"""Marketo companies and a lead's company link, for ``MarketoAdapter``.

Companies (reference §8, ``companies.md``): ``POST /rest/v1/companies.json`` ``{"action":
"createOrUpdate", "dedupeBy": "dedupeFields", "input": [...]}`` keyed by ``externalCompanyId``
(our company source id), ≤300 per call; results ``{seq, id, status}``: ``created|updated`` →
OK, ``skipped`` → INVALID with the first reason's code. Deletes: ``companies/delete.json`` by
``dedupeFields`` (permanent; a missing company, 1013, is nothing to remove).

Links (``contact_company`` records): the lead's ``externalCompanyId`` field, written by ``Sync
Leads`` ``updateOnly`` by email (never creates a lead); null detaches. A skipped 1013 (the
company does not exist yet: the sandbox's assumption, see ``sandbox_platform.marketo_leads``)
is ``RETRY`` ``COMPANY_NOT_FOUND``; 1004 (no such lead) is ``INVALID`` ``CONTACT_NOT_FOUND``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import cast

from streams.contracts import (
    COMPANY_LINK,
    COMPANY_NOT_FOUND,
    RecordOutcome,
    RecordResult,
    TransientPlatformError,
    VendorRecord,
)
from streams.platform.records import answer_strings, chunks

COMPANIES = "/rest/v1/companies.json"
DELETE_COMPANIES = "/rest/v1/companies/delete.json"
LEADS = "/rest/v1/leads.json"
EXTERNAL_ID = "externalCompanyId"
Json = Mapping[str, object]
Post = Callable[[str, object], Json]
"""(path, JSON body) → the answer's document, through auth, limits and the vendor policy."""
Get = Callable[[str, Mapping[str, str]], Json]
"""(path, query parameters) → the answer's document, the same way."""


def _items(doc: Json, sent: int) -> list[Json]:
    items = cast(list[Json], doc.get("result") or [])
    if len(items) != sent:
        raise TransientPlatformError(f"Marketo returned {len(items)} results for {sent} records")
    if all("seq" in i for i in items):
        items = sorted(items, key=lambda i: int(cast(int, i["seq"])))
    return items


def _reason(item: Json) -> tuple[str, str]:
    reasons = cast(list[Json], item.get("reasons") or [{}])
    return str(reasons[0].get("code", "")), str(reasons[0].get("message", ""))


class MarketoCompanies:
    """Companies and lead links through ``post``, company reads through ``get``; ``batch_size``
    ≤ 300 (Marketo's limit)."""

    def __init__(self, post: Post, get: Get, batch_size: int) -> None:
        self.__post = post
        self.__get = get
        self.__size = batch_size

    def upsert(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        last = {r.id_value: r for r in records}
        answers: dict[str, RecordResult] = {}
        for batch in chunks(list(last.values()), self.__size):
            inputs = [{**r.properties, EXTERNAL_ID: r.id_value} for r in batch]
            body = {"action": "createOrUpdate", "dedupeBy": "dedupeFields", "input": inputs}
            for record, item in zip(
                batch, _items(self.__post(COMPANIES, body), len(batch)), strict=True
            ):
                status = str(item.get("status", ""))
                if status in ("created", "updated"):
                    answers[record.id_value] = RecordResult(
                        record.key,
                        RecordOutcome.OK,
                        platform_id=str(item.get("id")),
                        created=status == "created",
                    )
                else:
                    code, message = _reason(item)
                    answers[record.id_value] = RecordResult(
                        record.key, RecordOutcome.INVALID, error_code=code, error_message=message
                    )
        return [_for(r, answers[r.id_value]) for r in records]

    def delete(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        unique = sorted({r.id_value for r in records})
        for batch in chunks(unique, self.__size):
            body = {"deleteBy": "dedupeFields", "input": [{EXTERNAL_ID: i} for i in batch]}
            for item in _items(self.__post(DELETE_COMPANIES, body), len(batch)):
                code, message = _reason(item)
                if item.get("status") != "deleted" and code != "1013":
                    raise TransientPlatformError(f"company delete skipped: {code} {message}")
        return [RecordResult(r.key, RecordOutcome.OK) for r in records]

    def read_values(
        self, source_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, str]]:
        """Source id → the ``fields`` (as strings; null → ``""``) of the companies Marketo has
        now (``GET companies.json`` by ``externalCompanyId``; missing ones absent). Raises
        ``TransientPlatformError``."""
        wanted = ",".join(dict.fromkeys([EXTERNAL_ID, *fields]))
        found: dict[str, dict[str, str]] = {}
        for batch in chunks(sorted(set(source_ids)), self.__size):
            params = {"filterType": EXTERNAL_ID, "filterValues": ",".join(batch), "fields": wanted}
            for item in cast(list[Json], self.__get(COMPANIES, params).get("result") or []):
                row = answer_strings(item)
                found[row.get(EXTERNAL_ID, "")] = row
        return found

    def link(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        last = {r.key: r for r in records}
        answers: dict[str, RecordResult] = {}
        for batch in chunks(list(last.values()), self.__size):
            inputs = [{"email": r.id_value, EXTERNAL_ID: _link(r)} for r in batch]
            body = {"action": "updateOnly", "lookupField": "email", "input": inputs}
            for record, item in zip(
                batch, _items(self.__post(LEADS, body), len(batch)), strict=True
            ):
                answers[record.key] = _link_result(record, item)
        return [answers[r.key] for r in records]


def _link(record: VendorRecord) -> str | None:
    value = record.properties.get(COMPANY_LINK)
    return None if value is None else str(value)


def _link_result(record: VendorRecord, item: Json) -> RecordResult:
    if item.get("status") in ("updated", "created"):
        return RecordResult(record.key, RecordOutcome.OK, platform_id=str(item.get("id")))
    code, message = _reason(item)
    if code == "1013":
        return RecordResult(
            record.key, RecordOutcome.RETRY, error_code=COMPANY_NOT_FOUND, error_message=message
        )
    if code == "1004":
        return RecordResult(
            record.key, RecordOutcome.INVALID, error_code="CONTACT_NOT_FOUND", error_message=message
        )
    return RecordResult(record.key, RecordOutcome.INVALID, error_code=code, error_message=message)


def _for(record: VendorRecord, found: RecordResult) -> RecordResult:
    return RecordResult(
        record.key,
        found.outcome,
        found.platform_id,
        found.created,
        found.error_code,
        found.error_message,
    )
