"""The decoding hot paths give exactly what the checking paths give.

- the fast row program (a ``ColumnRow`` read by attribute, values in locals) == the complete
  one (``row.get``), for rows with absent columns, nulls, TOAST placeholders, wrong and
  unhashable values, given as dicts (which it hands to the complete one) or, when complete, as
  ``ColumnRow``s;
- rows of schema-wrapped envelopes (any column encodings) mapped by their compiled program, and
  the ``before`` image's email, == a plain per-field reference of the documented rule;
- ``EnvelopeReader.read`` (typed msgspec decode) == ``parse_envelope(parse_json(...))`` for
  envelopes with missing or mistyped parts, schema-wrapped ones and non-JSON input, except
  that its ``before`` image carries only the key and email columns and (with a row type) its
  ``after`` image only the mapped columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.contracts import InvalidRecord
from streams.mapping.column_values import TOAST_PLACEHOLDER
from streams.mapping.compiled_field import compile_field
from streams.mapping.envelope import Envelope, EnvelopeReader, parse_envelope, parse_json
from streams.mapping.normalisers import ISO_3166_ALPHA2
from streams.mapping.row_mapper import RowMapper
from streams.mapping.row_program import compile_row_program
from streams.mapping.table_mapping import FieldRule, load_table_mapping
from tests.unit.mapping.mapping_fixtures import base_row, envelope, fixture_bytes

pytestmark = pytest.mark.unit

MAPPER = RowMapper(load_table_mapping())
BY_ATTRIBUTE = compile_row_program(MAPPER.field_plans, row_type=MAPPER.row_type)
COMPLETE = compile_row_program(MAPPER.field_plans)
COLUMNS = sorted(base_row())
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=12)
)
json_values = st.one_of(
    json_scalars,
    st.lists(json_scalars, max_size=2),
    st.dictionaries(st.text(max_size=4), json_scalars, max_size=2),
    st.sampled_from(["", "  ", "GB", "+44 20 7946 0958", "x@example.com", TOAST_PLACEHOLDER]),
)
# Per column: keep the realistic value, drop it, or put something else there.
edits = st.dictionaries(
    st.sampled_from(COLUMNS), st.one_of(st.just("absent"), json_values), max_size=4
)


def _outcome(program: Callable[[Mapping[str, object]], object], row: dict[str, Any]) -> object:
    try:
        return ("ok", program(row))
    except InvalidRecord as exc:
        return ("invalid", exc.field, exc.rule)


def _edit(where: dict[str, Any], changes: dict[str, object]) -> dict[str, Any]:
    """Apply generated edits in place: ``"absent"`` removes the key, anything else sets it."""
    for name, value in changes.items():
        if value == "absent":
            where.pop(name, None)
        else:
            where[name] = value
    return where


@PROPS
@given(edits, st.booleans())
def test_fast_row_program_equals_the_complete_one(changes: dict[str, object], twice: bool) -> None:
    row = _edit(base_row(), changes)
    first = _outcome(COMPLETE, row)
    assert _outcome(BY_ATTRIBUTE, row) == first  # a dict row: the complete program
    column_row = _as_column_row(row)
    if column_row is not None:
        assert _outcome(BY_ATTRIBUTE, column_row) == first
        assert _outcome(COMPLETE, column_row) == first
    if twice:  # the second time the caches answer
        assert _outcome(COMPLETE, row) == first
        if column_row is not None:
            assert _outcome(BY_ATTRIBUTE, column_row) == first


def _as_column_row(row: dict[str, Any]) -> Any:
    """The row as the reader gives it (a ``ColumnRow``), or ``None`` if a column is absent."""
    try:
        return msgspec.json.decode(json.dumps(row), type=MAPPER.row_type)
    except msgspec.ValidationError:
        return None


def test_column_row_is_a_read_only_mapping_of_the_mapped_columns() -> None:
    row = _as_column_row(base_row())
    assert isinstance(row, Mapping)
    assert dict(row) == {k: v for k, v in base_row().items() if k in MAPPER.row_type.ATTRIBUTES}
    assert "notes" not in row and row.get("notes", 1) == 1 and row["email"] == row.get("email")
    with pytest.raises(KeyError):
        row["notes"]
    assert len(row) == len(list(row)) == len(list(row.values()))


def test_fast_row_program_leaves_toast_out_and_keeps_nulls() -> None:
    row = base_row(notes=TOAST_PLACEHOLDER, plan=TOAST_PLACEHOLDER, phone=None, attributes=None)
    fields = BY_ATTRIBUTE(_as_column_row(row))
    assert "plan" not in fields
    assert fields["phone"] is None and fields["attributes"] is None
    assert fields == COMPLETE(row)


READER = EnvelopeReader(MAPPER.before_columns)
ROW_READER = EnvelopeReader(MAPPER.before_columns, MAPPER.row_type)


def _read_both(value: bytes, reader: EnvelopeReader = READER) -> tuple[object, object]:
    def checked() -> object:
        try:
            return parse_envelope(parse_json(value, "value"))
        except InvalidRecord as exc:
            return ("invalid", exc.field, exc.rule)

    try:
        fast: object = reader.read(value)
    except InvalidRecord as exc:
        fast = ("invalid", exc.field, exc.rule)
    return fast, checked()


def _read_columns(row: Mapping[str, object] | None) -> dict[str, object] | None:
    """What the decoder reads from a ``before`` image."""
    keys = MAPPER.before_columns
    return None if row is None else {k: v for k, v in row.items() if k in keys}


def _mapped_columns(row: Mapping[str, object] | None) -> object:
    """A ``ColumnRow`` as a dict; a dict ``after`` image cut to the columns of the row type."""
    if row is None or not isinstance(row, MAPPER.row_type):
        return row
    return dict(row)


def _same(fast: object, checked: object) -> bool:
    if not isinstance(fast, Envelope) or not isinstance(checked, Envelope):
        return fast == checked
    checked_after = checked.after
    if isinstance(fast.after, MAPPER.row_type) and checked_after is not None:
        mapped = MAPPER.row_type.ATTRIBUTES
        checked_after = {k: v for k, v in checked_after.items() if k in mapped}
    return msgspec.structs.replace(
        fast, before=_read_columns(fast.before), after=_mapped_columns(fast.after)
    ) == msgspec.structs.replace(
        checked, before=_read_columns(checked.before), after=checked_after
    )


envelope_edits = st.dictionaries(
    st.sampled_from(["op", "source", "before", "after", "ts_ms", "payload", "schema"]),
    st.one_of(st.just("absent"), json_values),
    max_size=2,
)
source_edits = st.dictionaries(
    st.sampled_from(["table", "schema", "lsn", "ts_ms"]),
    st.one_of(st.just("absent"), json_values),
    max_size=2,
)


@PROPS
@given(envelope_edits, source_edits, edits, st.sampled_from(["c", "u", "d", "r"]))
def test_envelope_reader_equals_the_checking_path(
    changes: dict[str, object],
    source_changes: dict[str, object],
    row_changes: dict[str, object],
    op: str,
) -> None:
    after = _edit(base_row(), row_changes)
    doc = json.loads(envelope(after, before=base_row(email="old@example.com"), op=op))
    _edit(doc["source"], source_changes)  # (before the envelope edits, which may drop it)
    _edit(doc, changes)
    value = json.dumps(doc).encode()
    for reader in (READER, ROW_READER):
        fast, checked = _read_both(value, reader)
        assert _same(fast, checked), (fast, checked)
    row_fast = ROW_READER.read(value) if isinstance(checked, Envelope) else None
    if row_fast is not None and isinstance(doc.get("after"), dict) and "payload" not in doc:
        complete = all(column in doc["after"] for column in MAPPER.row_type.ATTRIBUTES)
        by_columns = isinstance(row_fast.after, MAPPER.row_type)
        assert complete if by_columns else not (complete and not changes and not source_changes)


@pytest.mark.parametrize(
    "value",
    [b"null", b"{", b"[]", b'"text"', b"{}", fixture_bytes("create"), fixture_bytes("delete")],
)
def test_envelope_reader_on_odd_and_fixture_values(value: bytes) -> None:
    for reader in (READER, ROW_READER):
        fast, checked = _read_both(value, reader)
        assert _same(fast, checked), (fast, checked)


@pytest.mark.parametrize("columns", [("id", "email"), ("id", "e-mail", "class", "_x", "Ünï")])
@pytest.mark.parametrize("present", [(), ("id",), ("id", "email", "e-mail", "class", "_x", "Ünï")])
def test_envelope_reader_before_image_for_any_column_names(
    columns: tuple[str, ...], present: tuple[str, ...]
) -> None:
    before: dict[str, object] = {column: f"v-{column}" for column in present} | {"other": 1}
    value = envelope(base_row(), before=before, op="u")
    read = EnvelopeReader(columns).read(value)
    assert read is not None and read.before is not None
    expected = {c: before[c] for c in columns if c in before}
    assert dict(read.before) == expected and len(read.before) == len(expected)
    for column in (*columns, "other"):
        assert (column in read.before) == (column in expected)
        assert read.before.get(column, "absent") == expected.get(column, "absent")


# -- schema-wrapped rows: the compiled program per encodings signature == the reference -------

ENCODING_CHOICES = [
    ("string", None),
    ("decimal_base64", 2),
    ("decimal_base64", None),
    ("variable_scale_decimal", None),
    ("decimal_double", None),
    ("date_days", None),
    ("timestamp_millis", None),
    ("timestamp_micros", None),
    ("timestamp_nanos", None),
    ("zoned_timestamp", None),
    ("json_string", None),
    ("no_such_encoding", None),
]
encodings_strategy = st.dictionaries(
    st.sampled_from(COLUMNS), st.sampled_from(ENCODING_CHOICES), max_size=4
)


def _reference_field(
    rule: FieldRule, row: Mapping[str, object], encodings: Mapping[str, tuple[str, int | None]]
) -> object:
    """One field by the documented rule, the plain way: the converter for the column's
    encoding (the envelope's, else the file's; the file's scale when the schema gives none)
    and the row's country, applied to the raw value."""
    name, scale = encodings.get(rule.column, (rule.encoding, rule.scale))
    scale = rule.scale if scale is None else scale
    region = None
    if rule.region_column is not None:
        country = row.get(rule.region_column)
        if isinstance(country, str) and country.strip().upper() in ISO_3166_ALPHA2:
            region = country.strip().upper()
    try:
        convert = compile_field(rule, name, scale, region).convert
    except ValueError as exc:
        raise InvalidRecord(rule.name, "encoding", name, str(exc)) from exc
    return convert(row[rule.column])


def _reference(
    row: Mapping[str, object], encodings: Mapping[str, tuple[str, int | None]]
) -> dict[str, object]:
    """absent -> left out or "required"; TOAST placeholder -> left out; else converted."""
    fields: dict[str, object] = {}
    for rule in MAPPER.mapping.fields:
        if rule.column not in row:
            if rule.required:
                raise InvalidRecord(rule.name, "required", None, "absent")
            continue
        if row[rule.column] == TOAST_PLACEHOLDER:
            continue
        fields[rule.name] = _reference_field(rule, row, encodings)
    return fields


def _reference_email(
    row: Mapping[str, object], encodings: Mapping[str, tuple[str, int | None]]
) -> object:
    """The email field alone by the same rule; absent, null, TOAST or invalid -> ``None``."""
    rule = next(r for r in MAPPER.mapping.fields if r.name == "email")
    raw = row.get(rule.column)
    if raw is None or raw == TOAST_PLACEHOLDER:
        return None
    try:
        value = _reference_field(rule, row, encodings)
    except InvalidRecord:
        return None
    return value if isinstance(value, str) else None


@PROPS
@given(edits, encodings_strategy, st.booleans())
def test_wrapped_rows_map_as_the_reference_says(
    changes: dict[str, object], encodings: dict[str, tuple[str, int | None]], twice: bool
) -> None:
    row = _edit(base_row(), changes)
    expected = _outcome(lambda r: _reference(r, encodings), row)
    assert _outcome(lambda r: MAPPER.map_row(r, encodings), row) == expected
    if twice:  # the program compiled for this signature is cached; its caches answer
        assert _outcome(lambda r: MAPPER.map_row(r, encodings), row) == expected
    assert MAPPER.email_of(row, encodings) == _reference_email(row, encodings)
    assert MAPPER.email_of(row) == _reference_email(row, {})
