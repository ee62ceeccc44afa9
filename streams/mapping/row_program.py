"""A table's field plan compiled into one straight-line Python function. Pure, no I/O.

Mapping a row is the per-record hot path (``bench/bench_mapping.py``). A generic loop over the
fields spent about as long dispatching (unpacking the plan, branching on the field kind) as
converting, so, like ``dataclasses`` and fastjsonschema, the plan is turned into Python source
and compiled, once per table mapping and column-encodings signature (``RowMapper``). The
generated code only reads columns, branches and calls the field's own converters; names and
columns enter it as ``repr`` literals, never as code.

This is the one place the per-field rule is written; every row (plain or schema-wrapped
envelope, ``after`` or ``before`` image) is mapped by a program compiled here. Per field:

- absent column: left out, or ``InvalidRecord`` ("required") for a required field;
- ``None``: ``careful(None)`` (the enum default, ``None``, or "required");
- the TOAST placeholder: left out (unchanged);
- a value of ``cache_type``: its cached result, else ``convert`` (result remembered);
- anything else: ``fast(raw)``; on a step error or a ``None`` result the exact answer comes
  from ``careful(raw)``, or for a regional field from ``regional(row)(raw)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from streams.contracts import InvalidRecord
from streams.mapping.column_row import ColumnRow
from streams.mapping.column_values import TOAST_PLACEHOLDER

Convert = Callable[[object], object]
RowProgram = Callable[[Mapping[str, object]], dict[str, object]]

STEP_ERRORS = (ValueError, TypeError, ArithmeticError)
_ABSENT = object()


@dataclass(frozen=True)
class FieldPlan:
    """How one canonical field is read. ``fast`` may give up (step error or ``None``);
    ``careful`` never does (exact value or ``InvalidRecord``); ``convert`` is the field's whole
    converter (used to fill the cache); ``regional`` picks the converter for a row's region."""

    name: str
    column: str
    required: bool
    convert: Convert
    fast: Convert
    careful: Convert
    cache_type: type | None = None
    cache_limit: int = 1024
    regional: Callable[[Mapping[str, object]], Convert] | None = None


def _storing(cache: dict[object, object], limit: int) -> Callable[[object, object], None]:
    """``store(raw, value)`` into ``cache``, which starts over when full."""

    def store(raw: object, value: object) -> None:
        if len(cache) >= limit:
            cache.clear()
        cache[raw] = value

    return store


def _remembering(convert: Convert, store: Callable[[object, object], None]) -> Convert:
    """``convert`` that stores each result."""

    def remember(raw: object) -> object:
        value = convert(raw)
        store(raw, value)
        return value

    return remember


def _field_source(i: int, plan: FieldPlan) -> list[str]:
    name, column = repr(plan.name), repr(plan.column)
    lines = [f"raw = get({column}, ABSENT)"]
    if plan.cache_type is not None:
        lines += [
            f"if type(raw) is cache_type_{i}:",
            f"    value = cache_{i}.get(raw, ABSENT)",
            "    if value is not ABSENT:",
            f"        fields[{name}] = value",
            "    elif raw != TOAST:",
            f"        fields[{name}] = remember_{i}(raw)",
            "elif raw is ABSENT:",
        ]
    else:
        lines.append("if raw is ABSENT:")
    if plan.required:
        message = repr(f"column {plan.column} absent")
        lines.append(f"    raise InvalidRecord({name}, 'required', None, {message})")
    else:
        lines.append("    pass")
    fallback = f"regional_{i}(row)(raw)" if plan.regional is not None else f"careful_{i}(raw)"
    lines += [
        "elif raw is None:",
        f"    fields[{name}] = careful_{i}(None)",
        "elif raw != TOAST:",
        "    try:",
        f"        value = fast_{i}(raw)",
        "    except STEP_ERRORS:",
        "        value = None",
        f"    fields[{name}] = value if value is not None else {fallback}",
    ]
    return lines


_SKIP = object()  # "leave the field out" (TOAST placeholder), in the fast program


def _settling(
    plan: FieldPlan, remember: Callable[[object, object], None] | None
) -> Callable[[object, Mapping[str, object]], object]:
    """The fast program's slow lane for one field: ``settle(raw, row)`` gives the field's
    value, or ``_SKIP`` for the TOAST placeholder; ``InvalidRecord`` as the field says."""
    fast, careful, regional, cache_type = plan.fast, plan.careful, plan.regional, plan.cache_type
    convert = plan.convert

    def settle(raw: object, row: Mapping[str, object]) -> object:
        if raw is None:
            value = careful(None)
            if remember is not None:
                remember(None, value)
            return value
        if raw == TOAST_PLACEHOLDER:
            return _SKIP
        if remember is not None and type(raw) is cache_type:
            value = convert(raw)
            remember(raw, value)
            return value
        if regional is not None:
            value = _try(fast, raw)
            return value if value is not None else regional(row)(raw)
        return careful(raw)

    return settle


def _try(convert: Convert, raw: object) -> object:
    try:
        return convert(raw)
    except STEP_ERRORS:
        return None


def _fast_field_source(i: int, plan: FieldPlan, read: str) -> list[str]:
    """The fast program's lines for one field; ``read`` is the expression giving its raw value
    (a ``ColumnRow`` attribute)."""
    settle = [f"v{i} = settle_{i}(raw, row)", f"if v{i} is SKIP:", "    skipped = True"]
    lines = [f"raw = {read}"]
    if plan.cache_type is str:  # no other type's values equal a str: no type check needed
        lines += [f"v{i} = cache_{i}.get(raw, ABSENT)", f"if v{i} is ABSENT:"]
        return lines + [f"    {line}" for line in settle]
    if plan.cache_type is not None:
        lines += [
            f"if type(raw) is cache_type_{i}:",
            f"    v{i} = cache_{i}.get(raw, ABSENT)",
            f"    if v{i} is ABSENT:",
            *(f"        {line}" for line in settle),
            "else:",
        ]
        return lines + [f"    {line}" for line in settle]
    lines += [
        "if raw is None or raw == TOAST:",
        *(f"    {line}" for line in settle),
        "else:",
        "    try:",
        f"        v{i} = fast_{i}(raw)",
        "    except STEP_ERRORS:",
        f"        v{i} = None",
        f"    if v{i} is None:",
    ]
    return lines + [f"        {line}" for line in settle]


def _fast_source(
    name: str, lines: list[str], plans: tuple[FieldPlan, ...], caught: str, guard: list[str]
) -> list[str]:
    """A fast program: ``guard`` lines first, the field ``lines``, falling back to the complete
    program on the ``caught`` exceptions, the result built at once."""
    result = ", ".join(f"{plan.name!r}: v{i}" for i, plan in enumerate(plans))
    return (
        [f"def {name}(row):", *guard, "    skipped = False", "    try:"]
        + [f"        {line}" for line in lines]
        + [f"    except {caught}:", "        return map_row_complete(row)"]
        + [f"    fields = {{{result}}}", "    if skipped:"]
        + ["        return {k: v for k, v in fields.items() if v is not SKIP}", "    return fields"]
    )


def compile_row_program(
    plans: tuple[FieldPlan, ...], *, row_type: type[ColumnRow] | None = None
) -> RowProgram:
    """One function ``row -> canonical fields`` for these field plans (see module docstring).
    It raises ``InvalidRecord`` only (from the fields' own converters or a missing column).

    The complete program reads any ``Mapping`` with ``row.get``. With ``row_type`` (a
    ``ColumnRow`` type holding every planned column) the returned function is a fast one for
    rows of that type (every column present, read by attribute, values kept in locals, the
    result built in one step); any other row, and a row with an unhashable value, goes to the
    complete one. ``tests/unit/mapping/test_mapping_fast_paths.py`` pins the two together."""
    namespace: dict[str, object] = {
        "ABSENT": _ABSENT,
        "SKIP": _SKIP,
        "TOAST": TOAST_PLACEHOLDER,
        "STEP_ERRORS": STEP_ERRORS,
        "InvalidRecord": InvalidRecord,
    }
    complete: list[str] = []
    by_attribute: list[str] = []
    for i, plan in enumerate(plans):
        namespace[f"fast_{i}"] = plan.fast
        namespace[f"careful_{i}"] = plan.careful
        namespace[f"regional_{i}"] = plan.regional
        store = None
        if plan.cache_type is not None:
            cache: dict[object, object] = {}
            store = _storing(cache, plan.cache_limit)
            namespace[f"cache_type_{i}"] = plan.cache_type
            namespace[f"cache_{i}"] = cache
            namespace[f"remember_{i}"] = _remembering(plan.convert, store)
        namespace[f"settle_{i}"] = _settling(plan, store)
        complete += _field_source(i, plan)
        if row_type is not None:
            attribute = row_type.ATTRIBUTES[plan.column]
            assert attribute.isidentifier()
            by_attribute += _fast_field_source(i, plan, f"row.{attribute}")
    lines = ["def map_row_complete(row):", "    fields = {}", "    get = row.get"]
    lines += [f"    {line}" for line in complete] + ["    return fields", ""]
    if row_type is not None:  # a complete ColumnRow: no KeyError possible
        namespace["ROW_TYPE"] = row_type
        guard = ["    if type(row) is not ROW_TYPE:", "        return map_row_complete(row)"]
        lines += _fast_source("map_column_row", by_attribute, plans, "TypeError", guard)
    source = "\n".join(lines)
    exec(compile(source, "<cdcbridge row program>", "exec"), namespace)  # noqa: S102
    program = namespace["map_row_complete" if row_type is None else "map_column_row"]
    assert callable(program)
    program.__doc__ = source  # the generated code, for debugging
    return program
