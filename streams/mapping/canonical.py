"""The canonical customer document (``schemas/customer.schema.json``) and its validator. Pure.

The validator is built once with jsonschema-rs (Rust; ~2 us per record here against ~22 us for
fastjsonschema's generated Python, which matters for the 50k records/s budget: see
``bench/bench_mapping.py``). Formats (idn-email, date-time, date) are checked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema_rs

from streams.contracts import QUOTE_LIMIT, CustomerDelete, CustomerUpsert, InvalidRecord, SyncMeta
from streams.mapping.mapping_files import CUSTOMER_SCHEMA_PATH, load_json

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
    """The change as a canonical customer document (JSON-ready). An upsert's document is a
    copy of its fields plus three keys (the decoding hot path builds one per record)."""
    if isinstance(change, CustomerDelete):
        doc: dict[str, object] = {"source_id": change.source_id, "deleted": True}
        if change.email is not None:
            doc["email"] = change.email
        doc["sync"] = sync_document(change.meta)
        return doc
    doc = dict(change.fields)
    doc["source_id"] = change.source_id
    doc["deleted"] = False
    doc["sync"] = sync_document(change.meta, change.previous_email)
    return doc


@functools.cache
def _compiled_validator() -> jsonschema_rs.Draft202012Validator:
    schema = load_json(CUSTOMER_SCHEMA_PATH)
    if schema.get("$id") != CUSTOMER_SCHEMA_ID:
        raise RuntimeError(f"{CUSTOMER_SCHEMA_PATH}: expected $id {CUSTOMER_SCHEMA_ID}")
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def validate_canonical(document: dict[str, object]) -> None:
    """Check a canonical document against the schema. Raises ``InvalidRecord`` naming the
    field (``email``, ``sync.ts_ms``, ...), the JSON Schema rule and the offending value."""
    validator = _compiled_validator()
    if validator.is_valid(document):
        return
    raise_invalid(document)


def canonical_checker() -> Callable[[dict[str, object]], bool]:
    """The schema's ``is_valid`` (for hot loops: call ``raise_invalid`` when it says no)."""
    return _compiled_validator().is_valid


@functools.cache
def _validator_of(schema_text: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(json.loads(schema_text), validate_formats=True)


def schema_validator(schema: Mapping[str, Any]) -> jsonschema_rs.Draft202012Validator:
    """The validator of a table's canonical schema (the customer one is compiled once; others
    once per distinct schema)."""
    if schema.get("$id") == CUSTOMER_SCHEMA_ID:
        return _compiled_validator()
    return _validator_of(json.dumps(schema, sort_keys=True))


def raise_invalid(
    document: dict[str, object], validator: jsonschema_rs.Draft202012Validator | None = None
) -> None:
    """Raise the ``InvalidRecord`` for a document the schema (default: the customer one)
    rejects (see above)."""
    validator = validator or _compiled_validator()
    try:
        validator.validate(document)
    except jsonschema_rs.ValidationError as exc:
        path = [str(part) for part in exc.instance_path]
        keyword = str(exc.schema_path[-1]) if len(exc.schema_path) else "invalid"
        value = exc.instance if path else None
        missing = getattr(exc.kind, "property", None)  # "required": name the missing field
        if keyword == "required" and isinstance(missing, str):
            path.append(missing)
        message = exc.message
        if isinstance(value, str) and len(value) > QUOTE_LIMIT:  # the validator quotes it whole
            message = message.replace(value, f"{value[:QUOTE_LIMIT]}… ({len(value)} chars)")
        raise InvalidRecord(".".join(path) or "$", f"schema:{keyword}", value, message) from exc
