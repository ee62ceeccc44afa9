"""One canonical field compiled into plain functions: raw column value -> canonical value.

Pure, no I/O. Each field becomes closures built at load time (decode the Debezium encoding, then
the normalisers, then the enum). Every failure is an ``InvalidRecord`` naming the canonical
field, the rule and the raw value; ``cache_of`` says which fields' results may be cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streams.contracts import InvalidRecord
from streams.mapping.column_values import decoder_for
from streams.mapping.normalisers import normaliser_for
from streams.mapping.table_mapping import FieldRule

Convert = Callable[[object], object]

_STEP_ERRORS = (ValueError, TypeError, ArithmeticError)
_TEXT_CHECKING = frozenset({"trim", "lower", "upper", "email", "e164", "country_alpha2", "domain"})
_CONTEXT_FREE_TEXT = frozenset({"trim", "lower", "upper", "empty_to_null", "country_alpha2"})
_CACHE_LIMIT = 1024  # distinct raw values kept per field; the cache starts over when full
_DATE_CACHE_LIMIT = 32768  # ~90 years of distinct days


@dataclass(frozen=True, slots=True)
class CompiledField:
    """``convert`` is the field's converter. ``fast``/``careful`` are its two halves:
    ``fast(raw)`` is exact when it returns non-null without a step error (else it may raise a
    step error or give ``None``: ask ``careful``, which gives the exact value or raises
    ``InvalidRecord``)."""

    convert: Convert
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
) -> CompiledField:
    """Build the converters of one field with the given column encoding (and phone region).
    Raises ``ValueError`` for an encoding that has no decoder.

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

    return CompiledField(_with_fallback(fast_steps, careful), _chain(fast_steps), careful)


def cache_of(rule: FieldRule, encoding: str) -> tuple[type | None, int]:
    """The raw type whose results are cached for this field read with ``encoding`` (``None``:
    no cache), and how many
    distinct raw values the cache keeps before it starts over.

    Text columns with only cheap, context-free normalisers and/or an enum (names, stages,
    plans, countries) repeat their raw values a lot; so do booleans and dates (days since the
    epoch: a few tens of thousands of birthdays). Their results are immutable (``str``,
    ``bool``, ``None``), so a raw value -> result cache is exact. Emails, phones
    (region-dependent), decimals, timestamps and JSON are left out."""
    if rule.region_column is not None:
        return None, 0
    if encoding == "boolean" and not rule.normalise and rule.enum is None:
        return bool, _CACHE_LIMIT
    if encoding == "date_days" and not rule.normalise and rule.enum is None:
        return int, _DATE_CACHE_LIMIT
    textual = rule.normalise or rule.enum is not None
    if encoding == "string" and textual and set(rule.normalise) <= _CONTEXT_FREE_TEXT:
        return str, _CACHE_LIMIT
    return None, 0
