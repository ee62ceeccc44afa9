"""Decoders for the ways Debezium's JSON converter writes a column value. Pure, no I/O.

Each decoder takes the JSON value of one column (never ``None``: callers handle nulls) and
returns its canonical JSON-ready form: ``str`` for text, decimals (exact, no exponent), dates
(``YYYY-MM-DD``) and timestamps (RFC 3339 UTC, ``...SS[.ffffff]Z``); ``int``, ``bool``, or the
parsed JSON of a JSON column. A decoder raises ``ValueError``/``TypeError``/``ArithmeticError``
for a value it cannot take; the mapping layer turns those into ``InvalidRecord``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from streams.contracts import quote
from streams.mapping import exact_json

Decoder = Callable[[object], object]

# The placeholder Debezium writes for an unchanged TOASTed column: "unchanged", never a value.
TOAST_PLACEHOLDER = "__debezium_unavailable_value"

ENCODINGS = (
    "string",
    "integer",
    "boolean",
    "decimal_string",
    "decimal_base64",
    "decimal_double",
    "variable_scale_decimal",
    "date_days",
    "timestamp_millis",
    "timestamp_micros",
    "timestamp_nanos",
    "zoned_timestamp",
    "json_string",
)

_EPOCH = datetime(1970, 1, 1)  # naive UTC: isoformat() + "Z" is the canonical form
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _string(value: object) -> object:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _integer(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _boolean(value: object) -> object:
    if not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value


def _format_decimal(number: Decimal, scale: int | None) -> str:
    if not number.is_finite():
        raise ValueError("decimal must be finite")
    if scale is not None:
        number = number.quantize(Decimal(1).scaleb(-scale))
    return format(number, "f")


def _decimal_string(scale: int | None) -> Decoder:
    shaped = re.compile(r"-?(0|[1-9][0-9]*)" + (rf"\.[0-9]{{{scale}}}" if scale else ""))

    def decode(value: object) -> object:
        if not isinstance(value, str):
            raise TypeError(f"expected a decimal string, got {type(value).__name__}")
        if scale is not None and shaped.fullmatch(value):
            return value  # already exact at the declared scale
        try:
            return _format_decimal(Decimal(value), scale)
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal: {quote(value)}") from exc

    return decode


def _unscaled_from_base64(value: object) -> int:
    if not isinstance(value, str):
        raise TypeError(f"expected base64 bytes, got {type(value).__name__}")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {quote(value)}") from exc
    if not raw:
        raise ValueError("empty decimal bytes")
    return int.from_bytes(raw, "big", signed=True)


def _decimal_base64(scale: int | None) -> Decoder:
    if scale is None:
        raise ValueError("decimal_base64 needs a scale")

    def decode(value: object) -> object:
        return _format_decimal(Decimal(_unscaled_from_base64(value)).scaleb(-scale), scale)

    return decode


def _decimal_double(scale: int | None) -> Decoder:
    def decode(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"expected a number, got {type(value).__name__}")
        return _format_decimal(Decimal(repr(value)), scale)

    return decode


def _variable_scale_decimal(value: object) -> object:
    """``io.debezium.data.VariableScaleDecimal``: ``{"scale": n, "value": base64}``."""
    if not isinstance(value, dict):
        raise TypeError(f"expected {{scale, value}}, got {type(value).__name__}")
    scale = value.get("scale")
    if isinstance(scale, bool) or not isinstance(scale, int):
        raise TypeError("variable scale decimal needs an integer scale")
    unscaled = _unscaled_from_base64(value.get("value"))
    return _format_decimal(Decimal(unscaled).scaleb(-scale), None)


def _date_days(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected days since epoch, got {type(value).__name__}")
    return date.fromordinal(_EPOCH_ORDINAL + value).isoformat()


def _timestamp(divisor_to_micros: int, multiplier_to_micros: int) -> Decoder:
    def decode(value: object) -> object:
        ticks = _integer(value)
        assert isinstance(ticks, int)
        micros = ticks * multiplier_to_micros // divisor_to_micros
        return (_EPOCH + timedelta(microseconds=micros)).isoformat() + "Z"

    return decode


def canonical_timestamp(moment: datetime) -> str:
    """An aware datetime as the canonical RFC 3339 UTC string."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _zoned_timestamp(value: object) -> object:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO-8601 string, got {type(value).__name__}")
    moment = datetime.fromisoformat(value)  # validates
    if len(value) in (20, 27) and value[-1] == "Z" and value[10] == "T":
        return value  # UTC with 0 or 6 fraction digits: already canonical
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a zone offset: {quote(value)}")
    return canonical_timestamp(moment)


def _json_string(value: object) -> object:
    """Numbers exact (``exact_json``): no float rounding of big integers or long decimals."""
    if type(value) is str:
        return exact_json.loads(value)
    if isinstance(value, (dict, list)):  # already parsed (some converters nest JSON)
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a JSON string, got {type(value).__name__}")
    return exact_json.loads(value)


def decoder_for(encoding: str, scale: int | None = None) -> Decoder:
    """The decoder for one encoding name (see ``ENCODINGS``). Raises ``ValueError`` if unknown."""
    simple: dict[str, Decoder] = {
        "string": _string,
        "integer": _integer,
        "boolean": _boolean,
        "variable_scale_decimal": _variable_scale_decimal,
        "date_days": _date_days,
        "timestamp_millis": _timestamp(1, 1000),
        "timestamp_micros": _timestamp(1, 1),
        "timestamp_nanos": _timestamp(1000, 1),
        "zoned_timestamp": _zoned_timestamp,
        "json_string": _json_string,
    }
    if encoding in simple:
        return simple[encoding]
    scaled: dict[str, Callable[[int | None], Decoder]] = {
        "decimal_string": _decimal_string,
        "decimal_base64": _decimal_base64,
        "decimal_double": _decimal_double,
    }
    if encoding in scaled:
        return scaled[encoding](scale)
    raise ValueError(f"unknown encoding {encoding!r}")
