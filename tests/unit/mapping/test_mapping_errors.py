"""Bad input always becomes an ``InvalidRecord`` naming the field, the rule and the value."""

from __future__ import annotations

import json

import pytest

from streams.contracts import InvalidRecord
from streams.mapping.canonical import validate_canonical
from streams.mapping.change_decoder import decode_change
from tests.unit.mapping.mapping_fixtures import TOPIC, base_row, envelope, fixture_doc

pytestmark = pytest.mark.unit


def invalid(value: bytes, key: bytes | None = None) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as caught:
        decode_change(TOPIC, key, value)
    return caught.value


@pytest.mark.parametrize(
    "column,value,field,rule",
    [
        ("email", "not-an-email", "email", "email"),
        ("email", None, "email", "required"),
        ("email", 42, "email", "encoding:string"),
        ("phone", "12", "phone", "e164"),
        ("phone", "call me", "phone", "e164"),
        ("country", "XX", "country", "country_alpha2"),
        ("country", "USA", "country", "country_alpha2"),
        ("mrr", "abc", "mrr", "encoding:decimal_string"),
        ("mrr", 49.0, "mrr", "encoding:decimal_string"),
        ("mrr", "NaN", "mrr", "encoding:decimal_string"),
        ("birth_date", "1991-03-02", "birth_date", "encoding:date_days"),
        ("birth_date", 10**9, "birth_date", "encoding:date_days"),
        ("birth_date", True, "birth_date", "encoding:date_days"),
        ("created_at", "yesterday", "created_at", "encoding:zoned_timestamp"),
        ("created_at", "2026-11-30T04:00:00", "created_at", "encoding:zoned_timestamp"),
        ("attributes", "{not json", "attributes", "encoding:json_string"),
        ("marketing_opt_in", "yes", "marketing_consent", "encoding:boolean"),
        ("first_name", ["Ana"], "first_name", "encoding:string"),
        ("marketing_opt_in", None, "marketing_consent", "required"),
    ],
)
def test_bad_column_values_name_field_rule_and_value(
    column: str, value: object, field: str, rule: str
) -> None:
    error = invalid(envelope(base_row(**{column: value})))
    assert (error.field, error.rule, error.value) == (field, rule, value)
    assert field in str(error)


@pytest.mark.parametrize(
    "overrides,field,rule",
    [
        ({"attributes": "[1, 2]"}, "attributes", "schema:type"),
        ({"first_name": "x" * 300}, "first_name", "schema:maxLength"),
    ],
)
def test_schema_violations_after_mapping_are_invalid(
    overrides: dict[str, object], field: str, rule: str
) -> None:
    error = invalid(envelope(base_row(**overrides)))
    assert (error.field, error.rule) == (field, rule)


def test_missing_email_column_is_invalid() -> None:
    row = base_row()
    del row["email"]
    error = invalid(envelope(row))
    assert (error.field, error.rule) == ("email", "required")


@pytest.mark.parametrize(
    "value,field,rule",
    [
        (b"{not json", "value", "json"),
        (b"\xff\xfe", "value", "json"),
        (b"[1, 2]", "$", "envelope"),
        (b'"text"', "$", "envelope"),
        (b'{"op": "x", "source": {}}', "op", "debezium_op"),
        (b'{"op": "c"}', "source", "object"),
        (b'{"op": "c", "source": {"table": "customers"}}', "source.ts_ms", "required"),
        (b'{"op": "c", "source": {"table": "customers", "ts_ms": "1"}}', "source.ts_ms", "integer"),
        (b'{"op": "c", "source": {"table": 5, "ts_ms": 1}}', "source.table", "string"),
        (
            b'{"op": "c", "source": {"schema": "public", "table": "customers", "ts_ms": 1,'
            b' "lsn": "x"}, "after": {}}',
            "source.lsn",
            "integer",
        ),
        (
            b'{"op": "c", "source": {"schema": "public", "table": "customers", "ts_ms": 1}}',
            "after",
            "required",
        ),
        (
            b'{"op": "c", "source": {"schema": "public", "table": "customers", "ts_ms": 1},'
            b' "after": [1]}',
            "after",
            "object",
        ),
    ],
)
def test_malformed_envelopes_are_invalid(value: bytes, field: str, rule: str) -> None:
    error = invalid(value)
    assert (error.field, error.rule) == (field, rule)


def test_primary_key_of_the_wrong_type_is_invalid() -> None:
    error = invalid(envelope(base_row(id=True)))
    assert (error.field, error.rule, error.value) == ("source_id", "primary_key", True)


def test_delete_without_any_key_is_invalid() -> None:
    error = invalid(envelope(None, before={"email": "a@b.co"}, op="d"))
    assert (error.field, error.rule) == ("source_id", "required")


def test_delete_falls_back_to_the_kafka_key() -> None:
    change = decode_change(TOPIC, b'{"id": 99}', envelope(None, before={}, op="d"))
    assert getattr(change, "source_id", None) == "99"
    wrapped_key = b'{"schema": {"type": "struct"}, "payload": {"id": 98}}'
    change = decode_change(TOPIC, wrapped_key, envelope(None, before={}, op="d"))
    assert getattr(change, "source_id", None) == "98"


def test_bad_key_json_is_invalid_only_when_the_key_is_needed() -> None:
    error = invalid(envelope(None, before={}, op="d"), key=b"{oops")
    assert (error.field, error.rule) == ("key", "json")
    assert decode_change(TOPIC, b"{oops", envelope(base_row())) is not None


def test_other_table_on_the_topic_is_skipped() -> None:
    doc = fixture_doc("create")
    doc["source"]["table"] = "companies"
    skipped = decode_change(TOPIC, None, json.dumps(doc).encode())
    assert getattr(skipped, "reason", "") == "table public.companies is not mapped on " + TOPIC


def test_wrapped_envelope_with_bad_decimal_scale_is_invalid() -> None:
    doc = fixture_doc("wrapped_create_precise_decimal")
    for part in doc["schema"]["fields"]:
        for column in part.get("fields", []):
            if column.get("field") == "mrr":
                column["parameters"]["scale"] = "two"
    error = invalid(json.dumps(doc).encode())
    assert (error.field, error.rule, error.value) == ("mrr", "schema_scale", "two")


def test_wrapped_envelope_with_bad_base64_decimal_is_invalid() -> None:
    doc = fixture_doc("wrapped_create_precise_decimal")
    doc["payload"]["after"]["mrr"] = "%%%"
    error = invalid(json.dumps(doc).encode())
    assert (error.field, error.rule, error.value) == ("mrr", "encoding:decimal_base64", "%%%")


def test_value_of_the_wrong_python_type_is_invalid() -> None:
    with pytest.raises(InvalidRecord) as caught:
        decode_change(TOPIC, None, 42)  # type: ignore[arg-type]
    assert caught.value.rule == "bytes"


def test_a_live_record_without_email_names_the_missing_field() -> None:
    sync = {"source_table": "public.customers", "ts_ms": 1, "trace_id": "t"}
    with pytest.raises(InvalidRecord) as caught:
        validate_canonical({"source_id": "1", "deleted": False, "sync": sync})
    assert (caught.value.field, caught.value.rule) == ("email", "schema:required")
