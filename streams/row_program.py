"""A table's field plan compiled into one straight-line Python function. Pure, no I/O.

Mapping a row is the per-record hot path (``bench/bench_mapping.py``). A generic loop over the
fields spent about as long dispatching (unpacking the plan, branching on the field kind) as
converting, so, like ``dataclasses`` and fastjsonschema, the plan is turned into Python source
once per table mapping and compiled. The generated code only reads columns, branches and calls
the field's own converters; names and columns enter it as ``repr`` literals, never as code.

Semantics per field (the same as ``RowMapper.map_row`` documents):

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
from streams.debezium_values import TOAST_PLACEHOLDER

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


def _remembering(convert: Convert, cache: dict[object, object], limit: int) -> Convert:
    """``convert`` that stores each result in ``cache`` (which starts over when full)."""

    def remember(raw: object) -> object:
        value = convert(raw)
        if len(cache) >= limit:
            cache.clear()
        cache[raw] = value
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


def compile_row_program(plans: tuple[FieldPlan, ...]) -> RowProgram:
    """One function ``row -> canonical fields`` for these field plans (see module docstring).
    It raises ``InvalidRecord`` only (from the fields' own converters or a missing column)."""
    namespace: dict[str, object] = {
        "ABSENT": _ABSENT,
        "TOAST": TOAST_PLACEHOLDER,
        "STEP_ERRORS": STEP_ERRORS,
        "InvalidRecord": InvalidRecord,
    }
    body: list[str] = []
    for i, plan in enumerate(plans):
        namespace[f"fast_{i}"] = plan.fast
        namespace[f"careful_{i}"] = plan.careful
        namespace[f"regional_{i}"] = plan.regional
        if plan.cache_type is not None:
            cache: dict[object, object] = {}
            namespace[f"cache_type_{i}"] = plan.cache_type
            namespace[f"cache_{i}"] = cache
            namespace[f"remember_{i}"] = _remembering(plan.convert, cache, plan.cache_limit)
        body += _field_source(i, plan)
    source = "\n".join(
        ["def map_row(row):", "    fields = {}", "    get = row.get"]
        + [f"    {line}" for line in body]
        + ["    return fields"]
    )
    exec(compile(source, "<cdcbridge row program>", "exec"), namespace)  # noqa: S102
    program = namespace["map_row"]
    assert callable(program)
    program.__doc__ = source  # the generated code, for debugging
    return program
