"""A table mapping compiled once into plain functions: a Debezium row -> canonical fields.

Pure, no I/O. Each field becomes one ``convert(raw)`` closure (decode the Debezium encoding,
then the normalisers, then the enum) built at load time, so mapping a row is one loop.
Every failure is an ``InvalidRecord`` naming the canonical field, the rule and the raw value.
Repetitive text/boolean columns keep a small raw value -> result cache (see ``_cache_type``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from streams.contracts import InvalidRecord
from streams.mapping.column_row import column_row_type
from streams.mapping.column_values import TOAST_PLACEHOLDER, decoder_for
from streams.mapping.envelope import ColumnEncodings
from streams.mapping.normalisers import INTERNATIONAL_ONLY, ISO_3166_ALPHA2, normaliser_for
from streams.mapping.row_program import FieldPlan, RowProgram, compile_row_program
from streams.mapping.table_mapping import FieldRule, TableMapping

Convert = Callable[[object], object]

_STEP_ERRORS = (ValueError, TypeError, ArithmeticError)
_ABSENT = object()
_TEXT_CHECKING = frozenset({"trim", "lower", "upper", "email", "e164", "country_alpha2", "domain"})
_CONTEXT_FREE_TEXT = frozenset({"trim", "lower", "upper", "empty_to_null", "country_alpha2"})
_CACHE_LIMIT = 1024  # distinct raw values kept per field; the cache starts over when full
_DATE_CACHE_LIMIT = 32768  # ~90 years of distinct days


@dataclass(frozen=True, slots=True)
class CompiledField:
    """``convert`` is the field's converter. ``fast``/``careful`` are its two halves (see
    ``_compile``): ``fast(raw)`` is exact when it returns non-null without a step error."""

    name: str
    column: str
    encoding: tuple[str, int | None]
    convert: Convert
    required: bool
    region_column: str | None
    fast: Convert
    careful: Convert


def _chain(steps: list[Convert]) -> Convert:
    """One function applying ``steps`` in order; up to three are called in one frame."""
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        a, b = steps
        return lambda value: b(a(value))
    if len(steps) == 3:
        a, b, c = steps
        return lambda value: c(b(a(value)))
    a, rest = steps[0], _chain(steps[1:])
    return lambda value: rest(a(value))


def _with_fallback(fast_steps: list[Convert], careful: Convert) -> Convert:
    """``careful(raw)`` unless the fast chain gives a non-null result without a step error.
    Chains of up to three steps are called inline (one Python frame per value, hot path)."""
    if len(fast_steps) == 1:
        (a,) = fast_steps

        def convert1(raw: object) -> object:
            if raw is not None:
                try:
                    value = a(raw)
                except _STEP_ERRORS:
                    return careful(raw)
                if value is not None:
                    return value
            return careful(raw)

        return convert1
    if len(fast_steps) == 2:
        a, b = fast_steps

        def convert2(raw: object) -> object:
            if raw is not None:
                try:
                    value = b(a(raw))
                except _STEP_ERRORS:
                    return careful(raw)
                if value is not None:
                    return value
            return careful(raw)

        return convert2
    if len(fast_steps) == 3:
        a, b, c = fast_steps

        def convert3(raw: object) -> object:
            if raw is not None:
                try:
                    value = c(b(a(raw)))
                except _STEP_ERRORS:
                    return careful(raw)
                if value is not None:
                    return value
            return careful(raw)

        return convert3
    return _with_fallback([_chain(fast_steps)], careful)


def compile_field(
    rule: FieldRule, encoding: str, scale: int | None, region: str | None = None
) -> Convert:
    """Build the converter for one field with the given column encoding (and phone region).

    The fast path runs the whole chain at once; on any step error (or a null produced midway,
    e.g. by ``empty_to_null``) the careful path re-runs it step by step to give the exact
    result, or an ``InvalidRecord`` naming the failing step."""
    return _compile(rule, encoding, scale, region)[0]


def _compile(
    rule: FieldRule, encoding: str, scale: int | None, region: str | None = None
) -> tuple[Convert, Convert, Convert]:
    """``(convert, fast, careful)`` for ``compile_field``. ``fast`` is the bare chain (it may
    raise a step error or give ``None``; callers then ask ``careful``)."""
    steps: list[tuple[str, Convert]] = [(f"encoding:{encoding}", decoder_for(encoding, scale))]
    region = region or rule.default_region
    steps += [(n, normaliser_for(n, region)) for n in rule.normalise]
    enum = rule.enum
    if enum is not None:
        table, default = dict(enum.map), enum.default

        def to_enum(value: object) -> object:
            return table.get(value, default) if isinstance(value, str) else default

        steps.append(("enum", to_enum))
    null_value = enum.default if enum is not None else None
    name, column, required = rule.name, rule.column, rule.required
    # Text normalisers check the type themselves: the plain string decoder adds nothing there.
    fast_steps = [step for _, step in steps]
    if encoding == "string" and rule.normalise and rule.normalise[0] in _TEXT_CHECKING:
        fast_steps = fast_steps[1:]

    def careful(raw: object) -> object:
        value = raw
        for step_name, step in steps:
            if value is None:
                break
            try:
                value = step(value)
            except _STEP_ERRORS as exc:
                raise InvalidRecord(
                    name, step_name, raw, f"{name} (column {column}): {step_name}: {exc}"
                ) from exc
        if value is None:
            if required:
                raise InvalidRecord(name, "required", raw, f"{name} (column {column}) is null")
            return null_value
        return value

    return _with_fallback(fast_steps, careful), _chain(fast_steps), careful


def _cache_of(rule: FieldRule) -> tuple[type | None, int]:
    """The raw type whose results are cached for this field (``None``: no cache), and how many
    distinct raw values the cache keeps before it starts over.

    Text columns with only cheap, context-free normalisers and/or an enum (names, stages,
    plans, countries) repeat their raw values a lot; so do booleans and dates (days since the
    epoch: a few tens of thousands of birthdays). Their results are immutable (``str``,
    ``bool``, ``None``), so a raw value -> result cache is exact. Emails, phones
    (region-dependent), decimals, timestamps and JSON are left out."""
    if rule.region_column is not None:
        return None, 0
    if rule.encoding == "boolean" and not rule.normalise and rule.enum is None:
        return bool, _CACHE_LIMIT
    if rule.encoding == "date_days" and not rule.normalise and rule.enum is None:
        return int, _DATE_CACHE_LIMIT
    textual = rule.normalise or rule.enum is not None
    if rule.encoding == "string" and textual and set(rule.normalise) <= _CONTEXT_FREE_TEXT:
        return str, _CACHE_LIMIT
    return None, 0


class RowMapper:
    """Maps the ``after``/``before`` row of one table to canonical fields."""

    def __init__(self, mapping: TableMapping) -> None:
        self.mapping = mapping
        self.__rules = {rule.name: rule for rule in mapping.fields}
        compiled = []
        for r in mapping.fields:
            convert, fast, careful = _compile(r, r.encoding, r.scale)
            encoding = (r.encoding, r.scale)
            compiled.append(
                CompiledField(
                    r.name, r.column, encoding, convert, r.required, r.region_column, fast, careful
                )
            )
        self.__fields = tuple(compiled)
        self.field_plans = tuple(
            self.__plan_of(f, r) for f, r in zip(self.__fields, mapping.fields, strict=True)
        )
        # Every column the mapping reads from an ``after`` image (key, fields, regions).
        columns = [mapping.primary_key] + [f.column for f in mapping.fields]
        columns += [f.region_column for f in mapping.fields if f.region_column is not None]
        self.row_type = column_row_type(columns, f"{mapping.name.title()}Row")
        self.__key_of_row = operator.attrgetter(self.row_type.ATTRIBUTES[mapping.primary_key])
        # ``map_row`` for plain envelopes (the file's encodings), without the extra call.
        self.map_plain_row: RowProgram = compile_row_program(
            self.field_plans, row_type=self.row_type
        )
        self.__variants: dict[tuple[str, str, int | None, str | None], Convert] = {}
        self.__by_country: dict[tuple[str, str | None], Convert] = {}
        self.__email = next((f for f in self.__fields if f.name == "email"), None)
        self.email_column = self.__email.column if self.__email is not None else None
        # The columns read from a ``before`` image: the key (deletes) and the email (changes).
        self.before_columns = (mapping.primary_key,) + (
            (self.email_column,) if self.email_column is not None else ()
        )

    def __converter(
        self,
        field: CompiledField,
        encodings: ColumnEncodings | None,
        row: Mapping[str, object],
    ) -> Convert:
        wanted = (
            field.encoding if encodings is None else encodings.get(field.column, field.encoding)
        )
        if wanted[1] is None:  # a scale the schema does not give comes from the file
            wanted = (wanted[0], field.encoding[1])
        region = None
        if field.region_column is not None:
            country = row.get(field.region_column)
            if isinstance(country, str) and country.strip().upper() in ISO_3166_ALPHA2:
                region = country.strip().upper()
        if wanted == field.encoding and region is None:
            return field.convert
        key = (field.name, wanted[0], wanted[1], region)
        convert = self.__variants.get(key)
        if convert is None:
            try:
                convert = compile_field(self.__rules[field.name], wanted[0], wanted[1], region)
            except ValueError as exc:
                raise InvalidRecord(field.name, "encoding", wanted[0], str(exc)) from exc
            self.__variants[key] = convert
        return convert

    def __regional(self, field: CompiledField, row: Mapping[str, object]) -> Convert:
        """The converter for the row's country (cached by the raw country value)."""
        assert field.region_column is not None
        country = row.get(field.region_column)
        key = (field.name, country if isinstance(country, str) else None)
        convert = self.__by_country.get(key)
        if convert is None:
            convert = self.__converter(field, None, row)
            if len(self.__by_country) < 4096:
                self.__by_country[key] = convert
        return convert

    def map_row(
        self, row: Mapping[str, object], encodings: ColumnEncodings | None = None
    ) -> dict[str, object]:
        """Canonical fields this row sets. Absent columns and TOAST placeholders are left out
        (unchanged); nulls are kept (cleared). Raises ``InvalidRecord``."""
        if encodings is not None:
            return self.__map_with_encodings(row, encodings)
        return self.map_plain_row(row)

    def __plan_of(self, field: CompiledField, rule: FieldRule) -> FieldPlan:
        cache_type, cache_limit = _cache_of(rule)
        fast, regional = field.fast, None
        if field.region_column is not None:
            # The region matters only for national numbers: try without it first.
            fast = _compile(rule, rule.encoding, rule.scale, INTERNATIONAL_ONLY)[1]

            def regional(row: Mapping[str, object]) -> Convert:
                return self.__regional(field, row)

        return FieldPlan(
            field.name,
            field.column,
            field.required,
            field.convert,
            fast,
            field.careful,
            cache_type,
            cache_limit,
            regional,
        )

    def __map_with_encodings(
        self, row: Mapping[str, object], encodings: ColumnEncodings
    ) -> dict[str, object]:
        """``map_row`` for a schema-wrapped envelope: encodings may differ per column."""
        fields: dict[str, object] = {}
        for field in self.__fields:
            raw = row.get(field.column, _ABSENT)
            if raw is _ABSENT:
                if field.required:
                    raise InvalidRecord(
                        field.name, "required", None, f"column {field.column} absent"
                    )
                continue
            if raw == TOAST_PLACEHOLDER:
                continue
            fields[field.name] = self.__converter(field, encodings, row)(raw)
        return fields

    def email_of(
        self, row: Mapping[str, object], encodings: ColumnEncodings | None = None
    ) -> str | None:
        """The normalised email of a row, or ``None`` when absent, TOASTed or unusable."""
        field = self.__email
        if field is None:
            return None
        raw = row.get(field.column)
        if raw is None or raw == TOAST_PLACEHOLDER:
            return None
        try:
            value = self.__converter(field, encodings, row)(raw)
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
