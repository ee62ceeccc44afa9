"""Row images decoded straight into the columns a table mapping reads. Pure, no I/O.

Decoding a Debezium ``after`` image into a dict makes a new key string per column per record
(and hashes it); a msgspec Struct with one field per mapped column skips that, and skips the
columns nobody maps (``bench/bench_mapping.py``). ``column_row_type(columns)`` builds such a
Struct type, its values are the JSON values as they came. By default every column is required
(an image without one of them is not decoded this way, so the row is complete); with
``required=False`` an absent column holds ``msgspec.UNSET`` and reads as absent.

A ``ColumnRow`` is a read-only ``Mapping`` of column name -> value (registered as one), so
code that takes a row works with both; the generated row program (``streams.mapping.row_program``)
reads its attributes directly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import msgspec


class ColumnRow(msgspec.Struct, frozen=True, gc=False):
    """Base of the generated row types (no fields of its own). ``ATTRIBUTES`` maps each column
    to its attribute name. Values are JSON scalars, lists and dicts: no cycles, so instances
    are not tracked by the garbage collector."""

    ATTRIBUTES: ClassVar[Mapping[str, str]] = {}

    def get(self, column: str, default: object = None) -> object:
        attribute = self.ATTRIBUTES.get(column)
        if attribute is None:
            return default
        value = getattr(self, attribute)
        return default if value is _UNSET else value

    def __getitem__(self, column: str) -> object:
        value = self.get(column, _UNSET)
        if value is _UNSET:
            raise KeyError(column)
        return value

    def __contains__(self, column: object) -> bool:
        return isinstance(column, str) and self.get(column, _UNSET) is not _UNSET

    def items(self) -> Iterator[tuple[str, object]]:
        pairs = ((column, getattr(self, a)) for column, a in self.ATTRIBUTES.items())
        return ((column, value) for column, value in pairs if value is not _UNSET)

    def keys(self) -> Iterator[str]:
        return (column for column, _ in self.items())

    def values(self) -> Iterator[object]:
        return (value for _, value in self.items())

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        return sum(1 for _ in self.items())


_UNSET = msgspec.UNSET


Mapping.register(ColumnRow)


def column_row_type(
    columns: Sequence[str], name: str = "Row", *, required: bool = True
) -> type[ColumnRow]:
    """A ``ColumnRow`` Struct type with one field per distinct column, in order (each required,
    or absent as ``UNSET``). Attributes are ``c0``, ``c1``, ... (column names need not be
    identifiers); the JSON keys are the column names."""
    distinct = tuple(dict.fromkeys(columns))
    attributes = {column: f"c{i}" for i, column in enumerate(distinct)}
    row_type = msgspec.defstruct(
        name,
        [
            (attribute, Any) if required else (attribute, Any, _UNSET)
            for attribute in attributes.values()
        ],
        bases=(ColumnRow,),
        rename={attribute: column for column, attribute in attributes.items()},
        namespace={"ATTRIBUTES": attributes},
        frozen=True,
        gc=False,
    )
    assert issubclass(row_type, ColumnRow)
    return row_type
