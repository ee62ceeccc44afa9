"""A table mapping compiled once into plain functions: a Debezium row -> canonical fields.

Pure, no I/O. Each field becomes one ``convert(raw)`` closure (decode the Debezium encoding,
then the normalisers, then the enum) built at load time, so mapping a row is one loop.
Every failure is an ``InvalidRecord`` naming the canonical field, the rule and the raw value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from streams.contracts import InvalidRecord
from streams.debezium_values import TOAST_PLACEHOLDER, decoder_for
from streams.mapping_spec import FieldRule, TableMapping
from streams.normalise import ISO_3166_ALPHA2, normaliser_for

Convert = Callable[[object], object]

# Column -> (encoding, scale) read from a schema-wrapped envelope; it wins over the file.
ColumnEncodings = Mapping[str, tuple[str, int | None]]

_STEP_ERRORS = (ValueError, TypeError, ArithmeticError)
_ABSENT = object()
_TEXT_CHECKING = frozenset({"trim", "lower", "upper", "email", "e164", "country_alpha2", "domain"})


@dataclass(frozen=True, slots=True)
class CompiledField:
    name: str
    column: str
    encoding: tuple[str, int | None]
    convert: Convert
    required: bool
    region_column: str | None


def _chain(steps: list[Convert]) -> Convert:
    """One function applying ``steps`` in order, without a per-value loop (hot path)."""
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


def compile_field(
    rule: FieldRule, encoding: str, scale: int | None, region: str | None = None
) -> Convert:
    """Build the converter for one field with the given column encoding (and phone region).

    The fast path runs the whole chain at once; on any step error (or a null produced midway,
    e.g. by ``empty_to_null``) the careful path re-runs it step by step to give the exact
    result, or an ``InvalidRecord`` naming the failing step."""
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
    fast = _chain(fast_steps)

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

    def convert(raw: object) -> object:
        if raw is None:
            return careful(raw)
        try:
            value = fast(raw)
        except _STEP_ERRORS:
            return careful(raw)
        return careful(raw) if value is None else value

    return convert


class RowMapper:
    """Maps the ``after``/``before`` row of one table to canonical fields."""

    def __init__(self, mapping: TableMapping) -> None:
        self.mapping = mapping
        self.__rules = {rule.name: rule for rule in mapping.fields}
        self.__fields = tuple(
            CompiledField(
                r.name,
                r.column,
                (r.encoding, r.scale),
                compile_field(r, r.encoding, r.scale),
                r.required,
                r.region_column,
            )
            for r in mapping.fields
        )
        self.__variants: dict[tuple[str, str, int | None, str | None], Convert] = {}
        self.__by_country: dict[tuple[str, str | None], Convert] = {}
        self.__email = next((f for f in self.__fields if f.name == "email"), None)
        self.email_column = self.__email.column if self.__email is not None else None

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
            if encodings is None and field.region_column is None:
                fields[field.name] = field.convert(raw)
            elif encodings is None:
                fields[field.name] = self.__regional(field, row)(raw)
            else:
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
        if row is None or self.mapping.primary_key not in row:
            return None
        value = row[self.mapping.primary_key]
        if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
            raise InvalidRecord("source_id", "primary_key", value, "primary key must be set")
        return str(value)
