"""The decoding hot paths give exactly what the checking paths give.

- the fast row program (row indexed, values in locals) == the complete one (``row.get``),
  for rows with absent columns, nulls, TOAST placeholders, wrong and unhashable values;
- ``EnvelopeReader.read`` (typed msgspec decode) == ``parse_envelope(parse_json(...))`` for
  envelopes with missing or mistyped parts, schema-wrapped ones and non-JSON input, except
  that its ``before`` image carries only the key and email columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mapping_fixtures import base_row, envelope, fixture_bytes

from streams.contracts import InvalidRecord
from streams.debezium_envelope import Envelope, EnvelopeReader, parse_envelope, parse_json
from streams.debezium_values import TOAST_PLACEHOLDER
from streams.mapping_spec import load_table_mapping
from streams.row_program import compile_row_program
from streams.table_mapping import RowMapper

pytestmark = pytest.mark.unit

MAPPER = RowMapper(load_table_mapping())
FAST = compile_row_program(MAPPER.field_plans)
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


@PROPS
@given(edits, st.booleans())
def test_fast_row_program_equals_the_complete_one(changes: dict[str, object], twice: bool) -> None:
    row = base_row()
    for column, value in changes.items():
        if value == "absent":
            row.pop(column, None)
        else:
            row[column] = value
    first = _outcome(FAST, row)
    assert first == _outcome(COMPLETE, row)
    if twice:  # the second time the caches answer
        assert _outcome(FAST, row) == first


def test_fast_row_program_leaves_toast_out_and_keeps_nulls() -> None:
    row = base_row(notes=TOAST_PLACEHOLDER, plan=TOAST_PLACEHOLDER, phone=None, attributes=None)
    fields = FAST(row)
    assert "plan" not in fields
    assert fields["phone"] is None and fields["attributes"] is None
    assert fields == COMPLETE(row)


READER = EnvelopeReader(MAPPER.before_columns)


def _read_both(value: bytes) -> tuple[object, object]:
    def checked() -> object:
        try:
            return parse_envelope(parse_json(value, "value"))
        except InvalidRecord as exc:
            return ("invalid", exc.field, exc.rule)

    try:
        fast: object = READER.read(value)
    except InvalidRecord as exc:
        fast = ("invalid", exc.field, exc.rule)
    return fast, checked()


def _read_columns(row: Mapping[str, object] | None) -> dict[str, object] | None:
    """What the decoder reads from a ``before`` image."""
    keys = MAPPER.before_columns
    return None if row is None else {k: v for k, v in row.items() if k in keys}


def _same(fast: object, checked: object) -> bool:
    if not isinstance(fast, Envelope) or not isinstance(checked, Envelope):
        return fast == checked
    return msgspec.structs.replace(
        fast, before=_read_columns(fast.before)
    ) == msgspec.structs.replace(checked, before=_read_columns(checked.before))


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
@given(envelope_edits, source_edits, st.sampled_from(["c", "u", "d", "r"]))
def test_envelope_reader_equals_the_checking_path(
    changes: dict[str, object], source_changes: dict[str, object], op: str
) -> None:
    doc = json.loads(envelope(base_row(), before=base_row(email="old@example.com"), op=op))
    for where, edits_here in ((doc, changes), (doc["source"], source_changes)):
        for name, value in edits_here.items():
            if value == "absent":
                where.pop(name, None)
            else:
                where[name] = value
    fast, checked = _read_both(json.dumps(doc).encode())
    assert _same(fast, checked), (fast, checked)


@pytest.mark.parametrize(
    "value",
    [b"null", b"{", b"[]", b'"text"', b"{}", fixture_bytes("create"), fixture_bytes("delete")],
)
def test_envelope_reader_on_odd_and_fixture_values(value: bytes) -> None:
    fast, checked = _read_both(value)
    assert _same(fast, checked), (fast, checked)
