"""API Gateway proxy events (REST ``1.0`` and HTTP API ``2.0``) -> ``WebhookRequest``.

The URL a sender signed (HubSpot v3) is rebuilt as faithfully as each format allows:

- HTTP API (``2.0``) carries ``rawQueryString``: used byte for byte.
- REST (``1.0``, what ``deploy/aws/template.yaml`` deploys) carries only decoded parameters.
  The query is rebuilt from ``multiValueQueryStringParameters`` (every value of a repeated key,
  in order) and tried in the few spellings a sender uses: RFC 3986 (``%20``, ``%2B``), ``+``
  left as is (API Gateway does not decode it), and form encoding (space as ``+``). A query
  whose raw spelling is none of these, or that interleaves a repeated key with others
  (``a=1&b=2&a=3``), cannot be rebuilt: it answers 401 ``no_match``; use the HTTP API or a
  target URL without such a query.

Never raises for any event API Gateway can send; a body that cannot be decoded gives None.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus

from webhook_bridge.ingest import WebhookRequest

_QueryEncoder = Callable[[str], str]
_SPELLINGS: Final[tuple[_QueryEncoder, ...]] = (
    lambda text: quote(text, safe="", errors="surrogatepass"),  # RFC 3986: %20, %2B
    lambda text: quote(text, safe="+", errors="surrogatepass"),  # a literal + left as is
    lambda text: quote_plus(text, safe="", errors="surrogatepass"),  # form: space as +
)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _headers(event: Mapping[str, Any]) -> tuple[dict[str, str], frozenset[str]]:
    """Lower-case headers and the names given more than once: several values in REST's
    ``multiValueHeaders``, or one name in several spellings of case."""
    headers: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in (event.get("headers") or {}).items():
        lowered = str(name).lower()
        if lowered in headers:
            repeated.add(lowered)
        headers[lowered] = _text(value)
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if isinstance(values, list) and len(values) > 1:
            repeated.add(str(name).lower())
    return headers, frozenset(repeated)


def _rest_queries(event: Mapping[str, Any]) -> list[str]:
    """The spellings of a REST event's query (one empty string when it has none)."""
    multi = event.get("multiValueQueryStringParameters") or {}
    pairs = [
        (str(key), _text(value))
        for key, values in multi.items()
        for value in (values if isinstance(values, list) else [values])
    ] or [
        (str(key), _text(value))
        for key, value in (event.get("queryStringParameters") or {}).items()
    ]
    spelled = ("&".join(f"{enc(k)}={enc(v)}" for k, v in pairs) for enc in _SPELLINGS)
    return list(dict.fromkeys(spelled))


def request_from_event(event: Mapping[str, Any]) -> WebhookRequest | None:
    """The request in an API Gateway proxy event (None when the body cannot be decoded)."""
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    method = _text(event.get("httpMethod") or http.get("method")) or "POST"
    path = _text(context.get("path") or event.get("rawPath") or event.get("path")) or "/"
    if "rawQueryString" in event:
        queries = [_text(event.get("rawQueryString"))]
    else:
        queries = _rest_queries(event)
    base = f"https://{_text(context.get('domainName')) or 'localhost'}{path}"
    urls = [base + (f"?{query}" if query else "") for query in queries]
    source = _text((event.get("pathParameters") or {}).get("source"))
    headers, repeated = _headers(event)
    raw = event.get("body") or ""
    if not isinstance(raw, str):
        return None
    try:
        encoded = bool(event.get("isBase64Encoded"))
        body = base64.b64decode(raw, validate=True) if encoded else raw.encode()
    except ValueError:  # binascii.Error, non-ASCII base64, lone surrogates (UnicodeEncodeError)
        return None
    return WebhookRequest(source, method, urls[0], headers, body, repeated, tuple(urls[1:]))
