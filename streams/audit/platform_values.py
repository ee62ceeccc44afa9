"""Whether a value we sent and the value the platform gives back are the same. Pure.

Platforms normalise what they store: HubSpot keeps every property as a string (booleans
``true``/``false``, numbers as text, dates as ``YYYY-MM-DD`` or epoch milliseconds at midnight
UTC, datetimes in milliseconds), Marketo hands back JSON types, both trim and lower-case emails.
``same_value`` accepts those re-spellings of one value and nothing else: a different word, number
or instant is a mismatch.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

import orjson

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_EPOCH_MS = re.compile(r"-?[0-9]{10,16}")
_BOOLEANS = {"true": True, "false": False}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _text(value: object) -> str | None:
    """The value as stripped text; ``None`` for a null or an empty string (both clear)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip() or None


def _boolean(text: str) -> bool | None:
    return _BOOLEANS.get(text.lower())


def _number(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _instant(text: str) -> dt.datetime | None:
    """An ISO date/datetime (a date is midnight UTC) or epoch milliseconds, as aware UTC."""
    if _EPOCH_MS.fullmatch(text):
        return _EPOCH + dt.timedelta(milliseconds=int(text))
    if len(text) < 10 or text[4:5] != "-":
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _json(text: str) -> object:
    if text[:1] not in "[{":
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def same_value(expected: object, actual: object, *, case_insensitive: bool = False) -> bool:
    """True when ``actual`` (read back) is the platform's spelling of ``expected`` (sent)."""
    want, got = _text(expected), _text(actual)
    if want is None or got is None:
        return want is got
    if want == got or (case_insensitive and want.casefold() == got.casefold()):
        return True
    if (flag := _boolean(want)) is not None:
        return flag == _boolean(got)
    if (number := _number(want)) is not None:
        return number == _number(got)
    if (moment := _instant(want)) is not None and not _EPOCH_MS.fullmatch(want):
        return moment == _instant(got)
    if (document := _json(want)) is not None:
        return bool(document == _json(got))
    return False
