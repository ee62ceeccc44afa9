"""Per-key coalescing and batch planning. Pure: no threads, no I/O, time passed in.

A customer's waiting changes collapse into one ``PendingChange``: the newest state wins,
fields a later change left out (Debezium's TOAST placeholder) keep their earlier value, a
delete replaces everything before it, and a change after a delete starts afresh. A key whose
batch is in flight is held back until that batch completes, so one customer's changes reach
the platform in source order while different customers go in parallel batches.

Many tables share one coalescer: a key is (table, source id), so customer 7 and subscription 7
never fold together, and a batch holds the changes of ONE table (hence one vendor object kind,
``VendorRecord.object_type``, per adapter call) and one kind (upsert or delete).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import msgspec

from streams.contracts import (
    CustomerChange,
    CustomerDelete,
    CustomerUpsert,
    KafkaPosition,
    VendorRecord,
)


@dataclass(frozen=True)
class SourceRecord:
    """One consumed Kafka record, kept until it is confirmed or dead-lettered."""

    position: KafkaPosition
    key: bytes | None
    value: bytes | None
    trace_id: str
    ts_ms: int | None = None
    table: str = ""
    """The mapped table the record is a change of ("" when not known: not decodable)."""


CoalesceKey = tuple[str, str]
"""(source table, source id): the unit of ordering and coalescing."""


def key_of(change: CustomerChange) -> CoalesceKey:
    return (change.meta.source_table, change.source_id)


class BatchKind(enum.Enum):
    UPSERT = "upsert"
    DELETE = "delete"


@dataclass
class PendingChange:
    """The coalesced change of one customer and every source record folded into it.
    ``vendor``: the vendor record of ``change`` when it is an upsert whose record was built as
    it came in (kept so that it is built once), else ``None`` (built when the batch goes)."""

    key: CoalesceKey
    change: CustomerChange
    records: list[SourceRecord]
    first_seen: float
    vendor: VendorRecord | None = None
    kind: BatchKind = field(init=False)

    def __post_init__(self) -> None:
        self.kind = kind_of(self.change)

    @property
    def trace_id(self) -> str:
        return self.records[-1].trace_id

    @property
    def table(self) -> str:
        return self.key[0]


def kind_of(change: CustomerChange) -> BatchKind:
    return BatchKind.DELETE if isinstance(change, CustomerDelete) else BatchKind.UPSERT


def merge(older: CustomerChange, newer: CustomerChange) -> CustomerChange:
    """The one change equivalent to applying ``older`` then ``newer``."""
    if isinstance(newer, CustomerDelete):
        if newer.email is None and isinstance(older, CustomerUpsert):
            email = older.fields.get("email")
            return msgspec.structs.replace(newer, email=email if isinstance(email, str) else None)
        return newer
    if isinstance(older, CustomerDelete):
        return newer
    return CustomerUpsert(
        source_id=newer.source_id,
        fields={**older.fields, **newer.fields},
        meta=newer.meta,
        previous_email=older.previous_email or newer.previous_email,
        linked_before=older.linked_before or newer.linked_before,
    )


def merge_vendor(
    older: VendorRecord | None, newer: VendorRecord | None, merged: CustomerChange
) -> VendorRecord | None:
    """The vendor record of ``merged`` from the records of the two changes merged into it:
    each property comes from one canonical field, so the newer change's properties win and
    the older's stay where the newer left a field out (as ``merge`` does with the fields).
    Everything else (key, id value, trace id, object type) is the newer record's."""
    if not isinstance(merged, CustomerUpsert) or older is None or newer is None:
        return None  # (built from ``merged`` when the batch goes)
    return replace(
        newer,
        properties={**older.properties, **newer.properties},
        previous_id_value=older.previous_id_value or newer.previous_id_value,
    )


class Coalescer:
    """Waiting changes per key, in first-seen order, plus the keys whose batch is in flight."""

    def __init__(self) -> None:
        self.__pending: dict[CoalesceKey, PendingChange] = {}
        self.__in_flight: set[CoalesceKey] = set()

    def __len__(self) -> int:
        return len(self.__pending)

    @property
    def in_flight_keys(self) -> frozenset[CoalesceKey]:
        return frozenset(self.__in_flight)

    def add(
        self,
        change: CustomerChange,
        record: SourceRecord,
        now: float,
        vendor: VendorRecord | None = None,
    ) -> None:
        """Fold ``change`` (and ``vendor``, its vendor record when built) into its key's entry."""
        key = key_of(change)
        entry = self.__pending.get(key)
        if entry is None:
            self.__pending[key] = PendingChange(key, change, [record], now, vendor)
            return
        merged = merge(entry.change, change)
        if isinstance(entry.change, CustomerDelete):  # a change after a delete starts afresh
            entry.vendor = vendor if isinstance(merged, CustomerUpsert) else None
        else:
            entry.vendor = merge_vendor(entry.vendor, vendor, merged)
        entry.change = merged
        entry.kind = kind_of(entry.change)
        entry.records.append(record)

    def take_batch(
        self,
        max_size: int,
        now: float,
        linger_s: float,
        force: bool = False,
        allow_partial: bool = True,
    ) -> list[PendingChange] | None:
        """The next batch to send, or None when nothing should go yet.

        A batch goes when ``max_size`` eligible changes of one kind and table wait, or, if
        ``allow_partial``, when the oldest eligible change waited ``linger_s``; ``force``
        (drain) sends whatever waits. Its keys become in flight until ``complete``.
        """
        batch: list[PendingChange] = []
        for entry in self.__pending.values():
            if entry.key in self.__in_flight:
                continue
            if batch and (entry.kind is not batch[0].kind or entry.key[0] != batch[0].key[0]):
                continue
            batch.append(entry)
            if len(batch) >= max_size:
                break
        if not batch:
            return None
        waiting = not allow_partial or now - batch[0].first_seen < linger_s
        if len(batch) < max_size and not force and waiting:
            return None
        for entry in batch:
            del self.__pending[entry.key]
            self.__in_flight.add(entry.key)
        return batch

    def absorb(self, entry: PendingChange) -> int:
        """Fold the changes of ``entry``'s key that arrived while its batch was in flight into
        ``entry`` itself (before a retry of that batch: one call then carries the newest state,
        so a key changed many times during an outage is sent once). Only when the merged change
        keeps the batch's kind. Returns the number of source records absorbed (0: none)."""
        newer = self.__pending.get(entry.key)
        if newer is None or entry.key not in self.__in_flight:
            return 0
        merged = merge(entry.change, newer.change)
        if kind_of(merged) is not entry.kind:
            return 0
        del self.__pending[entry.key]
        if isinstance(entry.change, CustomerDelete) or isinstance(newer.change, CustomerDelete):
            entry.vendor = newer.vendor if isinstance(merged, CustomerUpsert) else None
        else:
            entry.vendor = merge_vendor(entry.vendor, newer.vendor, merged)
        entry.change = merged
        entry.records.extend(newer.records)
        return len(newer.records)

    def next_due(self, linger_s: float) -> float | None:
        """When the oldest eligible change's linger ends (None when nothing is eligible)."""
        for entry in self.__pending.values():
            if entry.key not in self.__in_flight:
                return entry.first_seen + linger_s
        return None

    def complete(self, keys: Sequence[CoalesceKey]) -> None:
        """The batch holding these keys finished (confirmed, dead-lettered or abandoned)."""
        self.__in_flight.difference_update(keys)
