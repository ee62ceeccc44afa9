"""The decoding hot paths give exactly what the checking paths give.

- the fast row program (row indexed, values in locals) == the complete one (``row.get``),
  for rows with absent columns, nulls, TOAST placeholders, wrong and unhashable values, given
  as dicts or (when complete) as ``ColumnRow``s read by attribute;
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
from streams.debezium_envelope import Envelope, EnvelopeReader, parse_envelope, parse_json
from streams.debezium_values import TOAST_PLACEHOLDER
from streams.mapping_spec import load_table_mapping
from streams.row_program import compile_row_program
from streams.table_mapping import RowMapper
from tests.unit.mapping.mapping_fixtures import base_row, envelope, fixture_bytes

pytestmark = pytest.mark.unit

MAPPER = RowMapper(load_table_mapping())
FAST = compile_row_program(MAPPER.field_plans)
BY_ATTRIBUTE = compile_row_program(MAPPER.field_plans, row_type=MAPPER.row_type)
COMPLETE = compile_row_program(MAPPER.field_plans, fast=False)
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
    first = _outcome(FAST, row)
    assert first == _outcome(COMPLETE, row)
    assert _outcome(BY_ATTRIBUTE, row) == first  # a dict row: the dict program
    column_row = _as_column_row(row)
    if column_row is not None:
        assert _outcome(BY_ATTRIBUTE, column_row) == first
        assert _outcome(COMPLETE, column_row) == first
    if twice:  # the second time the caches answer
        assert _outcome(FAST, row) == first
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
    fields = FAST(row)
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
