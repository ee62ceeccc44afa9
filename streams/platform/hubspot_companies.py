"""HubSpot companies, for ``HubSpotAdapter`` (associations: ``hubspot_associations``).

Companies (reference §6): ``POST /crm/v3/objects/companies/batch/upsert`` with ``idProperty`` =
a unique company property (``cdcbridge_company_id``, created by ``cdcbridge platform setup``;
``domain`` is not unique), ≤100 inputs, string values; 200 or 207 with ``errors[]`` naming
inputs in ``context.ids``. Deletes archive (``batch/read`` by the unique property for the
record ids, then ``batch/archive``; HubSpot removes the company's associations with it).

Record ids learnt from upserts (and reads) are kept in a bounded LRU (``KNOWN_IDS`` entries) so
an association to a company this process wrote costs no read; an archive always reads (a stale
id there would archive nothing), and ``forget`` drops ids an answer showed stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import cast

import requests
from cachetools import LRUCache

from streams.contracts import (
    RecordOutcome,
    RecordResult,
    TransientPlatformError,
    VendorRecord,
)
from streams.platform.exchange import json_body
from streams.platform.records import answer_strings, as_vendor_string, chunks

COMPANIES = "/crm/v3/objects/companies"
COMPANY_ID_PROPERTY = "cdcbridge_company_id"
KNOWN_IDS = 100_000  # record ids remembered per kind (≈ 10 MB at most)
Call = Callable[[str, str, object], requests.Response]
"""(method, full path, JSON body) → the answer, through auth, limits and the vendor policy."""
Json = Mapping[str, object]


def expect_json(
    response: requests.Response, what: str, codes: tuple[int, ...] = (200, 207)
) -> Json:
    """The answer's JSON when its status is one of ``codes`` (204: empty). Raises
    ``TransientPlatformError`` otherwise."""
    if response.status_code not in codes:
        raise TransientPlatformError(f"{what} answered HTTP {response.status_code}")
    return json_body(response) if response.status_code != 204 else {}


class HubSpotCompanies:
    """Companies through ``call``; ``batch_size`` ≤ 100 (HubSpot's limit)."""

    def __init__(self, call: Call, batch_size: int, id_property: str = COMPANY_ID_PROPERTY) -> None:
        self.__call = call
        self.__size = batch_size
        self.__id_property = id_property
        self.__known: LRUCache[str, str] = LRUCache(KNOWN_IDS)  # source id → record id

    def upsert(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        last = {r.id_value: r for r in records}  # last write wins per company
        answers: dict[str, RecordResult] = {}
        for batch in chunks(list(last.values()), self.__size):
            inputs = [self.__input(r) for r in batch]
            doc = expect_json(
                self.__call("POST", f"{COMPANIES}/batch/upsert", {"inputs": inputs}), "upsert"
            )
            answers.update(self.__parse(doc, batch))
        for source_id, answer in answers.items():
            if answer.outcome is RecordOutcome.OK and answer.platform_id:
                self.__known[source_id] = answer.platform_id
        return [self.__result(r, answers) for r in records]

    def archive(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        ids = self.__read_ids([r.id_value for r in records])  # never a remembered id
        for batch in chunks(sorted(set(ids.values())), self.__size):
            body = {"inputs": [{"id": i} for i in batch]}
            expect_json(
                self.__call("POST", f"{COMPANIES}/batch/archive", body), "archive", (200, 204)
            )
        self.forget(r.id_value for r in records)
        return [
            RecordResult(r.key, RecordOutcome.OK, platform_id=ids.get(r.id_value)) for r in records
        ]

    def forget(self, source_ids: Iterable[str]) -> None:
        """Drop remembered record ids (an archive, or an answer that showed them stale)."""
        for source_id in source_ids:
            self.__known.pop(source_id, None)

    def company_ids(self, source_ids: Sequence[str]) -> dict[str, str]:
        """Company source id → HubSpot record id, for the companies that exist: remembered
        ones from memory, the rest read (``batch/read``) and remembered. Raises
        ``TransientPlatformError``."""
        found = {i: self.__known[i] for i in set(source_ids) if i in self.__known}
        read = self.__read_ids(set(source_ids) - set(found))
        self.__known.update(read)
        return found | read

    def read_values(
        self, source_ids: Iterable[str], properties: Sequence[str]
    ) -> dict[str, dict[str, str]]:
        """Source id → the ``properties`` (as HubSpot's strings, ``hs_object_id`` included) of
        the companies HubSpot has now (``batch/read`` by the unique property; missing ones
        absent). Touches no remembered id. Raises ``TransientPlatformError``."""
        wanted = list(dict.fromkeys([self.__id_property, *properties]))
        found: dict[str, dict[str, str]] = {}
        for batch in chunks(sorted(set(source_ids)), self.__size):
            body = {
                "idProperty": self.__id_property,
                "inputs": [{"id": i} for i in batch],
                "properties": wanted,
            }
            doc = expect_json(self.__call("POST", f"{COMPANIES}/batch/read", body), "company read")
            for item in cast(list[Json], doc.get("results", [])):
                raw = cast(Json, item.get("properties") or {})
                props = answer_strings(raw)
                props.setdefault("hs_object_id", str(item["id"]))
                found[props.get(self.__id_property, "")] = props
        return found

    def __read_ids(self, source_ids: Iterable[str]) -> dict[str, str]:
        """Source id → record id of the companies HubSpot has now (``batch/read``)."""
        return {k: v["hs_object_id"] for k, v in self.read_values(source_ids, []).items()}

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
