"""HubSpot CRM v3 contacts behind ``PlatformAdapter``.

Upsert: ``POST /crm/v3/objects/contacts/batch/upsert`` with ``idProperty=email`` (≤100 inputs,
string values); 200 = all done, 207 = per-item ``errors`` (each names its inputs in
``context.ids``). An email change (``previous_id_value``) reads both emails first and updates the
old contact by record id (``batch/update``) unless the new email already exists; a ``CONFLICT``
("Contact already exists") or ``OBJECT_NOT_FOUND`` falls back to an upsert by the new email.
A refused request (400, 404, 405, 409, 410, 422 ...: ``vendor_codes``) is split until the
records at fault are isolated (``refusals``). Deletes (``remove_batch``, mechanisms chosen by
``deletes``): archive reads record ids, then ``batch/archive``; a field update is
``batch/update`` by ``idProperty=email`` (never creates); unsubscribe goes through the
communication-preferences API (``hubspot_consent``). Rate limits, auth and retries:
``retry_policy``. Records of ``object_type`` ``companies`` and ``contact_company`` (one type
per call) go to ``hubspot_companies``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import cast

import requests

from cdcbridge.clock import Clock
from cdcbridge.metrics import Metrics
from streams.contracts import (
    COMPANIES,
    CONTACT_COMPANY,
    DeleteMechanism,
    FatalPlatformError,
    PublishedLimits,
    RecordOutcome,
    RecordResult,
    TransientPlatformError,
    VendorRecord,
)
from streams.contracts import (
    CONTACTS as CONTACT_OBJECTS,
)
from streams.platform.auth import TokenProvider
from streams.platform.exchange import Exchange, json_body
from streams.platform.hubspot_associations import HubSpotAssociations
from streams.platform.hubspot_companies import COMPANY_ID_PROPERTY, HubSpotCompanies
from streams.platform.hubspot_consent import (
    UNSUBSCRIBE_ALL,
    absent_is_done,
    parse_unsubscribe_all,
    unsubscribe_all_body,
)
from streams.platform.hubspot_results import parse_batch, upsert_input
from streams.platform.ratelimit import RateLimiter
from streams.platform.records import (
    chunks,
    collapse_duplicates,
    fan_out,
    lookup_key,
    object_type_of,
)
from streams.platform.refusals import isolate_refused
from streams.platform.retry_policy import (
    DEFAULT_POLICY,
    PolicyLimits,
    PolicySignal,
    call_with_policy,
    classify,
    http_error,
    hubspot_429,
)

CONTACTS = "/crm/v3/objects/contacts"
TIER_LIMITS = {
    "free": 100,
    "starter": 100,
    "professional": 190,
    "enterprise": 190,
    "api_add_on": 250,
}
_FALLBACK_CODES = frozenset({"CONFLICT", "OBJECT_NOT_FOUND"})
DEFAULT_READ_PROPERTIES = ("email", "firstname", "lastname", "phone", "company", "lifecyclestage")


def hubspot_limits(tier: str, batch_size: int = 100) -> PublishedLimits:
    """The published limits of a HubSpot tier (requests per 10 s, per app)."""
    return PublishedLimits(TIER_LIMITS[tier], 10.0, min(batch_size, 100))


class HubSpotAdapter:
    """HubSpot contacts. See ``PlatformAdapter`` for what each method returns and raises."""

    name = "hubspot"

    def __init__(
        self,
        exchange: Exchange,
        auth: TokenProvider,
        limiter: RateLimiter,
        limits: PublishedLimits,
        *,
        clock: Clock,
        metrics: Metrics,
        read_properties: Sequence[str] = DEFAULT_READ_PROPERTIES,
        policy: PolicyLimits = DEFAULT_POLICY,
        company_id_property: str = COMPANY_ID_PROPERTY,
    ) -> None:
        self.limits = limits
        self.__exchange = exchange
        self.__auth = auth
        self.__limiter = self.limiter = limiter
        self.__clock = clock
        self.__metrics = metrics
        self.__read_properties = list(read_properties)
        self.__policy = policy
        self.__companies = HubSpotCompanies(
            lambda method, path, body: self.__call(method, path, body, base=""),
            limits.max_batch_size,
            company_id_property,
        )
        self.__associations = HubSpotAssociations(
            lambda method, path, body: self.__call(method, path, body, base=""),
            limits.max_batch_size,
            self.__companies,
        )

    classify = staticmethod(classify)

    def upsert_batch(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        kind = object_type_of(records)
        if kind == COMPANIES:
            call = self.__companies.upsert
        elif kind == CONTACT_COMPANY:
            call = self.__associations.associate
        else:
            call = self.__upsert
        return isolate_refused(records, call, self.__metrics, self.name)

    supported_deletes = frozenset(
        {DeleteMechanism.ARCHIVE, DeleteMechanism.FIELD_UPDATE, DeleteMechanism.UNSUBSCRIBE_ALL}
    )

    def remove_batch(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        if object_type_of(records) == COMPANIES:
            if mechanism is not DeleteMechanism.ARCHIVE:
                raise FatalPlatformError(f"HubSpot companies are archived, not {mechanism.value}")
            return isolate_refused(records, self.__companies.archive, self.__metrics, self.name)
        return isolate_refused(
            records, partial(self.__remove, mechanism=mechanism), self.__metrics, self.name
        )

    def __upsert(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        unique = collapse_duplicates(records)
        moves = [
            r
            for r in unique
            if r.previous_id_value and lookup_key(r.previous_id_value) != lookup_key(r.id_value)
        ]
        plain = [r for r in unique if r not in moves]
        by_lookup: dict[str, RecordResult] = {}
        if moves:
            wanted = [v for r in moves for v in (r.previous_id_value or "", r.id_value)]
            existing = self.__record_ids(wanted)
            updates: list[tuple[str | None, VendorRecord]] = []
            for record in moves:
                old_id = existing.get(lookup_key(record.previous_id_value or ""))
                if old_id and lookup_key(record.id_value) not in existing:
                    updates.append((old_id, record))
                else:
                    plain.append(record)
            for update_batch in chunks(updates, self.limits.max_batch_size):
                results = self.__write("/batch/update", update_batch)
                for _, record in update_batch:
                    result = results[lookup_key(record.id_value)]
                    if result.error_code in _FALLBACK_CODES:
                        # the new email exists (update that contact) or the old one is gone
                        plain.append(record)
                    else:
                        by_lookup[lookup_key(record.id_value)] = result
        for batch in chunks(plain, self.limits.max_batch_size):
            for lookup, result in self.__write("/batch/upsert", [(None, r) for r in batch]).items():
                if result.error_code == "CONFLICT":  # persistent: never retried for ever
                    result = replace(result, outcome=RecordOutcome.INVALID)
                by_lookup[lookup] = result
        self.__metrics.timing("cdcbridge_platform_batch_size_records", float(len(unique)))
        answers = fan_out(records, by_lookup)
        self.__associations.remember_contacts(records, answers)
        return answers

    def __remove(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        unique = collapse_duplicates(records)
        if mechanism is DeleteMechanism.ARCHIVE:
            self.__associations.forget_contacts(r.id_value for r in unique)
            by_lookup = self.__archive(unique)
        elif mechanism is DeleteMechanism.FIELD_UPDATE:
            by_lookup = {}
            for batch in chunks(unique, self.limits.max_batch_size):
                answers = self.__write("/batch/update", [(None, r) for r in batch])
                by_lookup.update(absent_is_done(batch, answers))
        elif mechanism is DeleteMechanism.UNSUBSCRIBE_ALL:
            by_lookup = {}
            for batch in chunks(unique, self.limits.max_batch_size):
                body = unsubscribe_all_body(batch)
                response = self.__call("POST", UNSUBSCRIBE_ALL, body, base="")
                if response.status_code not in (200, 207):
                    raise TransientPlatformError(
                        f"unsubscribe-all answered HTTP {response.status_code}"
                    )
                by_lookup.update(parse_unsubscribe_all(json_body(response), batch))
        else:
            raise FatalPlatformError(f"HubSpot does not offer {mechanism.value}")
        return fan_out(records, by_lookup)

    def __archive(self, unique: Sequence[VendorRecord]) -> dict[str, RecordResult]:
        existing = self.__record_ids([r.id_value for r in unique])
        ids = sorted(set(existing.values()))
        for batch in chunks(ids, self.limits.max_batch_size):
            body = {"inputs": [{"id": i} for i in batch]}
            response = self.__call("POST", "/batch/archive", body)
            if response.status_code not in (200, 204):
                raise TransientPlatformError(f"archive answered HTTP {response.status_code}")
        return {
            lookup_key(r.id_value): RecordResult(
                r.key, RecordOutcome.OK, platform_id=existing.get(lookup_key(r.id_value))
            )
            for r in unique
        }

    def read_batch(
        self, id_values: Sequence[str], object_type: str = CONTACT_OBJECTS
    ) -> dict[str, dict[str, str]]:
        if object_type == COMPANIES:
            return self.__companies.read_values(id_values, self.__read_properties)
        wanted = {lookup_key(v): v for v in id_values}
        found: dict[str, dict[str, str]] = {}
        for batch in chunks(list(wanted), self.limits.max_batch_size):
            for props in self.__read(batch, self.__read_properties):
                original = wanted.get(lookup_key(props.get("email") or ""))
                if original is not None:
                    found[original] = props
        return found

    def __record_ids(self, emails: Sequence[str]) -> dict[str, str]:
        """Lookup key → HubSpot record id, for the emails that exist."""
        unique = sorted({lookup_key(e) for e in emails if e})
        ids: dict[str, str] = {}
        for batch in chunks(unique, self.limits.max_batch_size):
            for props in self.__read(batch, ["email"]):
                ids[lookup_key(props.get("email") or "")] = props["hs_object_id"]
        return ids

    def __read(self, emails: Sequence[str], properties: list[str]) -> list[dict[str, str]]:
        body = {
            "idProperty": "email",
            "inputs": [{"id": e} for e in emails],
            "properties": properties,
            "propertiesWithHistory": [],
        }
        response = self.__call("POST", "/batch/read", body)
        if response.status_code not in (200, 207):
            raise TransientPlatformError(f"batch read answered HTTP {response.status_code}")
        results = cast(list[dict[str, object]], json_body(response).get("results", []))
        out = []
        for item in results:
            props = {k: str(v) for k, v in cast(dict[str, object], item["properties"]).items()}
            props.setdefault("hs_object_id", str(item["id"]))
            out.append(props)
        return out

    def __write(
        self, path: str, batch: Sequence[tuple[str | None, VendorRecord]]
    ) -> dict[str, RecordResult]:
        """Send one upsert/update batch. Raises ``RequestRefused`` (the caller splits)."""
        body = {"inputs": [upsert_input(record, record_id) for record_id, record in batch]}
        response = self.__call("POST", path, body)
        if response.status_code not in (200, 201, 207):
            raise TransientPlatformError(f"{path} answered HTTP {response.status_code}")
        return parse_batch(json_body(response), batch)

    def __call(
        self, method: str, path: str, body: object, base: str = CONTACTS
    ) -> requests.Response:
        def send(token: str) -> requests.Response:
            response = self.__exchange.send(method, base + path, token=token, json=body)
            self.__observe(response)
            if response.status_code == 429:
                raise PolicySignal(
                    hubspot_429(
                        json_body(response),
                        response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"),
                    )
                )
            if response.status_code >= 500:  # the transport already retried it
                raise TransientPlatformError(f"HubSpot answered HTTP {response.status_code}")
            decision = http_error("HubSpot", response.status_code, _answer(response))
            if decision is not None:
                raise PolicySignal(decision)
            return response

        return call_with_policy(
            send,
            auth=self.__auth,
            limiter=self.__limiter,
            clock=self.__clock,
            metrics=self.__metrics,
            platform=self.name,
            limits=self.__policy,
        )

    def __observe(self, response: requests.Response) -> None:
        headers = response.headers
        maximum = headers.get("X-HubSpot-RateLimit-Max")
        interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        remaining = headers.get("X-HubSpot-RateLimit-Remaining")
        self.__limiter.observe_limit(
            int(maximum) if maximum and maximum.isdigit() else None,
            int(interval) / 1000 if interval and interval.isdigit() else None,
            int(remaining) if remaining and remaining.lstrip("-").isdigit() else None,
        )


def _answer(response: requests.Response) -> str:
    """The vendor's explanation of an error: category and message of its error body."""
    doc = json_body(response)
    if not doc:
        return response.text[:300]
    return f"{doc.get('category', '')} {doc.get('message', '')}".strip()
