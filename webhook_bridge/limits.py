"""Limits the inbound edge puts on a request before it does work proportional to it.

Each limit sits where the protocol leaves room for one and is answered with its own reason code
(``webhook_bridge/README.md`` lists them). The checks here are linear in the input and never
recurse, so a hostile request costs at most a few passes over its bytes.
"""

from __future__ import annotations

import re
from array import array
from itertools import accumulate
from typing import Final

MAX_HEADER_CHARS: Final = 4096
"""Longest value of a header we read (signature, timestamp, id): a Standard Webhooks header
with 16 ed25519 entries is ~1.5 KiB, a HubSpot or hex signature under 100 characters."""

MAX_SIGNATURES: Final = 16
"""Most entries (``<version>,<signature>``) in one ``webhook-signature`` header."""

MAX_JSON_DEPTH: Final = 64
"""Deepest nesting of arrays/objects accepted in a body (vendors send 2 to 5 levels)."""

MAX_TRACEPARENT_CHARS: Final = 256
"""A longer ``traceparent`` is ignored (a fresh trace id is used), as W3C allows."""

# A JSON string; one left open runs to the end of the input (the parser stops there), so no
# match ever fails part-way and the scan stays linear.
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_STEP: Final = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects in ``body`` nest deeper than ``limit``.

    Linear and recursion-free. Brackets inside JSON strings do not count. For bodies that are
    not valid JSON the answer is an upper bound of the depth a JSON parser reaches before it
    fails, so a body that passes never makes ``json.loads`` recurse past ``limit``.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot nest deeper than the number of openings
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    closes = brackets.count(b"]") + brackets.count(b"}")
    if len(brackets) - 2 * closes > limit:
        return True  # left open at the end: the last prefix alone is too deep
    steps = array("b", brackets.translate(_STEP))
    return max(accumulate(steps), default=0) > limit
