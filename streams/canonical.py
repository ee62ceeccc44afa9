"""The canonical customer document (``schemas/customer.schema.json``) and its validator. Pure.

The validator is compiled once with fastjsonschema (generated Python, fast enough for the
50k records/s budget; see ``bench/bench_mapping.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import fastjsonschema

from streams.contracts import CustomerDelete, CustomerUpsert, InvalidRecord, SyncMeta
from streams.mapping_spec import CUSTOMER_SCHEMA_PATH, load_json

CUSTOMER_SCHEMA_ID = "urn:cdcbridge:schema:customer:1"


def sync_document(meta: SyncMeta, previous_email: str | None = None) -> dict[str, object]:
    doc: dict[str, object] = {
        "source_table": meta.source_table,
        "lsn": meta.lsn,
        "ts_ms": meta.ts_ms,
        "trace_id": meta.trace_id,
    }
    if previous_email is not None:
        doc["previous_email"] = previous_email
    return doc


def canonical_document(change: CustomerUpsert | CustomerDelete) -> dict[str, object]:
    """The change as a canonical customer document (JSON-ready)."""
    if isinstance(change, CustomerDelete):
        doc: dict[str, object] = {"source_id": change.source_id, "deleted": True}
        if change.email is not None:
            doc["email"] = change.email
        doc["sync"] = sync_document(change.meta)
        return doc
    doc = {"source_id": change.source_id, "deleted": False}
    doc.update(change.fields)
    doc["sync"] = sync_document(change.meta, change.previous_email)
    return doc


@functools.cache
def _compiled_validator() -> Callable[[Any], Any]:
    schema = load_json(CUSTOMER_SCHEMA_PATH)
    if schema.get("$id") != CUSTOMER_SCHEMA_ID:
        raise RuntimeError(f"{CUSTOMER_SCHEMA_PATH}: expected $id {CUSTOMER_SCHEMA_ID}")
    validate: Callable[[Any], Any] = fastjsonschema.compile(schema)
    return validate


def validate_canonical(document: dict[str, object]) -> None:
    """Check a canonical document against the schema. Raises ``InvalidRecord`` naming the
    field (``email``, ``sync.ts_ms``, ...), the JSON Schema rule and the offending value."""
    try:
        _compiled_validator()(document)
    except fastjsonschema.JsonSchemaException as exc:
        name = str(getattr(exc, "name", "") or "data")
        field = name.removeprefix("data").lstrip(".") or "$"
        rule = f"schema:{getattr(exc, 'rule', None) or 'invalid'}"
        raise InvalidRecord(field, rule, getattr(exc, "value", None), str(exc)) from exc
