"""JSON that carries numbers exactly: the codec of ``json``/``jsonb`` column values.

``loads`` keeps every integer as ``int`` (also beyond 64 bits) and every other number as
``Decimal`` with the digits it was written with (``3.141592653589793238462643383279`` stays
that, where a float would round it to ``3.141592653589793``); ``dumps_sorted`` writes them
back as JSON numbers, digit for digit (compact, sorted keys, UTF-8: stable text for the same
value). Both vendors take the text in a string property, so nothing needs refusing. Both raise
``ValueError`` (``msgspec.DecodeError`` / ``EncodeError``) for what is not JSON.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_SORTED = msgspec.json.Encoder(decimal_format="number", order="sorted")


def loads(text: str | bytes) -> object:
    """Parse JSON with exact numbers (see the module doc)."""
    return _DECODER.decode(text)


def dumps_sorted(value: object) -> str:
    """Compact JSON text with sorted keys; ``Decimal`` and big ``int`` written exactly.
    Raises ``TypeError`` for a value JSON cannot hold."""
    try:
        return _SORTED.encode(value).decode()
    except msgspec.EncodeError as exc:
        raise TypeError(str(exc)) from exc
