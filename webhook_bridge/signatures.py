"""Webhook signature verification and signing: pure, clock-injected, raw bytes only.

Schemes (facts in ``shared/reference/webhook_signatures.md``):

- ``standard-webhooks``: ``webhook-id``/``webhook-timestamp``/``webhook-signature`` headers,
  HMAC-SHA256 over ``{id}.{timestamp}.{body}``, base64, keys ``whsec_<base64>``.
- ``hubspot-v3``: ``X-HubSpot-Signature-v3`` = base64 HMAC-SHA256 over
  ``method + uri + body + timestamp`` (timestamp header in milliseconds).
- ``hmac-sha256-hex``: GitHub style ``X-Hub-Signature-256: sha256=<hex>`` over the body; the
  header name is configurable.

Every secret of a source is tried (rotation); comparisons use ``hmac.compare_digest``. Errors
carry a reason code and never the expected signature.

Hostile input: every header we read must be printable ASCII of at most ``MAX_HEADER_CHARS``
characters, a Standard Webhooks header holds at most ``MAX_SIGNATURES`` entries, and parsing is
linear in the header's length (``webhook_bridge.limits``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal, get_args

from pydantic import SecretStr

from cdcbridge.errors import InvalidError
from webhook_bridge.limits import MAX_HEADER_CHARS, MAX_SIGNATURES

Scheme = Literal["standard-webhooks", "hubspot-v3", "hmac-sha256-hex"]
SCHEMES: Final[tuple[str, ...]] = get_args(Scheme)

Reason = Literal[
    "unknown_scheme",
    "no_secrets",
    "missing_header",
    "malformed_header",
    "header_too_large",
    "too_many_signatures",
    "timestamp_too_old",
    "timestamp_in_future",
    "no_match",
]

Secret = str | bytes | SecretStr

DEFAULT_HEX_HEADER: Final = "x-hub-signature-256"
SW_ID: Final = "webhook-id"
SW_TIMESTAMP: Final = "webhook-timestamp"
SW_SIGNATURE: Final = "webhook-signature"
HUBSPOT_SIGNATURE: Final = "x-hubspot-signature-v3"
HUBSPOT_TIMESTAMP: Final = "x-hubspot-request-timestamp"
_WHSEC_PREFIX: Final = "whsec_"
_SHA256_B64_CHARS: Final = 44  # base64 with padding of a 32-byte digest
# Where a new ``webhook-signature`` entry starts: a space before a token holding a comma.
_ENTRY_START: Final = re.compile(r" (?=[^ ,]*,)")
# HubSpot decodes these percent-encodings in the request URI before signing.
_HUBSPOT_URI_DECODES: Final = (
    ("%3A", ":"), ("%2F", "/"), ("%3F", "?"), ("%40", "@"), ("%21", "!"), ("%24", "$"),
    ("%27", "'"), ("%28", "("), ("%29", ")"), ("%2A", "*"), ("%2C", ","), ("%3B", ";"),
)  # fmt: skip


class InvalidSignature(InvalidError):
    """The request is not authentic (or not verifiable). ``reason`` is a stable code."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        self.reason: Reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


def _raw(secret: Secret) -> str | bytes:
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def standard_webhooks_key(secret: Secret) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` prefix optional, padding lax).

    Raises ``ValueError`` when a text secret is not base64. Bytes are used as the key as-is.
    """
    raw = _raw(secret)
    if isinstance(raw, bytes):
        return raw
    text = raw.removeprefix(_WHSEC_PREFIX).strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("standard-webhooks secret is not base64") from exc


def _utf8_key(secret: Secret) -> bytes:
    raw = _raw(secret)
    return raw if isinstance(raw, bytes) else raw.encode("utf-8")


def hubspot_uri(url: str) -> str:
    """The request URI as HubSpot signs it: its listed percent-encodings decoded."""
    for encoded, char in _HUBSPOT_URI_DECODES:
        url = url.replace(encoded, char).replace(encoded.lower(), char)
    return url


def _hmac(key: bytes, content: bytes) -> bytes:
    return hmac.new(key, content, hashlib.sha256).digest()


def _lower(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k.lower(): v for k, v in items}


def _header(headers: Mapping[str, str], name: str) -> str:
    """The stripped value of ``name``: present, at most ``MAX_HEADER_CHARS``, printable ASCII."""
    raw = headers.get(name.lower(), "")
    if len(raw) > MAX_HEADER_CHARS:
        raise InvalidSignature("header_too_large", name)
    value = raw.strip()
    if not value:
        raise InvalidSignature("missing_header", name)
    if not (value.isascii() and value.isprintable()):
        raise InvalidSignature("malformed_header", name)
    return value


def signed_headers(scheme: str, header_name: str | None = None) -> frozenset[str]:
    """The (lower-case) headers ``verify`` reads for ``scheme``."""
    if scheme == "standard-webhooks":
        return frozenset((SW_ID, SW_TIMESTAMP, SW_SIGNATURE))
    if scheme == "hubspot-v3":
        return frozenset((HUBSPOT_SIGNATURE, HUBSPOT_TIMESTAMP))
    return frozenset(((header_name or DEFAULT_HEX_HEADER).lower(),))


def _check_age(sent_at: float, now: float, tolerance_s: float) -> None:
    if now - sent_at > tolerance_s:
        raise InvalidSignature("timestamp_too_old")
    if sent_at - now > tolerance_s:
        raise InvalidSignature("timestamp_in_future")


def _int_header(headers: Mapping[str, str], name: str) -> int:
    value = _header(headers, name)
    if not value.isascii() or not value.isdigit() or len(value) > 16:
        raise InvalidSignature("malformed_header", name)
    return int(value)


def _b64_candidates(value: str) -> set[bytes]:
    """Decoded forms of a base64 signature, also reading spaces as ``+`` (form-decoded proxy).
    Only the length of a base64 HMAC-SHA256 can match, so other lengths are not decoded."""
    found: set[bytes] = set()
    if len(value) != _SHA256_B64_CHARS:
        return found
    for text in {value, value.replace(" ", "+")}:
        try:
            found.add(base64.b64decode(text, validate=True))
        except ValueError:  # binascii.Error, or non-ASCII text
            continue
    return found


def _standard_webhooks_signatures(header: str) -> set[bytes]:
    """``v1`` signatures of the header. Tokens without a comma continue the previous entry (a
    ``+`` that a proxy turned into a space); both readings are kept.

    Linear in ``len(header)`` (one regex pass, stopping after ``MAX_SIGNATURES`` entries).
    Raises ``InvalidSignature("too_many_signatures")`` past that many entries."""
    entries = _ENTRY_START.split(header, maxsplit=MAX_SIGNATURES)
    if len(entries) > MAX_SIGNATURES:
        raise InvalidSignature("too_many_signatures", f"more than {MAX_SIGNATURES}")
    found: set[bytes] = set()
    for entry in entries:
        if entry.startswith("v1,"):
            for token in {entry.split(" ", 1)[0], entry.replace(" ", "+")}:
                found |= _b64_candidates(token[3:])
    return found


def _verify_standard(
    secrets: Sequence[Secret], headers: Mapping[str, str], body: bytes, now: float, tol: float
) -> None:
    msg_id = _header(headers, SW_ID)
    timestamp = _int_header(headers, SW_TIMESTAMP)
    given = _standard_webhooks_signatures(_header(headers, SW_SIGNATURE))
    _check_age(timestamp, now, tol)
    content = f"{msg_id}.{timestamp}.".encode() + body
    expected = [_hmac(standard_webhooks_key(s), content) for s in secrets]
    if not _any_equal(given, expected):
        raise InvalidSignature("no_match")


def _verify_hubspot(
    secrets: Sequence[Secret],
    headers: Mapping[str, str],
    body: bytes,
    method: str,
    urls: Sequence[str],
    now: float,
    tol: float,
) -> None:
    given = _b64_candidates(_header(headers, HUBSPOT_SIGNATURE))
    ts_text = _header(headers, HUBSPOT_TIMESTAMP)
    _check_age(_int_header(headers, HUBSPOT_TIMESTAMP) / 1000.0, now, tol)
    contents = [_hubspot_content(method, url, body, ts_text) for url in urls]
    expected = [_hmac(_utf8_key(s), content) for s in secrets for content in contents]
    if not _any_equal(given, expected):
        raise InvalidSignature("no_match")


def _hubspot_content(method: str, url: str, body: bytes, timestamp_ms: str) -> bytes:
    """The signed bytes. A method or URL with lone surrogates (possible in a Lambda event's
    JSON) is encoded as-is so it simply fails to match instead of raising."""
    prefix = method.upper() + hubspot_uri(url)
    return prefix.encode("utf-8", "surrogatepass") + body + timestamp_ms.encode()


def _verify_hex(
    secrets: Sequence[Secret], headers: Mapping[str, str], body: bytes, header_name: str
) -> None:
    value = _header(headers, header_name)
    prefix, _, hex_sig = value.partition("=")
    if prefix.strip().lower() != "sha256":
        raise InvalidSignature("malformed_header", header_name)
    try:
        given = {bytes.fromhex(hex_sig.strip())}
    except ValueError as exc:
        raise InvalidSignature("malformed_header", header_name) from exc
    expected = [_hmac(_utf8_key(s), body) for s in secrets]
    if not _any_equal(given, expected):
        raise InvalidSignature("no_match")


def _any_equal(given: Iterable[bytes], expected: Sequence[bytes]) -> bool:
    matched = False
    for candidate in given:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    return matched


def verify(
    scheme: str,
    *,
    secrets: Sequence[Secret],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    method: str = "POST",
    url: str = "",
    now: float | None = None,
    tolerance_s: float = 300,
    header_name: str | None = None,
    alternate_urls: Sequence[str] = (),
) -> None:
    """Return if ``body`` + ``headers`` carry a valid signature by any of ``secrets``.

    ``now`` is epoch seconds (``time.time()`` when None); timestamps further than
    ``tolerance_s`` from it either way are rejected. ``url`` (full public URL) and ``method``
    matter for ``hubspot-v3`` only; ``alternate_urls`` are other spellings of the same URL
    (when the raw one is lost, as in API Gateway REST events), any of which may match.
    ``header_name`` matters for ``hmac-sha256-hex`` only. Never raises for bad input other than
    ``InvalidSignature``; ``ValueError`` if a configured secret is unusable.
    """
    if scheme not in SCHEMES:
        raise InvalidSignature("unknown_scheme", scheme)
    if not secrets:
        raise InvalidSignature("no_secrets")
    lowered = _lower(headers)
    current = time.time() if now is None else now
    if scheme == "standard-webhooks":
        _verify_standard(secrets, lowered, body, current, tolerance_s)
    elif scheme == "hubspot-v3":
        urls = list(dict.fromkeys((url, *alternate_urls)))
        _verify_hubspot(secrets, lowered, body, method, urls, current, tolerance_s)
    else:
        _verify_hex(secrets, lowered, body, header_name or DEFAULT_HEX_HEADER)


def sign(
    scheme: str,
    *,
    secret: Secret,
    body: bytes,
    msg_id: str = "",
    timestamp: float | None = None,
    method: str = "POST",
    url: str = "",
    header_name: str | None = None,
) -> dict[str, str]:
    """The headers a sender sets for ``body``. ``timestamp`` is epoch seconds (now if None).

    ``msg_id`` is the Standard Webhooks message id (a random ``msg_...`` one when empty).
    Raises ``ValueError`` for an unknown scheme or an unusable secret.
    """
    sent_at = time.time() if timestamp is None else timestamp
    if scheme == "standard-webhooks":
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        ts = str(int(sent_at))
        digest = _hmac(standard_webhooks_key(secret), f"{msg_id}.{ts}.".encode() + body)
        signature = "v1," + base64.b64encode(digest).decode()
        return {SW_ID: msg_id, SW_TIMESTAMP: ts, SW_SIGNATURE: signature}
    if scheme == "hubspot-v3":
        ts_ms = str(int(sent_at * 1000))
        digest = _hmac(_utf8_key(secret), _hubspot_content(method, url, body, ts_ms))
        return {
            "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
            "X-HubSpot-Request-Timestamp": ts_ms,
        }
    if scheme == "hmac-sha256-hex":
        name = header_name or "X-Hub-Signature-256"
        return {name: "sha256=" + _hmac(_utf8_key(secret), body).hex()}
    raise ValueError(f"unknown signature scheme {scheme!r}")
