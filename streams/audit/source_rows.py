"""Source rows read from PostgreSQL and turned into the vendor records the sync would send.

A row is written out as Debezium's JSON converter writes it (``debezium_json``, per the table
mapping's column encodings), wrapped in a snapshot (``op: r``) envelope and decoded by the sync's
own ``ChangeDecoder`` and ``upsert_record``: the audit expects exactly what the sync path produces,
with no second copy of the mapping rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from psycopg import sql

from streams.contracts import CustomerUpsert, InvalidRecord, VendorRecord
from streams.mapping.change_decoder import ChangeDecoder
from streams.mapping.table_mapping import TableMapping
from streams.mapping.vendor_mapping import Platform
from streams.mapping.vendor_record import DEFAULT_TARGET, RecordTarget, upsert_record

_EPOCH_DATE = dt.date(1970, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TICKS = {"timestamp_millis": 1_000, "timestamp_micros": 1_000_000, "timestamp_nanos": 10**9}


def debezium_json(value: object, encoding: str) -> object:
    """A value read by psycopg as Debezium's JSON converter writes it for ``encoding``
    (``decimal.handling.mode=string``). Raises ``ValueError`` for a type that cannot be."""
    if value is None:
        return None
    if encoding in ("decimal_string",) and isinstance(value, Decimal):
        return format(value, "f")
    if encoding == "date_days" and isinstance(value, dt.date):
        return (value - _EPOCH_DATE).days
    if encoding == "zoned_timestamp" and isinstance(value, dt.datetime):
        return value.isoformat()
    if encoding in _TICKS and isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        micros = (moment - _EPOCH) // dt.timedelta(microseconds=1)
        return micros * _TICKS[encoding] // 1_000_000
    if encoding == "json_string":
        return orjson.dumps(value).decode()
    if encoding == "string" and isinstance(value, str):
        return value
    if encoding in ("integer", "boolean") and isinstance(value, (int, bool)):
        return value
    raise ValueError(f"cannot write {type(value).__name__} as {encoding}")


class SourceTable:
    """One mapped table read through a psycopg connection (autocommit, read-only use).
    ``where`` (SQL, the operator's own) limits the audited population to a segment."""

    def __init__(
        self, conn: psycopg.Connection[Any], mapping: TableMapping, where: str | None = None
    ) -> None:
        self.__conn = conn
        self.__where = where
        self.mapping = mapping
        schema, _, table = mapping.table.rpartition(".")
        self.__table = sql.Identifier(schema or "public", table)
        self.__key = sql.Identifier(mapping.primary_key)
        columns = [mapping.primary_key] + [f.column for f in mapping.fields]
        columns += [f.region_column for f in mapping.fields if f.region_column]
        self.__columns = list(dict.fromkeys(columns))
        self.__encodings = {f.column: f.encoding for f in mapping.fields}
        self.__encodings.setdefault(mapping.primary_key, mapping.primary_key_encoding)

    def ids(self) -> list[str]:
        """Every primary key, in key order (the population to sample from)."""
        where = sql.SQL(f"WHERE {self.__where}" if self.__where else "")
        query = sql.SQL("SELECT {k} FROM {t} {w} ORDER BY {k}").format(
            k=self.__key, t=self.__table, w=where
        )
        return [str(row[0]) for row in self.__conn.execute(query)]

    def rows(self, ids: Sequence[str], chunk: int = 1000) -> Iterator[dict[str, object]]:
        """The rows with these keys that still exist, in Debezium's JSON encoding."""
        query = sql.SQL("SELECT {cols} FROM {t} WHERE {k}::text = ANY(%s)").format(
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in self.__columns),
            t=self.__table,
            k=self.__key,
        )
        for start in range(0, len(ids), chunk):
            with self.__conn.cursor() as cursor:
                cursor.execute(query, (list(ids[start : start + chunk]),))
                for record in cursor:
                    yield {
                        column: debezium_json(value, self.__encodings.get(column, "string"))
                        for column, value in zip(self.__columns, record, strict=True)
                    }

    def existing(self, ids: Sequence[str]) -> set[str]:
        """The keys among ``ids`` that still exist."""
        query = sql.SQL("SELECT {k}::text FROM {t} WHERE {k}::text = ANY(%s)").format(
            k=self.__key, t=self.__table
        )
        return {row[0] for row in self.__conn.execute(query, (list(ids),))}

    def emails_present(self, emails: Sequence[str]) -> set[str]:
        """The lower-cased emails among ``emails`` some row holds now (a re-inserted contact)."""
        email = next((f.column for f in self.mapping.fields if f.name == "email"), None)
        if email is None or not emails:
            return set()
        query = sql.SQL(
            "SELECT DISTINCT lower(trim({e})) FROM {t} WHERE lower(trim({e})) = ANY(%s)"
        ).format(e=sql.Identifier(email), t=self.__table)
        return {row[0] for row in self.__conn.execute(query, ([e.lower() for e in emails],))}


def expected_record(
    decoder: ChangeDecoder,
    mapping: TableMapping,
    platform: Platform,
    row: Mapping[str, object],
    target: RecordTarget | None = None,
) -> VendorRecord:
    """The vendor record the sync would send for this row as a snapshot read. Raises
    ``InvalidRecord`` when the row cannot be mapped (the sync dead-letters such a row)."""
    schema, _, table = mapping.table.rpartition(".")
    envelope = {
        "op": "r",
        "before": None,
        "after": dict(row),
        "source": {"schema": schema or "public", "table": table, "ts_ms": 0},
        "ts_ms": 0,
    }
    change = decoder.decode(mapping.topics[0], None, orjson.dumps(envelope))
    if not isinstance(change, CustomerUpsert):
        raise InvalidRecord("$", "row", None, f"row decoded to {type(change).__name__}")
    return upsert_record(platform, change, target or DEFAULT_TARGET)
