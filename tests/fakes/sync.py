"""Fakes for the sync unit tests: a JSON decoder/mapping, an in-memory adapter, a DLQ topic."""

from __future__ import annotations

import json
import random
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from cdcbridge.logs import current_trace_id
from streams.contracts import (
    CustomerChange,
    CustomerDelete,
    CustomerUpsert,
    DeleteMechanism,
    InvalidRecord,
    PublishedLimits,
    RecordOutcome,
    RecordResult,
    Skip,
    SyncMeta,
    VendorRecord,
)
from streams.sync.dlq import DeadLetter, DeliveryCallback

P = ParamSpec("P")
T = TypeVar("T")


def change_bytes(source_id: str, seq: int, **fields: object) -> bytes:
    """A fake CDC value: ``op`` u/d, ``fields`` (a missing field means TOAST-unchanged)."""
    op = fields.pop("op", "u")
    return json.dumps({"id": source_id, "seq": seq, "op": op, "fields": fields}).encode()


def fake_decode(topic: str, key: bytes | None, value: bytes | None) -> CustomerChange | Skip:
    if value is None:
        return Skip("tombstone")
    doc = json.loads(value)
    if doc.get("poison"):
        raise InvalidRecord("email", "must be an email", doc.get("poison"))
    # cdc.public.<table> other than customers is that table (many-tables tests)
    table = topic.removeprefix("cdc.") if topic.startswith("cdc.public.") else "customers"
    table = "customers" if table == "public.customers" else table
    meta = SyncMeta(table, 1_700_000_000_000 + doc["seq"], f"t-{doc['id']}-{doc['seq']}")
    if doc["op"] == "d":
        return CustomerDelete(doc["id"], doc["fields"].get("email"), meta)
    fields = dict(doc["fields"])
    fields["seq"] = doc["seq"]
    return CustomerUpsert(doc["id"], fields, meta, doc["fields"].get("previous_email"))


def fake_to_vendor(change: CustomerChange) -> VendorRecord:
    assert isinstance(change, CustomerUpsert)
    email = change.fields.get("email")
    if email == "unmappable":
        raise InvalidRecord("email", "unmappable", email)
    props = {k: v for k, v in change.fields.items() if isinstance(v, str | int | float | bool)}
    return VendorRecord(change.source_id, str(email), props, "", change.previous_email)


class FakeAdapter:
    """Stores contacts by key; scripted failures; optional random latency; thread-safe."""

    name = "fake"

    def __init__(self, max_batch_size: int = 10, latency_s: float = 0.0) -> None:
        self.limits = PublishedLimits(100, 10.0, max_batch_size)
        self.latency_s = latency_s
        self.lock = threading.Lock()
        self.calls: list[tuple[str, list[VendorRecord]]] = []
        self.contacts: dict[str, dict[str, Any]] = {}
        self.archived: set[str] = set()
        self.seen_seq: dict[str, list[int]] = {}
        self.failures: list[Exception] = []
        self.reject_keys: set[str] = set()
        self.retry_once_keys: set[str] = set()
        self.call_trace_ids: list[str] = []

    def upsert_batch(self, records: Sequence[VendorRecord]) -> list[RecordResult]:
        return self.__apply("upsert", records)

    supported_deletes = frozenset(DeleteMechanism)

    def remove_batch(
        self, records: Sequence[VendorRecord], mechanism: DeleteMechanism
    ) -> list[RecordResult]:
        if mechanism is DeleteMechanism.FIELD_UPDATE:
            return self.__apply("field_update", records)
        return self.__apply(
            "archive" if mechanism is DeleteMechanism.ARCHIVE else "remove", records
        )

    def read_batch(
        self, id_values: Sequence[str], object_type: str = "contacts"
    ) -> dict[str, dict[str, str]]:
        return {}

    def __apply(self, kind: str, records: Sequence[VendorRecord]) -> list[RecordResult]:
        with self.lock:
            self.calls.append((kind, list(records)))
            self.call_trace_ids.append(current_trace_id())
            if self.failures:
                raise self.failures.pop(0)
        if self.latency_s:
            time.sleep(random.uniform(0, self.latency_s))
        results = []
        with self.lock:
            for record in records:
                if record.key in self.reject_keys:
                    results.append(
                        RecordResult(record.key, RecordOutcome.INVALID, None, None, "400", "bad")
                    )
                    continue
                if record.key in self.retry_once_keys:
                    self.retry_once_keys.discard(record.key)
                    results.append(RecordResult(record.key, RecordOutcome.RETRY))
                    continue
                if kind in ("archive", "remove"):
                    self.archived.add(record.key)
                else:
                    self.contacts.setdefault(record.key, {}).update(record.properties)
                    seq = record.properties.get("seq")
                    if isinstance(seq, int):
                        self.seen_seq.setdefault(record.key, []).append(seq)
                results.append(RecordResult(record.key, RecordOutcome.OK))
        return results


MAX_MESSAGE_BYTES = 1_000_000
"""librdkafka's ``message.max.bytes`` default: ``produce`` refuses a larger record at once."""


@dataclass(frozen=True)
class WrittenLetter:
    """A dead letter as the DLQ topic holds it (what a consumer of the topic reads back)."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class FakeDeadLetters:
    """A DLQ topic in memory behaving like ``KafkaDeadLetterSink`` over Kafka (the contract suite
    ``tests/contract/test_dlq_sink.py`` runs the same assertions against both).

    ``letters`` holds every letter handed to ``send``; ``written()`` what the topic holds: key,
    value and headers as produced, a partition per key (so order per key is kept). A record over
    ``MAX_MESSAGE_BYTES`` is refused at once (settled with an error, nothing written). With
    ``settle_immediately`` off, writes are confirmed by ``flush``; with ``reachable`` off (a broker
    that does not answer) ``flush`` confirms nothing and returns how many are unconfirmed.
    """

    def __init__(
        self, settle_immediately: bool = True, partitions: int = 3, reachable: bool = True
    ) -> None:
        self.letters: list[DeadLetter] = []
        self.pending: list[tuple[DeadLetter, DeliveryCallback]] = []
        self.settle_immediately = settle_immediately
        self.reachable = reachable
        self.partitions = partitions
        self.lock = threading.Lock()
        self.__written: list[WrittenLetter] = []

    def send(self, letter: DeadLetter, on_settled: DeliveryCallback) -> None:
        with self.lock:
            self.letters.append(letter)
            record = letter.record
            size = len(record.key or b"") + len(record.value or b"")
            size += sum(len(k) + len(v) for k, v in letter.headers())
            if size > MAX_MESSAGE_BYTES:
                error: str | None = f"produce refused: message size {size} is too large"
            elif self.settle_immediately and self.reachable:
                self.__write(letter)
                error = None
            else:
                self.pending.append((letter, on_settled))
                return
        on_settled(error)

    def flush(self, timeout_s: float) -> int:
        with self.lock:
            if not self.reachable:
                return len(self.pending)
            pending, self.pending = self.pending, []
            for letter, _ in pending:
                self.__write(letter)
        for _, callback in pending:
            callback(None)
        return 0

    def written(self) -> list[WrittenLetter]:
        with self.lock:
            return list(self.__written)

    def __write(self, letter: DeadLetter) -> None:
        key = letter.record.key
        partition = 0 if key is None else zlib.crc32(key) % self.partitions
        offset = sum(1 for w in self.__written if w.partition == partition)
        self.__written.append(
            WrittenLetter(partition, offset, key, letter.record.value, letter.headers())
        )


class InlineExecutor(Executor):
    """Runs submitted work immediately on the caller's thread (deterministic tests)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - a Future carries any exception
            future.set_exception(exc)
        return future
