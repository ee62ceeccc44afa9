"""The engagement event's Avro schema and its JSON Schema twin accept and reject the same documents.

A document is written in its JSON form (timestamps as RFC 3339 strings). For Avro it becomes a
datum: RFC 3339 strings become aware datetimes (timestamp-millis); anything else in a timestamp
field stays something Avro rejects. Avro records are closed, so unknown keys are a rejection
(fastavro would silently drop them on write).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import fastavro
import fastjsonschema
import jsonschema
import pytest
from fastavro.validation import validate as avro_validate
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.contract

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
AVRO_DOC = json.loads((SCHEMAS / "engagement_event.avsc").read_text())
AVRO_SCHEMA = fastavro.parse_schema(AVRO_DOC)
JSON_SCHEMA = json.loads((SCHEMAS / "engagement_event.schema.json").read_text())
JSON_VALIDATE = fastjsonschema.compile(JSON_SCHEMA)
AVRO_FIELDS = {f["name"] for f in AVRO_DOC["fields"]}
TIMESTAMP_FIELDS = ("occurred_at", "received_at")
TYPES: list[str] = JSON_SCHEMA["properties"]["type"]["enum"]


class _NotATimestamp:
    """Stands for a JSON value that is not an RFC 3339 string; Avro rejects it."""


def _to_avro_datum(doc: dict[str, Any]) -> dict[str, Any]:
    datum = dict(doc)
    for name in TIMESTAMP_FIELDS:
        if name not in datum:
            continue
        value = datum[name]
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        datum[name] = (
            parsed if parsed is not None and parsed.tzinfo is not None else _NotATimestamp()
        )
    return datum


def avro_accepts(doc: dict[str, Any]) -> bool:
    if not set(doc) <= AVRO_FIELDS:
        return False
    return bool(avro_validate(_to_avro_datum(doc), AVRO_SCHEMA, raise_errors=False, strict=True))


def json_accepts(doc: dict[str, Any]) -> bool:
    try:
        JSON_VALIDATE(copy.deepcopy(doc))
    except fastjsonschema.JsonSchemaException:
        return False
    return True


VALID = {
    "event_id": "wh_01HZX3",
    "type": "email_opened",
    "email": "ana@example.com",
    "platform_contact_id": "1201",
    "source_id": "42",
    "occurred_at": "2026-11-30T04:00:00.123Z",
    "received_at": "2026-11-30T04:00:01Z",
    "source_platform": "hubspot",
    "attributes": {"campaign": "winter", "url": "https://example.com/x"},
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
}

MUTATIONS: list[tuple[str, Any]] = [
    ("event_id", None),
    ("event_id", 12),
    ("type", "email_forwarded"),
    ("type", None),
    ("email", None),
    ("email", 5),
    ("platform_contact_id", None),
    ("source_id", None),
    ("source_id", 42),
    ("occurred_at", "2026-11-30"),
    ("occurred_at", 1764475200000),
    ("occurred_at", "yesterday"),
    ("received_at", "2026-11-30T04:00:01+01:00"),
    ("source_platform", None),
    ("attributes", {"n": 1}),
    ("attributes", {"ok": "yes"}),
    ("attributes", []),
    ("trace_id", None),
    ("unexpected", "x"),
]


def test_json_twin_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(JSON_SCHEMA)
    assert JSON_SCHEMA["$id"].endswith(":1")


def test_twins_declare_the_same_fields_and_types() -> None:
    assert set(JSON_SCHEMA["properties"]) == AVRO_FIELDS
    (type_field,) = [f for f in AVRO_DOC["fields"] if f["name"] == "type"]
    assert type_field["type"]["symbols"] == TYPES
    for required in ("email_opened", "email_clicked", "email_bounced", "form_submitted"):
        assert required in TYPES
    assert {"contact_unsubscribed", "contact_subscribed", "other"} <= set(TYPES)


def test_valid_document_is_accepted_by_both() -> None:
    assert json_accepts(VALID) and avro_accepts(VALID)


@pytest.mark.parametrize("field,value", MUTATIONS)
def test_twins_agree_on_each_mutation(field: str, value: Any) -> None:
    doc = dict(VALID, **{field: value})
    assert json_accepts(doc) == avro_accepts(doc), doc


@pytest.mark.parametrize("field", sorted(AVRO_FIELDS))
def test_twins_agree_when_a_field_is_missing(field: str) -> None:
    doc = {k: v for k, v in VALID.items() if k != field}
    assert json_accepts(doc) == avro_accepts(doc), field


_json_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.sampled_from(TYPES)
)
_timestamps = st.datetimes(timezones=st.just(datetime.now().astimezone().tzinfo)).map(
    lambda d: d.isoformat()
)


@st.composite
def _documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event_id": draw(st.text(max_size=10)),
        "type": draw(st.sampled_from(TYPES)),
        "email": draw(st.none() | st.emails()),
        "platform_contact_id": draw(st.none() | st.text(max_size=6)),
        "source_id": draw(st.none() | st.text(max_size=6)),
        "occurred_at": draw(_timestamps),
        "received_at": draw(_timestamps),
        "source_platform": draw(st.sampled_from(["hubspot", "marketo", "sandbox"])),
        "attributes": draw(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)),
        "trace_id": draw(st.text(max_size=10)),
    }
    for name in draw(st.lists(st.sampled_from(sorted(doc)), max_size=2, unique=True)):
        if draw(st.booleans()):
            del doc[name]
        else:
            doc[name] = draw(_json_values)
    return doc


@settings(max_examples=300, deadline=None)
@given(_documents())
def test_twins_agree_on_generated_documents(doc: dict[str, Any]) -> None:
    assert json_accepts(doc) == avro_accepts(doc), doc
