"""Kafka record (Debezium JSON envelope) -> ``CustomerUpsert | CustomerDelete | Skip``. Pure.

The edge where raw bytes become typed changes: nothing past ``decode_change`` sees a dict of
Debezium columns. Rules (see schemas/README.md):

- ops ``c``/``r`` (snapshot)/``u`` -> ``CustomerUpsert`` from ``after``; ``d`` -> ``CustomerDelete``
  from ``before`` (an archival intent, never an empty contact);
- tombstones (value ``None``), heartbeats, truncates, messages and unmapped topics -> ``Skip``;
- ``__debezium_unavailable_value`` (unchanged TOAST column) -> the field is left out;
- ``previous_email`` is set when ``before.email`` differs from ``after.email``;
- every upsert/delete is checked against ``schemas/customer.schema.json``.

Bad input of any kind raises ``InvalidRecord`` and nothing else.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

import jsonschema_rs

from streams.contracts import CustomerDelete, CustomerUpsert, InvalidRecord, Skip, SyncMeta
from streams.mapping.canonical import canonical_document, raise_invalid, schema_validator
from streams.mapping.envelope import Envelope, EnvelopeReader, parse_json
from streams.mapping.mapping_files import CUSTOMER_SCHEMA_PATH, load_json
from streams.mapping.row_mapper import RowMapper
from streams.mapping.table_catalog import load_table_mappings
from streams.mapping.table_mapping import TableMapping

Validator = jsonschema_rs.Draft202012Validator
HEARTBEAT_TOPIC_PREFIX = "__debezium-heartbeat"
Decoded = CustomerUpsert | CustomerDelete | Skip


def derive_trace_id(
    source_table: str, lsn: int | None, source_id: str, op: str, ts_ms: int | None = None
) -> str:
    """A W3C-shaped trace id (32 hex chars) derived from where a change came from, so that a
    replay of the same change carries the same id: the 16-byte BLAKE2b of
    ``table|lsn|source_id|op`` (``ts<ts_ms>`` in place of the LSN when there is none)."""
    hasher = _TABLE_HASHERS.get(source_table)
    if hasher is None:  # the table's prefix is hashed once per table (hot path)
        hasher = hashlib.blake2b(f"{source_table}|".encode(), digest_size=16)
        if len(_TABLE_HASHERS) < 256:
            _TABLE_HASHERS[source_table] = hasher
    hasher = hasher.copy()
    position = lsn if lsn is not None else f"ts{ts_ms}"
    hasher.update(f"{position}|{source_id}|{op}".encode())
    return hasher.hexdigest()


_TABLE_HASHERS: dict[str, hashlib.blake2b] = {}  # table -> BLAKE2b state after "table|"


class ChangeDecoder:
    """Decodes records of the topics named by the given table mappings (compiled once)."""

    def __init__(self, mappings: Iterable[TableMapping]) -> None:
        self.__by_topic: dict[str, tuple[RowMapper, EnvelopeReader, Validator]] = {}
        for mapping in mappings:
            mapper = RowMapper(mapping)
            reader = EnvelopeReader(mapper.before_columns, mapper.row_type)
            validator = schema_validator(mapping.canonical_schema or _customer_schema())
            for topic in mapping.topics:
                self.__by_topic[topic] = (mapper, reader, validator)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics this decoder maps."""
        return tuple(self.__by_topic)

    def decode(
        self, topic: str, key: bytes | None, value: bytes | None, trace_id: str | None = None
    ) -> Decoded:
        """See module docstring. Raises ``InvalidRecord`` only."""
        if value is None or (isinstance(value, bytes) and not value):
            return Skip("tombstone")  # some clients hand a null value over as b""
        if topic.startswith(HEARTBEAT_TOPIC_PREFIX):
            return Skip("heartbeat")
        mapped = self.__by_topic.get(topic)
        if mapped is None:
            return Skip(f"no mapping for topic {topic}")
        if not isinstance(value, (bytes, bytearray, memoryview, str)):
            raise InvalidRecord("$", "bytes", type(value).__name__, "record value must be bytes")
        mapper, reader, validator = mapped
        envelope = reader.read(value)
        if envelope is None:
            return Skip("tombstone")
        if envelope.op in ("t", "m"):
            return Skip(f"op {envelope.op} is not a row change")
        if envelope.table != mapper.mapping.table:
            return Skip(f"table {envelope.table} is not mapped on {topic}")
        if envelope.op == "d" and mapper.mapping.target.on_delete == "ignore":
            return Skip(f"deletes of {envelope.table} are ignored (target.on_delete)")
        change = self.__change(mapper, envelope, key, trace_id)
        document = canonical_document(change)
        if not validator.is_valid(document):
            raise_invalid(document, validator)
        return change

    def __change(
        self, mapper: RowMapper, env: Envelope, key: bytes | None, trace_id: str | None
    ) -> CustomerUpsert | CustomerDelete:
        row = env.before if env.op == "d" else env.after
        if row is None:
            if env.op != "d":
                raise InvalidRecord("after", "required", None, f"op {env.op} without after")
            row = {}
        source_id = mapper.source_id(row) or _source_id_from_key(mapper, key)
        trace_id = trace_id or derive_trace_id(env.table, env.lsn, source_id, env.op, env.ts_ms)
        meta = SyncMeta(env.table, env.ts_ms, trace_id, env.lsn)  # (positional: cheaper)
        if env.op == "d":
            return CustomerDelete(source_id, mapper.email_of(row, env.encodings), meta)
        encodings = env.encodings  # (plain envelopes: the file's program, without a call more)
        fields = mapper.map_plain_row(row) if encodings is None else mapper.map_row(row, encodings)
        column = mapper.email_column
        previous = None
        before = env.before
        if (
            before is not None
            and column is not None
            and "email" in fields
            and before.get(column) != row.get(column)  # cheap check before normalising
        ):
            old = mapper.email_of(before, env.encodings)
            if old is not None and old != fields["email"]:
                previous = old
        link = mapper.link_column
        if link is None or env.op != "u":
            linked_before = False
        else:  # no before image (no REPLICA IDENTITY FULL): it may have been linked
            linked_before = before is None or before.get(link) is not None
        return CustomerUpsert(source_id, fields, meta, previous, linked_before)


def _source_id_from_key(mapper: RowMapper, key: bytes | None) -> str:
    document = parse_json(key, "key") if key is not None else None
    if isinstance(document, dict) and "payload" in document and "schema" in document:
        document = document["payload"]
    source_id = mapper.source_id(document) if isinstance(document, dict) else None
    if source_id is None:
        raise InvalidRecord(
            "source_id", "required", None, f"no {mapper.mapping.primary_key} in row or key"
        )
    return source_id


def _customer_schema() -> dict[str, object]:
    schema: dict[str, object] = load_json(CUSTOMER_SCHEMA_PATH)
    return schema


@functools.cache
def default_decoder() -> ChangeDecoder:
    """The decoder of every table mapping in effect (``load_table_mappings``: the package's
    and those in ``CDCBRIDGE_MAPPINGS_DIR``), loaded once."""
    return ChangeDecoder(load_table_mappings())


def decode_change(
    topic: str, key: bytes | None, value: bytes | None, trace_id: str | None = None
) -> Decoded:
    """Decode one Kafka record of a CDC topic with the default mappings.

    Returns ``Skip`` for tombstones, heartbeats and unmapped topics/tables. Raises
    ``InvalidRecord`` (field, rule, value) for anything that cannot be mapped, and no other
    exception for bad input. ``trace_id`` (e.g. from a Kafka header) overrides the derived one.
    """
    return default_decoder().decode(topic, key, value, trace_id)
