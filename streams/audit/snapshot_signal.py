"""Debezium incremental snapshots through the connector's signalling table.

``cdcbridge backfill`` and ``audit --repair`` insert an ``execute-snapshot`` signal (optionally
with a row filter); the connector then re-reads the rows in chunks and writes them as ``op: r``
events to the table's topic, so they flow through the same mapping, coalescing, limiter and DLQ
as live changes while the stream goes on. Its watermarks make a live change win: a streamed
event for a key inside an open chunk window drops the buffered read.

``SnapshotProgress`` follows the topic from the signal's time and counts a wanted key as done
once any event for it (the read, or a live change that superseded it) has been written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import psycopg
from psycopg import sql

_SAFE_KEY = re.compile(r"-?[0-9]+")


def signal_document(table: str, where: str | None = None) -> str:
    """The ``data`` of an incremental ``execute-snapshot`` signal for ``table`` (schema.table)."""
    doc: dict[str, Any] = {"data-collections": [table], "type": "incremental"}
    if where:
        doc["additional-conditions"] = [{"data-collection": table, "filter": where}]
    return orjson.dumps(doc).decode()


def keys_filter(key_column: str, keys: Iterable[str]) -> str:
    """``id IN (1,2,3)`` for integer keys. Raises ``ValueError`` for a key that is not one."""
    values = set(keys)
    bad = sorted(k for k in values if not _SAFE_KEY.fullmatch(k))
    if bad or not values:
        raise ValueError(f"integer keys required for a filtered snapshot, got {bad or 'none'}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key_column):
        raise ValueError(f"not a plain column name: {key_column!r}")
    return f"{key_column} IN ({','.join(sorted(values, key=int))})"


def send_signal(
    conn: psycopg.Connection[Any], signal_table: str, table: str, where: str | None = None
) -> str:
    """Insert the signal; returns its id. Raises ``psycopg.Error`` (e.g. no signal table)."""
    signal_id = f"cdcbridge-{uuid.uuid4().hex[:24]}"
    schema, _, name = signal_table.rpartition(".")
    query = sql.SQL("INSERT INTO {t} (id, type, data) VALUES (%s, 'execute-snapshot', %s)")
    conn.execute(
        query.format(t=sql.Identifier(schema or "public", name)),
        (signal_id, signal_document(table, where)),
    )
    return signal_id


def wanted_keys(
    conn: psycopg.Connection[Any], table: str, key_column: str, where: str | None
) -> set[str]:
    """The keys the snapshot will read: the rows matching ``where`` now."""
    schema, _, name = table.rpartition(".")
    query = sql.SQL("SELECT {k}::text FROM {t}").format(
        k=sql.Identifier(key_column), t=sql.Identifier(schema or "public", name)
    )
    if where:
        query = sql.SQL("{q} WHERE {w}").format(q=query, w=sql.SQL(where))
    return {row[0] for row in conn.execute(query)}


def keys_of(records: Iterable[bytes | None], key_column: str) -> list[str]:
    """The primary keys of Debezium key documents (JSON, with or without a schema wrapper)."""
    found = []
    for raw in records:
        if not raw:
            continue
        doc = orjson.loads(raw)
        if isinstance(doc, dict) and "payload" in doc:
            doc = doc["payload"]
        if isinstance(doc, dict) and key_column in doc:
            found.append(str(doc[key_column]))
    return found


class SnapshotProgress:
    """Which of the wanted keys have been written to the topic since the signal."""

    def __init__(self, wanted: set[str]) -> None:
        self.wanted = set(wanted)
        self.seen: set[str] = set()

    def observe(self, keys: Sequence[str]) -> None:
        self.seen.update(k for k in keys if k in self.wanted)

    def forget(self, gone: Iterable[str]) -> None:
        """Keys deleted since the signal: the snapshot will not read them."""
        self.wanted.difference_update(gone)

    @property
    def done(self) -> bool:
        return self.seen >= self.wanted

    @property
    def missing(self) -> set[str]:
        return self.wanted - self.seen
