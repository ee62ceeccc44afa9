"""A table mapping compiled into row programs: a Debezium row -> canonical fields. Pure, no I/O.

Every row goes through a program from ``streams.mapping.row_program`` (the one place the
per-field rule is written): one program per column-encodings signature, compiled the first time
the signature is seen and cached (the file's own encodings for plain envelopes; what a
schema-wrapped envelope's Connect schema says, column by column, otherwise). The email of a
``before`` image goes through a one-field program of the same kind. Every failure is an
``InvalidRecord`` naming the canonical field, the rule and the raw value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping

from streams.contracts import COMPANY_LINK, InvalidRecord
from streams.mapping.column_row import column_row_type
from streams.mapping.compiled_field import Convert, cache_of, compile_field
from streams.mapping.envelope import ColumnEncodings
from streams.mapping.normalisers import INTERNATIONAL_ONLY, ISO_3166_ALPHA2
from streams.mapping.row_program import FieldPlan, RowProgram, compile_row_program
from streams.mapping.table_mapping import FieldRule, TableMapping

Encoding = tuple[str, int | None]
Signature = tuple[Encoding, ...]
"""The (encoding, scale) each mapped field is read with, in the mapping's field order."""

_ABSENT = object()
_PROGRAM_LIMIT = 64  # distinct encodings signatures kept; the cache starts over when full
_COUNTRY_LIMIT = 4096  # distinct raw country values remembered per regional field


def _failing(error: InvalidRecord) -> Convert:
    """A converter that raises ``error`` (a field whose encoding has no decoder: the row fails
    only when it carries a value of that column, as with any other bad value)."""

    def fail(_raw: object) -> object:
        raise error

    return fail


class RowMapper:
    """Maps the ``after``/``before`` row of one table to canonical fields."""

    def __init__(self, mapping: TableMapping) -> None:
        self.mapping = mapping
        self.__rules = mapping.fields
        self.__file_signature: Signature = tuple((r.encoding, r.scale) for r in mapping.fields)
        # Every column the mapping reads from an ``after`` image (key, fields, regions).
        columns = [mapping.primary_key] + [f.column for f in mapping.fields]
        columns += [f.region_column for f in mapping.fields if f.region_column is not None]
        self.row_type = column_row_type(columns, f"{mapping.name.title()}Row")
        self.__key_of_row = operator.attrgetter(self.row_type.ATTRIBUTES[mapping.primary_key])
        self.field_plans = self.__plans(self.__file_signature)
        # Plain envelopes (the file's encodings): rows arrive as ``row_type`` when complete.
        self.map_plain_row: RowProgram = compile_row_program(
            self.field_plans, row_type=self.row_type
        )
        self.__programs: dict[Signature, RowProgram] = {}
        self.__email_index = next(
            (i for i, r in enumerate(mapping.fields) if r.name == "email"), None
        )
        self.__email_programs: dict[Encoding, RowProgram] = {}
        self.email_column = (
            None if self.__email_index is None else mapping.fields[self.__email_index].column
        )
        # The column of the company link (``COMPANY_LINK``), when the table has one.
        self.link_column = next((r.column for r in mapping.fields if r.name == COMPANY_LINK), None)
        # The columns read from a ``before`` image: the key (deletes), the email (changes) and
        # the company link (whether the row was linked before: ``CustomerUpsert.linked_before``).
        self.before_columns = tuple(
            c for c in (mapping.primary_key, self.email_column, self.link_column) if c is not None
        )

    def map_row(
        self, row: Mapping[str, object], encodings: ColumnEncodings | None = None
    ) -> dict[str, object]:
        """Canonical fields this row sets. Absent columns and TOAST placeholders are left out
        (unchanged); nulls are kept (cleared). ``encodings`` (from a schema-wrapped envelope)
        win over the file's, column by column. Raises ``InvalidRecord``."""
        if encodings is None:
            return self.map_plain_row(row)
        signature = self.__signature(encodings)
        if signature == self.__file_signature:
            return self.map_plain_row(row)
        program = self.__programs.get(signature)
        if program is None:
            if len(self.__programs) >= _PROGRAM_LIMIT:
                self.__programs.clear()
            program = compile_row_program(self.__plans(signature))
            self.__programs[signature] = program
        return program(row)

    def email_of(
        self, row: Mapping[str, object], encodings: ColumnEncodings | None = None
    ) -> str | None:
        """The normalised email of a row, or ``None`` when absent, TOASTed or unusable: the
        email field's own program (the same rule as ``map_row``), its ``InvalidRecord`` read as
        "no email"."""
        index = self.__email_index
        if index is None:
            return None
        encoding = (
            self.__file_signature[index]
            if encodings is None
            else self.__signature(encodings)[index]
        )
        program = self.__email_programs.get(encoding)
        if program is None:
            program = compile_row_program((self.__plan(self.__rules[index], encoding),))
            self.__email_programs[encoding] = program
        try:
            value = program(row).get("email")
        except InvalidRecord:
            return None
        return value if isinstance(value, str) else None

    def source_id(self, row: Mapping[str, object] | None) -> str | None:
        """The primary key of a row as a string, or ``None`` if the row does not carry it.
        Raises ``InvalidRecord`` for a key of the wrong type."""
        if row is None:
            return None
        if isinstance(row, self.row_type):  # (complete: it holds the key)
            value = self.__key_of_row(row)
        else:
            value = row.get(self.mapping.primary_key, _ABSENT)
            if value is _ABSENT:
                return None
        if type(value) is int:  # the common case, checked below otherwise
            return str(value)
        if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
            raise InvalidRecord("source_id", "primary_key", value, "primary key must be set")
        return str(value)

    def __signature(self, encodings: ColumnEncodings) -> Signature:
        """The encoding of each field: the envelope's for its column, else the file's; a scale
        the schema does not give comes from the file."""
        wanted: list[Encoding] = []
        for rule, own in zip(self.__rules, self.__file_signature, strict=True):
            encoding = encodings.get(rule.column, own)
            wanted.append(encoding if encoding[1] is not None else (encoding[0], own[1]))
        return tuple(wanted)

    def __plans(self, signature: Signature) -> tuple[FieldPlan, ...]:
        return tuple(
            self.__plan(rule, encoding)
            for rule, encoding in zip(self.__rules, signature, strict=True)
        )

    def __plan(self, rule: FieldRule, encoding: Encoding) -> FieldPlan:
        name, scale = encoding
        try:
            field = compile_field(rule, name, scale)
        except ValueError as exc:
            fail = _failing(InvalidRecord(rule.name, "encoding", name, str(exc)))
            return FieldPlan(rule.name, rule.column, rule.required, fail, fail, fail)
        cache_type, cache_limit = cache_of(rule, name)
        fast, regional = field.fast, None
        if rule.region_column is not None:
            # The region matters only for national numbers: try without it first.
            fast = compile_field(rule, name, scale, INTERNATIONAL_ONLY).fast
            regional = _regional(rule, encoding, field.convert)
        return FieldPlan(
            rule.name,
            rule.column,
            rule.required,
            field.convert,
            fast,
            field.careful,
            cache_type,
            cache_limit,
            regional,
        )


def _regional(
    rule: FieldRule, encoding: Encoding, default: Convert
) -> Callable[[Mapping[str, object]], Convert]:
    """``regional(row)``: the field's converter for the row's country (an ISO 3166 code in
    ``rule.region_column``), else ``default`` (the file's default region). Converters are
    compiled once per region and remembered per raw country value."""
    assert rule.region_column is not None
    column = rule.region_column
    by_region: dict[str, Convert] = {}
    by_country: dict[str | None, Convert] = {}

    def regional(row: Mapping[str, object]) -> Convert:
        country = row.get(column)
        key = country if isinstance(country, str) else None
        convert = by_country.get(key)
        if convert is None:
            region = key.strip().upper() if key is not None else None
            if region is not None and region in ISO_3166_ALPHA2:
                convert = by_region.get(region)
                if convert is None:
                    convert = compile_field(rule, encoding[0], encoding[1], region).convert
                    by_region[region] = convert
            else:
                convert = default
            if len(by_country) < _COUNTRY_LIMIT:
                by_country[key] = convert
        return convert

    return regional
