"""Marketo (Adobe Marketo Engage) leads behind ``PlatformAdapter``.

Upsert: ``POST /rest/v1/leads.json`` ``{"action": "createOrUpdate", "lookupField": "email",
"input": [...]}`` (≤300). Errors come inside HTTP 200 bodies (``success: false``, ``errors[]``,
decided by ``retry_policy.marketo_error``); per-record ``result[i]`` (input order) is
``created|updated|skipped`` with ``reasons[]``. An email change reads both emails
(``GET /rest/v1/leads.json?filterType=email``) and updates the old lead by id
(``updateOnly``/``lookupField=id``) unless the new email exists; a 1005 "already exists" or 1004
"not found" falls back to ``createOrUpdate`` by email. Deletes (``remove_batch``; Marketo has
no archive): a field update is ``updateOnly`` by email (never creates; 1004 means nothing to
mark); ``leads/delete.json`` (permanent) only for the explicit ``hard_delete`` policy.
A request refused for its input (609, 610, 1011 ...: ``vendor_codes``) is split until the
records at fault are isolated (``refusals``); a 602 in an HTTP 200 is counted under its code,
not as a success.
Records of ``object_type`` ``companies`` and ``contact_company`` (one type per call) go to
``marketo_companies``.
Batches sharing an email are never in flight together (``KeyLocks``): Marketo may create
duplicates from concurrent upserts of one key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import cast

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
from streams.platform.key_locks import KeyLocks
from streams.platform.marketo_companies import MarketoCompanies
from streams.platform.ratelimit import RateLimiter
from streams.platform.records import (
    answer_strings,
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
    marketo_error,
)

LEADS = "/rest/v1/leads.json"
DELETE = "/rest/v1/leads/delete.json"
MARKETO_LIMITS = PublishedLimits(100, 20.0, 300, max_concurrency=10, daily_requests=50_000)
DEFAULT_READ_FIELDS = ("id", "email", "firstName", "lastName", "phone", "company")
LEAD_NOT_FOUND = "1004"
# not found / already exists: retry as an upsert
_FALLBACK_REASONS = frozenset({LEAD_NOT_FOUND, "1005"})
Json = Mapping[str, object]


def _skipped_result(record: VendorRecord, item: Json) -> RecordResult:
    reasons = cast(list[Json], item.get("reasons") or [{}])
    code = str(reasons[0].get("code", ""))
    message = str(reasons[0].get("message", ""))
    return RecordResult(record.key, RecordOutcome.INVALID, error_code=code, error_message=message)


class MarketoAdapter:
    """Marketo leads. See ``PlatformAdapter`` for what each method returns and raises."""

    name = "marketo"

    def __init__(
        self,
        exchange: Exchange,
        auth: TokenProvider,
        limiter: RateLimiter,
        limits: PublishedLimits = MARKETO_LIMITS,
        *,
        clock: Clock,
        metrics: Metrics,
        read_fields: Sequence[str] = DEFAULT_READ_FIELDS,
        policy: PolicyLimits = DEFAULT_POLICY,
    ) -> None:
        self.limits = limits
        self.__exchange = exchange
        self.__auth = auth
        self.__limiter = self.limiter = limiter
        self.__clock = clock
        self.__metrics = metrics
        self.__read_fields = list(read_fields)
        self.__policy = policy
        self.__key_locks = KeyLocks()
        self.__companies = MarketoCompanies(
            lambda path, body: self.__call("POST", path, body=body),
            lambda path, params: self.__call("GET", path, params=params),
            limits.max_batch_size,
        )

    classify = staticmethod(classify)

    def upsert_batch(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        kind = object_type_of(records)
        if kind == COMPANIES:
            call = self.__companies.upsert
        elif kind == CONTACT_COMPANY:
            call = self.__companies.link
        else:
            call = self.__locked_upsert
        return isolate_refused(records, call, self.__metrics, self.name)

    supported_deletes = frozenset({DeleteMechanism.FIELD_UPDATE, DeleteMechanism.HARD_DELETE})

    def remove_batch(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        if object_type_of(records) == COMPANIES:
            if mechanism is not DeleteMechanism.HARD_DELETE:
                raise FatalPlatformError(f"Marketo companies are deleted, not {mechanism.value}")
            return isolate_refused(records, self.__companies.delete, self.__metrics, self.name)
        return isolate_refused(
            records, partial(self.__locked_remove, mechanism=mechanism), self.__metrics, self.name
        )

    def __locked_upsert(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        unique = collapse_duplicates(records)
        keys = [lookup_key(v) for r in unique for v in (r.id_value, r.previous_id_value) if v]
        with self.__key_locks.holding(keys):
            return self.__upsert(records, unique)

    def __upsert(
        self, records: Sequence[VendorRecord], unique: list[VendorRecord]
    ) -> list[RecordResult]:
        plain = [r for r in unique if not self.__is_move(r)]
        moves = [r for r in unique if self.__is_move(r)]
        by_lookup: dict[str, RecordResult] = {}
        if moves:
            existing = self.__lead_ids(
                [v for r in moves for v in (r.previous_id_value, r.id_value)]
            )
            updates: list[tuple[int, VendorRecord]] = []
            for record in moves:
                old_id = existing.get(lookup_key(record.previous_id_value or ""))
                if old_id is not None and lookup_key(record.id_value) not in existing:
                    updates.append((old_id, record))
                else:
                    plain.append(record)
            for batch in chunks(updates, self.limits.max_batch_size):
                inputs = [{**self.__fields(r), "id": lead_id} for lead_id, r in batch]
                results = self.__sync("updateOnly", "id", inputs, [r for _, r in batch])
                for record, result in results:
                    if result.error_code in _FALLBACK_REASONS:
                        plain.append(record)
                    else:
                        by_lookup[lookup_key(record.id_value)] = result
        for batch_records in chunks(plain, self.limits.max_batch_size):
            inputs = [self.__fields(r) for r in batch_records]
            for record, result in self.__sync("createOrUpdate", "email", inputs, batch_records):
                by_lookup[lookup_key(record.id_value)] = result
        self.__metrics.timing("cdcbridge_platform_batch_size_records", float(len(unique)))
        return fan_out(records, by_lookup)

    def __locked_remove(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        unique = collapse_duplicates(records)
        with self.__key_locks.holding([lookup_key(r.id_value) for r in unique]):
            return fan_out(records, self.__remove(unique, mechanism))

    def __remove(
        self, unique: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> dict[str, RecordResult]:
        if mechanism is DeleteMechanism.FIELD_UPDATE:
            by_lookup: dict[str, RecordResult] = {}
            for batch in chunks(unique, self.limits.max_batch_size):
                inputs = [self.__fields(r) for r in batch]
                for record, result in self.__sync("updateOnly", "email", inputs, batch):
                    if result.error_code == LEAD_NOT_FOUND:  # nothing to mark: never create
                        result = RecordResult(record.key, RecordOutcome.OK)
                    by_lookup[lookup_key(record.id_value)] = result
        elif mechanism is DeleteMechanism.HARD_DELETE:
            by_lookup = self.__hard_delete(unique)
        else:
            raise FatalPlatformError(f"Marketo does not offer {mechanism.value}")
        return by_lookup

    def __hard_delete(self, unique: Sequence[VendorRecord]) -> dict[str, RecordResult]:
        """``leads/delete.json``: permanent. Only the ``hard_delete`` policy gets here."""
        existing = self.__lead_ids([r.id_value for r in unique])
        ids = sorted(set(existing.values()))
        for batch in chunks(ids, self.limits.max_batch_size):
            self.__call("POST", DELETE, body={"input": [{"id": i} for i in batch]})
        return {
            lookup_key(r.id_value): RecordResult(
                r.key,
                RecordOutcome.OK,
                platform_id=_str_or_none(existing.get(lookup_key(r.id_value))),
            )
            for r in unique
        }

    def read_batch(
        self, id_values: Sequence[str], object_type: str = CONTACT_OBJECTS
    ) -> dict[str, dict[str, str]]:
        if object_type == COMPANIES:
            return self.__companies.read_values(id_values, self.__read_fields)
        wanted = {lookup_key(v): v for v in id_values if v}
        found: dict[str, dict[str, str]] = {}
        for lead in self.__read(list(wanted), self.__read_fields):
            original = wanted.get(lookup_key(str(lead.get("email") or "")))
            if original is not None:
                found[original] = answer_strings(lead)
        return found

    @staticmethod
    def __is_move(record: VendorRecord) -> bool:
        previous = record.previous_id_value
        return bool(previous) and lookup_key(previous or "") != lookup_key(record.id_value)

    @staticmethod
    def __fields(record: VendorRecord) -> dict[str, object]:
        return {**record.properties, "email": record.id_value}

    def __lead_ids(self, emails: Sequence[str | None]) -> dict[str, int]:
        unique = sorted({lookup_key(e) for e in emails if e})
        return {
            lookup_key(str(lead["email"])): int(cast(int, lead["id"]))
            for lead in self.__read(unique, ["id", "email"])
        }

    def __read(self, emails: Sequence[str], fields: Sequence[str]) -> list[Json]:
        leads: list[Json] = []
        for batch in chunks(emails, self.limits.max_batch_size):
            params = {
                "filterType": "email",
                "filterValues": ",".join(batch),
                "fields": ",".join(fields),
            }
            doc = self.__call("GET", LEADS, params=params)
            leads.extend(cast(list[Json], doc.get("result") or []))
        return leads

    def __sync(
        self,
        action: str,
        lookup: str,
        inputs: list[dict[str, object]],
        records: Sequence[VendorRecord],
    ) -> list[tuple[VendorRecord, RecordResult]]:
        body = {"action": action, "lookupField": lookup, "input": inputs}
        doc = self.__call("POST", LEADS, body=body)
        items = cast(list[Json], doc.get("result") or [])
        if len(items) != len(records):
            raise TransientPlatformError(
                f"Marketo returned {len(items)} results for {len(records)} records"
            )
        out = []
        for record, item in zip(records, items, strict=True):
            status = str(item.get("status", ""))
            if status in ("created", "updated"):
                result = RecordResult(
                    record.key,
                    RecordOutcome.OK,
                    platform_id=_str_or_none(item.get("id")),
                    created=status == "created",
                )
            else:
                result = _skipped_result(record, item)
            out.append((record, result))
        return out

    def __call(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: Mapping[str, str] | None = None,
    ) -> Json:
        def send(token: str) -> Json:
            started = self.__clock.monotonic()
            response = self.__exchange.send(
                method, path, token=token, json=body, params=params, observe=False
            )
            status = response.status_code
            if status != 200:
                self.__exchange.observe(path, str(status), started)
                decision = http_error("Marketo", status, response.text[:300])
                if decision is None or status >= 500:  # 5xx: the transport already retried
                    raise TransientPlatformError(f"Marketo answered HTTP {status}")
                raise PolicySignal(decision)
            doc = json_body(response)
            if doc.get("success") is not True:
                errors = cast(list[Json], doc.get("errors") or [{}])
                first = errors[0]
                code = str(first.get("code", ""))
                self.__exchange.observe(path, code or "unknown_error", started)
                raise PolicySignal(
                    marketo_error(code, str(first.get("message", "")), self.limits.window_s)
                )
            self.__exchange.observe(path, "200", started)
            return doc

        return call_with_policy(
            send,
            auth=self.__auth,
            limiter=self.__limiter,
            clock=self.__clock,
            metrics=self.__metrics,
            platform=self.name,
            limits=self.__policy,
        )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)
