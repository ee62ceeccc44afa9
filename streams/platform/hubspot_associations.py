"""HubSpot contact → company associations (v4), for ``HubSpotAdapter``.

A ``contact_company`` record names a contact (``id_value``: its email) and its company
(``COMPANY_LINK``: the company's source id, None to detach). For a batch: the contact ids (by
email) and company ids (``HubSpotCompanies.company_ids``), the contacts' current company
associations (``batch/read``), then ``batch/archive`` of the unwanted ones and
``batch/associate/default`` (type 279) of the wanted one (reference §6). A company that does not
exist yet answers ``RETRY`` ``COMPANY_NOT_FOUND`` (the sync keeps the association pending); a
contact that does not exist is ``INVALID`` ``CONTACT_NOT_FOUND``.

Doing less: what this process learnt is not read again. Contact ids come from the contacts'
own upserts (``remember_contacts``); a contact the upsert answered ``new`` has no association
yet, so its first association skips the association read. Both memories are bounded LRUs; an
error answer from associate drops the batch's remembered ids (the retry reads them), and an
archived contact is forgotten. HubSpot's portal setting that associates new contacts with a
company by email domain acts after creation: a portal synced by cdcbridge should turn it off
(the sync owns the contact's company).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

from cachetools import LRUCache

from streams.contracts import (
    COMPANY_LINK,
    COMPANY_NOT_FOUND,
    RecordOutcome,
    RecordResult,
    TransientPlatformError,
    VendorRecord,
)
from streams.platform.hubspot_companies import KNOWN_IDS, Call, HubSpotCompanies, Json, expect_json
from streams.platform.records import chunks, lookup_key

CONTACTS = "/crm/v3/objects/contacts"
ASSOCIATIONS = "/crm/v4/associations/contacts/companies"


class HubSpotAssociations:
    """Associations through ``call``; ``batch_size`` ≤ 100 (HubSpot's limit)."""

    def __init__(self, call: Call, batch_size: int, companies: HubSpotCompanies) -> None:
        self.__call = call
        self.__size = batch_size
        self.__companies = companies
        self.__contacts: LRUCache[str, str] = LRUCache(KNOWN_IDS)  # lookup key → contact id
        self.__unassociated: LRUCache[str, bool] = LRUCache(KNOWN_IDS)  # contact ids

    def remember_contacts(
        self, records: Sequence[VendorRecord], results: Sequence[RecordResult]
    ) -> None:
        """Learn contact ids from a contacts upsert's results (paired with its records)."""
        for record, result in zip(records, results, strict=True):
            if result.outcome is RecordOutcome.OK and result.platform_id:
                self.__contacts[lookup_key(record.id_value)] = result.platform_id
                if result.created:
                    self.__unassociated[result.platform_id] = True

    def forget_contacts(self, emails: Iterable[str]) -> None:
        """Drop remembered contacts (archived, or shown stale by an answer)."""
        for email in emails:
            contact = self.__contacts.pop(lookup_key(email), None)
            if contact is not None:
                self.__unassociated.pop(contact, None)

    def associate(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        """One result per record (last record per key wins). Raises
        ``TransientPlatformError`` (nothing remembered from this batch is trusted again)."""
        last = {r.key: r for r in records}
        links = [r.properties.get(COMPANY_LINK) for r in last.values()]
        wanted = [str(link) for link in links if link is not None]
        try:
            contacts = self.__contact_ids([r.id_value for r in last.values()])
            companies = self.__companies.company_ids(wanted) if wanted else {}
            results, targets = self.__plan(list(last.values()), contacts, companies)
            self.__apply(targets)
        except TransientPlatformError:
            self.forget_contacts(r.id_value for r in last.values())
            self.__companies.forget(wanted)
            raise
        return [results[r.key] for r in records]

    @staticmethod
    def __plan(
        records: Sequence[VendorRecord], contacts: Mapping[str, str], companies: Mapping[str, str]
    ) -> tuple[dict[str, RecordResult], dict[str, str | None]]:
        """Each record's result, and contact id → wanted company record id (None: none)."""
        results: dict[str, RecordResult] = {}
        targets: dict[str, str | None] = {}
        for record in records:
            contact = contacts.get(lookup_key(record.id_value))
            link = record.properties.get(COMPANY_LINK)
            company = companies.get(str(link)) if link is not None else None
            if contact is None:
                results[record.key] = RecordResult(
                    record.key, RecordOutcome.INVALID, error_code="CONTACT_NOT_FOUND",
                    error_message="no contact with this email to associate",
                )  # fmt: skip
            elif link is not None and company is None:
                results[record.key] = RecordResult(
                    record.key, RecordOutcome.RETRY, error_code=COMPANY_NOT_FOUND,
                    error_message=f"company {link} does not exist on HubSpot yet",
                )  # fmt: skip
            else:
                targets[contact] = company
                results[record.key] = RecordResult(record.key, RecordOutcome.OK, contact)
        return results, targets

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
            body = {"inputs": list(batch)}
            expect_json(self.__call("POST", f"{ASSOCIATIONS}/batch/archive", body),
                        "association archive", (200, 204))  # fmt: skip
        for batch in chunks(create, self.__size):
            body = {"inputs": list(batch)}
            doc = expect_json(
                self.__call("POST", f"{ASSOCIATIONS}/batch/associate/default", body), "associate"
            )
            if doc.get("errors"):  # both records were just read or written: one vanished
                raise TransientPlatformError(
                    f"associate answered errors: {str(doc['errors'])[:300]}"
                )

    def __current(self, contact_ids: Sequence[str]) -> dict[str, set[str]]:
        """Contact id → its company record ids: none for a contact created by our own upsert
        and not associated since (no read), read for the others."""
        found: dict[str, set[str]] = {}
        unread = []
        for contact in contact_ids:
            if self.__unassociated.pop(contact, False):
                found[contact] = set()
            else:
                unread.append(contact)
        for batch in chunks(unread, self.__size):
            body = {"inputs": [{"id": i} for i in batch]}
            doc = expect_json(self.__call("POST", f"{ASSOCIATIONS}/batch/read", body),
                              "association read")  # fmt: skip
            for item in cast(list[Json], doc.get("results", [])):
                source = str(cast(Json, item["from"])["id"])
                found[source] = {
                    str(cast(Json, t)["toObjectId"]) for t in cast(list[object], item.get("to", []))
                }
        return found

    def __contact_ids(self, emails: Sequence[str]) -> dict[str, str]:
        """Lookup key → contact id: remembered ones, the rest read by email."""
        unique = {lookup_key(e) for e in emails}
        found = {e: self.__contacts[e] for e in unique if e in self.__contacts}
        for batch in chunks(sorted(unique - set(found)), self.__size):
            body = {
                "idProperty": "email",
                "inputs": [{"id": e} for e in batch],
                "properties": ["email"],
            }
            doc = expect_json(self.__call("POST", f"{CONTACTS}/batch/read", body), "contact read")
            for item in cast(list[Json], doc.get("results", [])):
                email = lookup_key(str(cast(Json, item.get("properties") or {}).get("email", "")))
                found[email] = self.__contacts[email] = str(item["id"])
        return found
