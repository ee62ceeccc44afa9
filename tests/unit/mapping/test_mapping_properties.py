"""Property-based tests (hypothesis) of the mapping.

1. Any valid canonical record round-trips through each vendor mapping and back without loss.
2. Any row the table mapping accepts yields a schema-valid canonical record (checked with the
   pure-Python ``jsonschema``, independent of the runtime validator).
3. Invalid input always yields ``InvalidRecord`` or a result, never another exception.
"""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.contracts import CustomerUpsert, InvalidRecord, SyncMeta
from streams.mapping.canonical import canonical_document, validate_canonical
from streams.mapping.change_decoder import decode_change
from streams.mapping.column_values import canonical_timestamp
from streams.mapping.mapping_files import CUSTOMER_SCHEMA_PATH
from streams.mapping.normalisers import ISO_3166_ALPHA2
from streams.mapping.row_mapper import RowMapper
from streams.mapping.table_mapping import load_table_mapping
from streams.mapping.vendor_mapping import PLATFORMS, from_vendor
from streams.mapping.vendor_record import upsert_record
from tests.unit.mapping.mapping_fixtures import TOPIC, base_row, envelope, fixture_doc

pytestmark = pytest.mark.unit

SCHEMA = json.loads(CUSTOMER_SCHEMA_PATH.read_text())
PYTHON_VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
STAGES: list[str] = SCHEMA["properties"]["lifecycle_stage"]["enum"]
COUNTRIES = sorted(ISO_3166_ALPHA2)
META = SyncMeta("public.customers", 1796011331004, "0123456789abcdef0123456789abcdef", 1)
PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
_names = _text.filter(lambda s: 1 <= len(s) <= 255)
_label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
_emails = st.builds(
    lambda local, host, tld: f"{local}@{host}.{tld}",
    st.from_regex(r"\A[a-z0-9]{1,8}([._+-][a-z0-9]{1,8}){0,2}\Z")
    | st.sampled_from(["zoë", "ñúñez", "李"]),
    _label,
    st.text(string.ascii_lowercase, min_size=2, max_size=6),
)
_timestamps = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(canonical_timestamp)
_json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _text
_attributes = st.dictionaries(
    _text, st.recursive(_json_scalars, lambda c: st.lists(c, max_size=3)), max_size=4
)

canonical_fields = st.fixed_dictionaries(
    {"email": _emails},
    optional={
        "first_name": st.none() | _names,
        "last_name": st.none() | _names,
        "phone": st.none() | st.from_regex(r"\A\+[1-9][0-9]{6,14}\Z"),
        "company_name": st.none() | _names,
        "company_domain": st.none() | st.builds(lambda a, b: f"{a}.{b}.com", _label, _label),
        "lifecycle_stage": st.sampled_from(STAGES),
        "plan": st.none() | _text.filter(lambda s: 1 <= len(s) <= 64),
        "mrr": st.none()
        | st.decimals(-(10**9), 10**9, places=2, allow_nan=False, allow_infinity=False).map(
            lambda d: format(d, "f")
        ),
        "marketing_consent": st.booleans(),
        "marketing_consent_at": st.none() | _timestamps,
        "country": st.none() | st.sampled_from(COUNTRIES),
        "birth_date": st.none() | st.dates(date(1900, 1, 1)).map(date.isoformat),
        "attributes": st.none() | _attributes,
        "created_at": _timestamps,
        "updated_at": _timestamps,
    },
)


@PROPS
@given(fields=canonical_fields, source_id=st.integers(1, 2**63 - 1).map(str))
def test_valid_canonical_records_round_trip_through_each_vendor(
    fields: dict[str, Any], source_id: str
) -> None:
    change = CustomerUpsert(source_id, fields, META)
    validate_canonical(canonical_document(change))  # the generator makes valid records
    for platform in PLATFORMS:
        record = upsert_record(platform, change)
        assert record.key == source_id and record.id_value == fields["email"]
        assert from_vendor(platform, record.properties) == {"source_id": source_id, **fields}


# Rows as an application might write them: messy but often acceptable values.
_phones = st.one_of(
    st.none(),
    st.just(""),
    st.from_regex(r"\A\+[1-9][0-9]{7,12}\Z"),
    st.builds(lambda n: f"(415) 555-{n:04d}", st.integers(0, 9999)),
    _text,
)
MAPPER = RowMapper(load_table_mapping())
COLUMN_TO_FIELD = {
    rule.column: rule.name for rule in load_table_mapping().fields if rule.name != "email"
}
rows = st.fixed_dictionaries(
    {
        "id": st.integers(1, 2**63 - 1),
        "email": _emails.map(str.upper) | _emails.map(lambda e: f"  {e} ") | _text,
        "first_name": st.none() | _text,
        "last_name": st.none() | _text,
        "phone": _phones,
        "company_name": st.none() | _text,
        "lifecycle_stage": st.sampled_from(["lead", "MQL", " customer ", "churned", "?"]) | _text,
        "plan": st.none() | _text,
        "mrr": st.none() | st.decimals(-(10**8), 10**8, places=2).map(str) | _text,
        "marketing_opt_in": st.booleans() | st.none(),
        "opt_in_at": st.none() | _timestamps | _text,
        "country": st.none() | st.sampled_from([*COUNTRIES[:20], "us", " de", "  ", "XX"]),
        "birth_date": st.none() | st.integers(-40000, 40000),
        "attributes": st.none() | _attributes.map(json.dumps) | _text,
        "created_at": _timestamps | _text,
        "updated_at": _timestamps,
    }
)


@PROPS
@given(row=rows)
def test_any_row_the_mapping_accepts_is_schema_valid(row: dict[str, object]) -> None:
    """Accepted rows are valid for an independent validator too (pure-Python jsonschema);
    rejected ones are typed errors naming a field and a rule."""
    try:
        change = decode_change(TOPIC, None, envelope(row))
    except InvalidRecord as error:
        assert error.field and error.rule
        return
    assert isinstance(change, CustomerUpsert)
    doc = canonical_document(change)
    assert [e.message for e in PYTHON_VALIDATOR.iter_errors(doc)] == []
    assert "__debezium_unavailable_value" not in json.dumps(doc)


@PROPS
@given(row=rows, toasted=st.sets(st.sampled_from(sorted(COLUMN_TO_FIELD)), min_size=1))
def test_toast_placeholders_leave_exactly_those_fields_out(
    row: dict[str, object], toasted: set[str]
) -> None:
    try:
        full = MAPPER.map_row(row)
    except InvalidRecord:
        return
    partial = MAPPER.map_row({**row, **dict.fromkeys(toasted, "__debezium_unavailable_value")})
    assert partial == {
        k: v for k, v in full.items() if k not in {COLUMN_TO_FIELD[c] for c in toasted}
    }


_json_values = st.recursive(
    _json_scalars | st.floats(allow_nan=False),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(_text, c, max_size=3),
    max_leaves=8,
)


def _decode_never_crashes(topic: str, key: bytes | None, value: bytes | None) -> None:
    try:
        decode_change(topic, key, value)
    except InvalidRecord as error:
        assert isinstance(error.field, str) and isinstance(error.rule, str)


@PROPS
@given(value=st.binary(max_size=200), key=st.none() | st.binary(max_size=20))
def test_arbitrary_bytes_never_raise_anything_but_invalid_record(
    value: bytes, key: bytes | None
) -> None:
    _decode_never_crashes(TOPIC, key, value)


@PROPS
@given(document=_json_values)
def test_arbitrary_json_never_raises_anything_but_invalid_record(document: object) -> None:
    _decode_never_crashes(TOPIC, None, json.dumps(document).encode())


@PROPS
@given(
    column=st.sampled_from(sorted(base_row())),
    value=_json_values,
    op=st.sampled_from(["c", "u", "d", "r"]),
)
def test_envelopes_with_any_column_value_never_crash(column: str, value: object, op: str) -> None:
    row = base_row(**{column: value})
    before = row if op in ("u", "d") else None
    after = None if op == "d" else row
    _decode_never_crashes(TOPIC, b'{"id": 1}', envelope(after, before=before, op=op))


@PROPS
@given(
    part=st.sampled_from(["op", "source", "before", "after", "ts_ms"]),
    value=_json_values,
    wrapped=st.booleans(),
)
def test_envelopes_with_any_top_level_part_never_crash(
    part: str, value: object, wrapped: bool
) -> None:
    doc = fixture_doc("wrapped_create_precise_decimal" if wrapped else "update")
    target = doc["payload"] if wrapped else doc
    target[part] = value
    _decode_never_crashes(TOPIC, None, json.dumps(doc).encode())


@PROPS
@given(column=st.sampled_from(["mrr", "birth_date", "created_at"]), schema=_json_values)
def test_wrapped_envelopes_with_any_column_schema_never_crash(column: str, schema: object) -> None:
    doc = fixture_doc("wrapped_create_precise_decimal")
    for part in doc["schema"]["fields"]:
        for index, spec in enumerate(part.get("fields", [])):
            if spec.get("field") == column:
                part["fields"][index] = schema
    _decode_never_crashes(TOPIC, None, json.dumps(doc).encode())


@PROPS
@given(schema=_json_values, fields=_json_values)
def test_wrapped_envelopes_with_any_envelope_schema_never_crash(
    schema: object, fields: object
) -> None:
    doc = fixture_doc("wrapped_create_precise_decimal")
    _decode_never_crashes(TOPIC, None, json.dumps({**doc, "schema": schema}).encode())
    doc["schema"]["fields"] = fields
    _decode_never_crashes(TOPIC, None, json.dumps(doc).encode())
