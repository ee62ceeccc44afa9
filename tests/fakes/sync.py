"""Fakes for the sync unit tests: a JSON decoder/mapping, an in-memory adapter and DLQ sink."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
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
    meta = SyncMeta("customers", 1_700_000_000_000 + doc["seq"], f"t-{doc['id']}-{doc['seq']}")
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

    def read_batch(self, id_values: Sequence[str]) -> dict[str, dict[str, str]]:
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


class FakeDeadLetters:
    def __init__(self, settle_immediately: bool = True) -> None:
        self.letters: list[DeadLetter] = []
        self.pending: list[DeliveryCallback] = []
        self.settle_immediately = settle_immediately
        self.lock = threading.Lock()

    def send(self, letter: DeadLetter, on_settled: DeliveryCallback) -> None:
        with self.lock:
            self.letters.append(letter)
            if not self.settle_immediately:
                self.pending.append(on_settled)
                return
        on_settled(None)

    def flush(self, timeout_s: float) -> int:
        with self.lock:
            pending, self.pending = self.pending, []
        for callback in pending:
            callback(None)
        return 0


class InlineExecutor(Executor):
    """Runs submitted work immediately on the caller's thread (deterministic tests)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - a Future carries any exception
            future.set_exception(exc)
        return future
