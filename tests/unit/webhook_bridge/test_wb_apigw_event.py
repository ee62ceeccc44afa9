"""HubSpot v3 through both API Gateway event formats: the URL is the one HubSpot signed.

REST (1.0) events carry only decoded parameters, so the query is rebuilt from
``multiValueQueryStringParameters``; HTTP API (2.0) events carry ``rawQueryString``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, unquote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdcbridge.clock import MockedClock
from tests.fakes.webhook_receiver import HS_SECRET, NOW, SOURCES
from webhook_bridge.apigw_event import request_from_event
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.ingest import IngestCore
from webhook_bridge.lambda_handler import handle_event
from webhook_bridge.signatures import sign

pytestmark = pytest.mark.unit

BODY = json.dumps([{"eventId": 1, "subscriptionType": "contact.creation", "objectId": 9}]).encode()
QUERIES = [
    "",
    "note=a%20b",
    "sum=1%2B2",
    "tag=x&tag=y",
    "tag=x&tag=y&tag=x",
    "q=a+b",
    "who=ada%40example.com&at=10%3A00",
    "name=%C3%A9l%C3%A9onore",
    "portal=62515&note=a%20b&sum=1%2B2&tag=x&tag=y",
]


def rest_event(query: str, decode: Callable[[str], str]) -> dict[str, Any]:
    """A REST proxy event; ``decode`` is how the gateway decodes each key and value."""
    multi: dict[str, list[str]] = {}
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        multi.setdefault(decode(key), []).append(decode(value))
    return {
        "httpMethod": "POST", "path": "/webhooks/hubspot",
        "pathParameters": {"source": "hubspot"},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "requestContext": {"domainName": "abc.execute-api", "path": "/webhooks/hubspot"},
    }  # fmt: skip


def http_api_event(query: str) -> dict[str, Any]:
    return {
        "version": "2.0", "rawPath": "/webhooks/hubspot", "rawQueryString": query,
        "pathParameters": {"source": "hubspot"},
        "requestContext": {"http": {"method": "POST"}, "domainName": "abc.execute-api"},
    }  # fmt: skip


def signed(event: dict[str, Any], query: str) -> dict[str, Any]:
    url = "https://hooks.example.com/webhooks/hubspot" + (f"?{query}" if query else "")
    headers = sign("hubspot-v3", secret=HS_SECRET, body=BODY, url=url, timestamp=NOW)
    return event | {"headers": headers, "body": BODY.decode(), "isBase64Encoded": False}


def answer(event: dict[str, Any]) -> tuple[int, list[WebhookEnvelope]]:
    clock = MockedClock(start=NOW)
    sent: list[WebhookEnvelope] = []
    response = handle_event(
        event, IngestCore(SOURCES, clock, DedupeWindow(clock, 1, 1)), sent.append
    )
    return response["statusCode"], sent


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize(
    "event_of",
    [
        pytest.param(lambda q: rest_event(q, unquote), id="rest-plus-kept"),
        pytest.param(lambda q: rest_event(q, unquote_plus), id="rest-plus-decoded"),
        pytest.param(http_api_event, id="http-api"),
    ],
)
def test_hubspot_signature_verifies_in_both_formats(
    query: str, event_of: Callable[[str], dict[str, Any]]
) -> None:
    status, sent = answer(signed(event_of(query), query))
    assert status == 202
    assert [envelope.body.encode() for envelope in sent] == [BODY]


def test_rest_query_spellings_are_few_and_keep_repeated_keys_in_order() -> None:
    request = request_from_event(
        signed(rest_event("tag=x&tag=y+z&note=a%20b", unquote), "tag=x&tag=y+z&note=a%20b")
    )
    assert request is not None
    urls = (request.url, *request.alternate_urls)
    base = "https://abc.execute-api/webhooks/hubspot?"
    assert urls == (
        base + "tag=x&tag=y%2Bz&note=a%20b",
        base + "tag=x&tag=y+z&note=a%20b",
        base + "tag=x&tag=y%2Bz&note=a+b",
    )


def test_rest_cannot_rebuild_an_interleaved_repeated_key() -> None:
    """Documented limit (apigw_event): ``a=1&b=2&a=3`` reaches us as {a: [1, 3], b: [2]}."""
    query = "a=1&b=2&a=3"
    assert answer(signed(rest_event(query, unquote), query))[0] == 401
    assert answer(signed(http_api_event(query), query))[0] == 202


def test_a_forged_query_is_refused_in_both_formats() -> None:
    good = "note=a%20b"
    for event in (rest_event("note=a%20c", unquote), http_api_event("note=a%20c")):
        assert answer(signed(event, good))[0] == 401


ANY_TEXT = st.text(st.characters(codec=None), max_size=80)  # surrogates and controls included
HEADER_NAMES = st.sampled_from([
    "webhook-id", "Webhook-Signature", "webhook-timestamp", "X-HubSpot-Signature-v3",
    "x-hubspot-request-timestamp", "X-Hub-Signature-256", "x-github-delivery", "traceparent",
    "Content-Length", "host",
]) | ANY_TEXT  # fmt: skip


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    source=st.sampled_from(["sandbox", "hubspot", "gh", "nope", ""]) | ANY_TEXT,
    headers=st.dictionaries(HEADER_NAMES, ANY_TEXT, max_size=6),
    repeated=st.dictionaries(HEADER_NAMES, st.lists(ANY_TEXT, max_size=3), max_size=3),
    query=st.dictionaries(ANY_TEXT, st.lists(ANY_TEXT, max_size=3), max_size=3),
    body=ANY_TEXT,
    b64=st.booleans(),
    v2=st.booleans(),
)
def test_any_event_is_answered_4xx_and_nothing_is_sent(
    source: str, headers: dict[str, str], repeated: dict[str, list[str]],
    query: dict[str, list[str]], body: str, b64: bool, v2: bool,
) -> None:  # fmt: skip
    event: dict[str, Any] = {
        "pathParameters": {"source": source}, "headers": headers, "body": body,
        "isBase64Encoded": b64,
    }  # fmt: skip
    if v2:
        event |= {"version": "2.0", "rawPath": f"/webhooks/{source}",
                  "rawQueryString": "&".join(query),
                  "requestContext": {"http": {"method": "POST"}}}  # fmt: skip
    else:
        event |= {"httpMethod": "POST", "path": f"/webhooks/{source}",
                  "multiValueHeaders": repeated, "multiValueQueryStringParameters": query,
                  "requestContext": {"path": f"/webhooks/{source}"}}  # fmt: skip
    status, sent = answer(event)
    assert status in {400, 401, 404, 413}
    assert sent == []
