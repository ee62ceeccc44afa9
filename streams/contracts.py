"""The typed contracts of the outbound path, shared by decoding/mapping, the platform layer and
the sync service. Nothing here does I/O.

Flow: Kafka record -> ``decode_change`` -> ``CustomerUpsert | CustomerDelete | Skip``
-> ``VendorRecordBuilder`` -> ``VendorRecord`` -> coalesce per ``source_id``
-> ``PlatformAdapter.upsert_batch`` -> ``RecordResult`` per record -> commit offsets.

Failure classes (one vocabulary, see DESIGN.md):
- ``InvalidRecord`` / ``RecordOutcome.INVALID``: can never succeed; dead-letter with the reason.
- ``TransientPlatformError``: may succeed later; retry with backoff, pause partitions meanwhile.
- ``FatalPlatformError``: configuration error or exhausted daily quota; stop loudly.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from cdcbridge.errors import FatalError, InvalidError, TransientError

JsonScalar = str | int | float | bool | None
PropertyValue = str | int | float | bool | None


# The change types below are built once per Kafka record on the decoding hot path, so they are
# frozen msgspec Structs (C-level construction, ~6x cheaper than frozen dataclasses; see
# bench/bench_mapping.py). Use ``msgspec.structs.replace`` to derive a changed copy.


class SyncMeta(msgspec.Struct, frozen=True):
    """Where a change came from. ``trace_id`` is stable across replays (see mapping)."""

    source_table: str
    ts_ms: int
    trace_id: str
    lsn: int | None = None


class CustomerUpsert(msgspec.Struct, frozen=True):
    """A created/updated/snapshotted row of a mapped table (customers, and any other table with
    a mapping file: ``meta.source_table`` names it), in canonical field names.

    ``fields`` holds only the fields this change sets; a field left out (e.g. Debezium's TOAST
    placeholder) means "unchanged" and must not be written. ``previous_email`` is set when the
    change moved the customer to a new email (same ``source_id``). ``linked_before``: the row
    may have had a company (``COMPANY_LINK``) before this change (Debezium's ``before`` image said
    so, or there was none to tell: an update without REPLICA IDENTITY FULL); False for an insert,
    a snapshot read or a before image without one, so a customer never linked costs no
    association call.
    """

    source_id: str
    fields: Mapping[str, object]
    meta: SyncMeta
    previous_email: str | None = None
    linked_before: bool = False


class CustomerDelete(msgspec.Struct, frozen=True):
    """The customer row was deleted: an archival/deletion intent, never an empty contact."""

    source_id: str
    email: str | None
    meta: SyncMeta


class Skip(msgspec.Struct, frozen=True):
    """A record that carries no customer change (tombstone, heartbeat, other table)."""

    reason: str


CustomerChange = CustomerUpsert | CustomerDelete
RowUpsert = CustomerUpsert
RowDelete = CustomerDelete
RowChange = CustomerChange
"""The same types under table-neutral names: a change of any mapped table carries its table
in ``meta.source_table``; sync coalesces by (table, ``source_id``)."""
Decode = Callable[[str, bytes | None, bytes | None, str | None], CustomerChange | Skip]
"""The decoder's shape (``streams.mapping.decode_change``): (topic, key, value, trace id from
the record's ``trace_id`` header or ``None``) -> change or ``Skip``; raises ``InvalidRecord``.
The change carries the header's trace id, else one the decoder derives from the source, once;
every wrapper of a decoder passes the trace id on."""


QUOTE_LIMIT = 120
"""Error messages quote at most this many characters of a bad value (a 9,000-character name
must not make a 9 KB log line)."""
MESSAGE_LIMIT = 4 * QUOTE_LIMIT


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters; a cut one ends with ``…`` and its length."""
    if isinstance(value, str | bytes) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value)} {'chars' if isinstance(value, str) else 'bytes'})"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars as text)"


def preview(value: object, limit: int = QUOTE_LIMIT) -> object:
    """``value`` itself when short (bytes as UTF-8 text), else a bounded text of it (for error
    documents)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return f"{value[:limit]}… ({len(value)} chars)"
    if value is None or (isinstance(value, bool | int | float) and len(repr(value)) <= limit):
        return value
    return quote(value, limit)


class InvalidRecord(InvalidError):
    """A change that can never be mapped. Names the field, the rule and the offending value
    (``value`` is kept whole; messages quote a bounded prefix of it, see ``quote``)."""

    def __init__(self, field: str, rule: str, value: object, message: str = "") -> None:
        self.field = field
        self.rule = rule
        self.value = value
        text = message or f"{field}: {rule} (value {quote(value)})"
        if len(text) > MESSAGE_LIMIT:  # e.g. a schema validator's message quoting the value
            text = f"{text[:MESSAGE_LIMIT]}… ({len(text)} chars)"
        super().__init__(text)


@dataclass(frozen=True)
class VendorRecord:
    """One record as the vendor wants it.

    ``key`` is our stable source id (correlates results); ``id_value`` is the value of the
    platform's unique lookup property (email); ``previous_id_value`` is the old email on an
    email change so the adapter updates the existing contact instead of creating another.
    ``key`` is unique within one batch (a batch holds the changes of one table).

    ``object_type`` names the platform object kind: ``contacts`` (the default), ``companies``
    (``key`` and ``id_value`` are the company's source id) or ``contact_company`` (a contact's
    company association: ``key`` is the customer's source id, ``id_value`` the contact's email,
    ``properties[COMPANY_LINK]`` the company's source id or None to detach). One adapter call
    carries records of one object type; adapters dispatch on it.
    """

    key: str
    id_value: str
    properties: Mapping[str, PropertyValue]
    trace_id: str = ""
    previous_id_value: str | None = None
    object_type: str = "contacts"
    """The vendor object kind this record writes (``contacts``, ``companies``, ...): the
    table mapping's ``target.object_type``. One adapter call carries one kind."""


CONTACTS = "contacts"
COMPANIES = "companies"
CONTACT_COMPANY = "contact_company"
COMPANY_LINK = "company_id"
"""The ``properties`` key of a ``contact_company`` record: the company's source id."""
COMPANY_NOT_FOUND = "COMPANY_NOT_FOUND"
"""``RecordResult.error_code`` of a ``contact_company`` record whose company does not exist on
the platform yet (outcome ``RETRY``: the sync keeps the association pending)."""


class DeleteMechanism(enum.Enum):
    """How a vendor carries out a source delete (chosen by ``streams.platform.deletes``).

    ``ARCHIVE``: HubSpot ``batch/archive`` (restorable by HubSpot for 90 days).
    ``FIELD_UPDATE``: update fields of the contact that exists, never create one (HubSpot
    ``batch/update`` by ``idProperty=email``; Marketo ``updateOnly`` by email).
    ``UNSUBSCRIBE_ALL``: HubSpot communication preferences v4 ``batch/unsubscribe-all``.
    ``HARD_DELETE``: Marketo ``leads/delete.json`` (permanent; only when asked for by name).
    """

    ARCHIVE = "archive"
    FIELD_UPDATE = "field_update"
    UNSUBSCRIBE_ALL = "unsubscribe_all"
    HARD_DELETE = "hard_delete"


class RecordOutcome(enum.Enum):
    OK = "ok"
    INVALID = "invalid"  # the vendor rejected this record for good: dead-letter it
    RETRY = "retry"  # the vendor could not take it now: send it again later


@dataclass(frozen=True)
class RecordResult:
    key: str
    outcome: RecordOutcome
    platform_id: str | None = None
    created: bool | None = None
    error_code: str | None = None
    error_message: str | None = None


class TransientPlatformError(TransientError):
    """The whole call may succeed later (5xx, timeout, 429, 606/615). ``retry_after`` in s."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestRefused(InvalidError):
    """Invalid class: the vendor refused a whole request because of its input (HubSpot 400,
    404, 409, 422 ...; Marketo 609, 610, 1011 ...) and will refuse it again. Never retried: the
    caller splits the batch to find the records at fault. ``code`` and ``message`` are the
    vendor's answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FatalPlatformError(FatalError):
    """Retrying cannot help: credentials rejected, daily quota exhausted, access denied."""


@dataclass(frozen=True)
class PublishedLimits:
    requests_per_window: int
    window_s: float
    max_batch_size: int
    max_concurrency: int | None = None
    daily_requests: int | None = None


class PlatformAdapter(Protocol):
    """One marketing platform behind one interface.

    ``upsert_batch``/``remove_batch`` take at most ``limits.max_batch_size`` records, all of
    ONE ``object_type`` (the batch planner groups them per table, hence per kind), and return
    one ``RecordResult`` per input record, in input order. They raise
    ``TransientPlatformError`` when the whole call failed but may succeed later, and
    ``FatalPlatformError`` when it never will. Partial failures are per-record results, never
    exceptions. Both are idempotent: sending the same records twice leaves the same state.
    """

    name: str
    limits: PublishedLimits

    def upsert_batch(self, records: Sequence[VendorRecord]) -> list[RecordResult]: ...

    supported_deletes: frozenset[DeleteMechanism]

    def remove_batch(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        """Carry out deletes by ``mechanism`` (one of ``supported_deletes``). A contact that
        does not exist is OK (nothing to remove). ``FIELD_UPDATE`` writes ``properties``."""
        ...

    def read_batch(
        self, id_values: Sequence[str], object_type: str = CONTACTS
    ) -> dict[str, dict[str, str]]:
        """Current properties of the objects with these lookup values, keyed by the value asked
        for (missing ones absent): contacts by email (the default), ``companies`` by the
        company's source id. Raises ``TransientPlatformError``."""
        ...


@dataclass(frozen=True)
class KafkaPosition:
    """Where a consumed record sits; ``timestamp_ms``: its Kafka timestamp (the producer's
    create time for the CDC topic), when the consumer reported one."""

    topic: str
    partition: int
    offset: int
    headers: Mapping[str, bytes] = field(default_factory=dict)
    timestamp_ms: int | None = None
