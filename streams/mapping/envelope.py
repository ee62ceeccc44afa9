"""Debezium change-event envelopes (JSON converter) parsed into a typed ``Envelope``. Pure.

Accepts plain envelopes (``schemas.enable=false``) and schema-wrapped ones
(``{"schema": ..., "payload": ...}``); for the latter the column logical types are read from the
schema. Raises ``InvalidRecord`` for anything that is not a well-formed envelope.

``EnvelopeReader`` is the hot path for plain envelopes: one typed msgspec decode that skips the
columns nobody reads (the ``after`` image can be decoded into a ``ColumnRow``); anything it does
not accept takes the checking path (``parse_json`` + ``parse_envelope``), which gives the exact
error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

import msgspec
import orjson

from streams.contracts import InvalidRecord
from streams.mapping.column_row import ColumnRow, column_row_type

# Column -> (encoding, scale) read from a schema-wrapped envelope; it wins over the file.
ColumnEncodings = Mapping[str, tuple[str, int | None]]

OPS = frozenset({"c", "u", "d", "r", "t", "m"})

# Debezium/Kafka Connect logical type name -> our encoding name.
LOGICAL_ENCODINGS = {
    "org.apache.kafka.connect.data.Decimal": "decimal_base64",
    "io.debezium.data.VariableScaleDecimal": "variable_scale_decimal",
    "io.debezium.time.Date": "date_days",
    "org.apache.kafka.connect.data.Date": "date_days",
    "io.debezium.time.Timestamp": "timestamp_millis",
    "org.apache.kafka.connect.data.Timestamp": "timestamp_millis",
    "io.debezium.time.MicroTimestamp": "timestamp_micros",
    "io.debezium.time.NanoTimestamp": "timestamp_nanos",
    "io.debezium.time.ZonedTimestamp": "zoned_timestamp",
    "io.debezium.data.Json": "json_string",
}
# Connect primitive types that change how a column must be read (decimal.handling.mode=double).
# Other primitive columns keep the encoding the mapping file declares.
PRIMITIVE_ENCODINGS = {"double": "decimal_double", "float": "decimal_double"}


class Envelope(msgspec.Struct, frozen=True):
    """One decoded change event. ``encodings`` is set only for schema-wrapped envelopes.
    (A frozen msgspec Struct: immutable and cheap to build on the hot path.) A row is a dict,
    or from ``EnvelopeReader`` a ``ColumnRow`` (a Mapping of the columns it was asked for)."""

    op: str
    before: Mapping[str, object] | None
    after: Mapping[str, object] | None
    table: str
    lsn: int | None
    ts_ms: int
    encodings: ColumnEncodings | None = None


def parse_json(data: bytes | bytearray | memoryview | str, what: str) -> object:
    """Parse one JSON document. Raises ``InvalidRecord`` naming ``what`` on bad JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        preview = bytes(data[:200]) if not isinstance(data, str) else data[:200]
        raise InvalidRecord(what, "json", preview, f"{what} is not JSON: {exc}") from exc


def _row(payload: Mapping[str, object], name: str) -> Mapping[str, object] | None:
    row = payload.get(name)
    if row is None or isinstance(row, dict):
        return row
    raise InvalidRecord(name, "object", row, f"{name} must be an object or null")


def _int_or_none(source: Mapping[str, object], name: str) -> int | None:
    value = source.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRecord(f"source.{name}", "integer", value, f"source.{name} must be an int")
    return value


def _column_encodings(schema: object) -> ColumnEncodings | None:
    """Column encodings from a Connect schema of the envelope (the ``after`` struct)."""
    parts = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(parts, list):
        return None
    for part in parts:
        if isinstance(part, dict) and part.get("field") in ("after", "before"):
            columns = part.get("fields")
            if isinstance(columns, list):
                pairs = (_column_encoding(c) for c in columns if isinstance(c, dict))
                return dict(pair for pair in pairs if pair is not None)
    return None


def _column_encoding(column: dict[str, object]) -> tuple[str, tuple[str, int | None]] | None:
    name = str(column.get("field"))
    logical = column.get("name")
    if isinstance(logical, str) and logical in LOGICAL_ENCODINGS:
        scale: int | None = None
        params = column.get("parameters")
        if isinstance(params, dict) and "scale" in params:
            try:
                scale = int(str(params["scale"]))
            except ValueError as exc:
                raise InvalidRecord(name, "schema_scale", params["scale"], str(exc)) from exc
        return name, (LOGICAL_ENCODINGS[logical], scale)
    primitive = PRIMITIVE_ENCODINGS.get(str(column.get("type")))
    return None if primitive is None else (name, (primitive, None))


def parse_envelope(document: object) -> Envelope | None:
    """A parsed JSON value -> ``Envelope``, or ``None`` for a tombstone-like null payload.
    Raises ``InvalidRecord`` when the document is not a Debezium envelope."""
    encodings: ColumnEncodings | None = None
    if isinstance(document, dict) and "payload" in document and "schema" in document:
        encodings = _column_encodings(document["schema"])
        document = document["payload"]
    if document is None:
        return None
    if not isinstance(document, dict):
        raise InvalidRecord("$", "envelope", document, "envelope must be a JSON object")
    op = document.get("op")
    if not isinstance(op, str) or op not in OPS:
        raise InvalidRecord("op", "debezium_op", op, f"unknown Debezium op {op!r}")
    source = document.get("source")
    if not isinstance(source, dict):
        raise InvalidRecord("source", "object", source, "envelope has no source block")
    schema, table = source.get("schema"), source.get("table")
    if not isinstance(table, str) or not table:
        raise InvalidRecord("source.table", "string", table, "source.table missing")
    # Exact types take the short way; anything else goes through the checking helpers.
    ts_ms = source.get("ts_ms")
    if type(ts_ms) is not int:
        ts_ms = _int_or_none(source, "ts_ms")
        if ts_ms is None:
            ts_ms = _int_or_none(document, "ts_ms")
        if ts_ms is None:
            raise InvalidRecord("source.ts_ms", "required", None, "no ts_ms in source or envelope")
    before = document.get("before")
    if before is not None and type(before) is not dict:
        before = _row(document, "before")
    after = document.get("after")
    if after is not None and type(after) is not dict:
        after = _row(document, "after")
    lsn = source.get("lsn")
    if lsn is not None and type(lsn) is not int:
        lsn = _int_or_none(source, "lsn")
    return Envelope(
        op,
        before,
        after,
        f"{schema}.{table}" if isinstance(schema, str) and schema else table,
        lsn,
        ts_ms,
        encodings,
    )


BeforeRow = TypeVar("BeforeRow")
AfterRow = TypeVar("AfterRow")


class _Source(msgspec.Struct, gc=False):
    table: str
    schema: str | None = None
    lsn: int | None = None
    ts_ms: int | None = None


class _PlainEnvelope(msgspec.Struct, Generic[BeforeRow, AfterRow], gc=False):
    """A plain envelope as the typed decoder sees it; ``payload`` is only looked at to send
    schema-wrapped envelopes down the checking path."""

    op: Literal["c", "u", "d", "r", "t", "m"]
    source: _Source
    before: BeforeRow | None = None
    after: AfterRow | None = None
    ts_ms: int | None = None
    payload: msgspec.Raw = msgspec.Raw()  # empty unless the key is there


class EnvelopeReader:
    """Reads Kafka record values into ``Envelope`` for one table. The ``before`` image carries
    only ``before_columns`` (what the decoder reads from it: primary key and email), as a
    ``ColumnRow`` where absent columns read as absent.
    ``after`` is an ``after_type`` row (the columns the mapping reads) when it has all of
    them, else a dict of every column (as it is without ``after_type``). Otherwise the same
    results and errors as ``parse_envelope(parse_json(...))``."""

    def __init__(
        self, before_columns: Sequence[str], after_type: type[ColumnRow] | None = None
    ) -> None:
        before = column_row_type(before_columns, "BeforeColumns", required=False)
        after = dict[str, Any] if after_type is None else after_type
        self.__decoder = msgspec.json.Decoder(_PlainEnvelope[before, after] | None)  # type: ignore[valid-type]
        self.__fallback = (
            None
            if after_type is None
            else msgspec.json.Decoder(_PlainEnvelope[before, dict[str, Any]] | None)  # type: ignore[valid-type]
        )
        self.__last_table: tuple[str | None, str, str] = (None, "", "")  # (schema, table, name)

    def read(self, value: bytes | bytearray | memoryview | str) -> Envelope | None:
        """The envelope in ``value``, or ``None`` for a JSON null. Raises ``InvalidRecord``."""
        try:
            doc = self.__decoder.decode(value)
        except (msgspec.MsgspecError, RecursionError):
            doc = self.__decode_after_as_dict(value)  # e.g. an image without a mapped column
            if doc is None:
                return parse_envelope(parse_json(value, "value"))
        if doc is None:
            return None
        source = doc.source
        ts_ms = source.ts_ms
        if ts_ms is None:
            ts_ms = doc.ts_ms
        if ts_ms is None or not source.table or doc.payload:
            # missing parts (the checking path names them) or a schema-wrapped envelope
            return parse_envelope(parse_json(value, "value"))
        last_schema, last_table, table = self.__last_table
        if source.table != last_table or source.schema != last_schema:  # (rarely: one table)
            table = f"{source.schema}.{source.table}" if source.schema else source.table
            self.__last_table = (source.schema, source.table, table)
        return Envelope(doc.op, doc.before, doc.after, table, source.lsn, ts_ms)

    def __decode_after_as_dict(self, value: bytes | bytearray | memoryview | str) -> Any:
        """The typed decode with ``after`` as a dict, or ``None`` when that fails too."""
        if self.__fallback is None:
            return None
        try:
            return self.__fallback.decode(value)
        except (msgspec.MsgspecError, RecursionError):
            return None
