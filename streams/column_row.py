"""Row images decoded straight into the columns a table mapping reads. Pure, no I/O.

Decoding a Debezium ``after`` image into a dict makes a new key string per column per record
(and hashes it); a msgspec Struct with one field per mapped column skips that, and skips the
columns nobody maps (``bench/bench_mapping.py``). ``column_row_type(columns)`` builds such a
Struct type: every column is required (an image without one of them is not decoded this way,
so a ``ColumnRow`` is always complete), its values are the JSON values as they came.

A ``ColumnRow`` is a read-only ``Mapping`` of column name -> value (registered as one), so
code that takes a row works with both; the generated row program (``streams.row_program``)
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

    def __getitem__(self, column: str) -> object:
        attribute = self.ATTRIBUTES.get(column)
        if attribute is None:
            raise KeyError(column)
        return getattr(self, attribute)

    def get(self, column: str, default: object = None) -> object:
        attribute = self.ATTRIBUTES.get(column)
        return default if attribute is None else getattr(self, attribute)

    def __contains__(self, column: object) -> bool:
        return column in self.ATTRIBUTES

    def __iter__(self) -> Iterator[str]:
        return iter(self.ATTRIBUTES)

    def __len__(self) -> int:
        return len(self.ATTRIBUTES)

    def keys(self) -> Iterator[str]:
        return iter(self.ATTRIBUTES)

    def items(self) -> Iterator[tuple[str, object]]:
        return ((column, getattr(self, a)) for column, a in self.ATTRIBUTES.items())

    def values(self) -> Iterator[object]:
        return (getattr(self, a) for a in self.ATTRIBUTES.values())


Mapping.register(ColumnRow)


def column_row_type(columns: Sequence[str], name: str = "Row") -> type[ColumnRow]:
    """A ``ColumnRow`` Struct type with one required field per distinct column, in order.
    Attributes are ``c0``, ``c1``, ... (column names need not be identifiers); the JSON keys
    are the column names."""
    distinct = tuple(dict.fromkeys(columns))
    attributes = {column: f"c{i}" for i, column in enumerate(distinct)}
    row_type = msgspec.defstruct(
        name,
        [(attribute, Any) for attribute in attributes.values()],
        bases=(ColumnRow,),
        rename={attribute: column for column, attribute in attributes.items()},
        namespace={"ATTRIBUTES": attributes},
        frozen=True,
        gc=False,
    )
    assert issubclass(row_type, ColumnRow)
    return row_type
