"""The Lambda handler: API Gateway proxy events in, the receiver's status codes out."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cdcbridge.clock import MockedClock
from tests.fakes.webhook_receiver import NOW, SOURCES, sandbox_body, sandbox_headers
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.ingest import IngestCore
from webhook_bridge.lambda_handler import handle_event
from webhook_bridge.queue import QueueUnavailable

pytestmark = pytest.mark.unit


def core() -> IngestCore:
    clock = MockedClock(start=NOW)
    return IngestCore(SOURCES, clock, DedupeWindow(clock, 600, 100))


def rest_event(body: bytes, headers: dict[str, str], source: str = "sandbox",
               b64: bool = False) -> dict[str, Any]:  # fmt: skip
    return {
        "httpMethod": "POST",
        "path": f"/webhooks/{source}",
        "pathParameters": {"source": source},
        "headers": headers,
        "body": base64.b64encode(body).decode() if b64 else body.decode(),
        "isBase64Encoded": b64,
        "requestContext": {"domainName": "abc.execute-api", "path": f"/v1/webhooks/{source}"},
    }


def test_accepts_and_sends_once_durable_rest_and_base64() -> None:
    sent: list[WebhookEnvelope] = []
    ingest = core()
    body = sandbox_body()
    answer = handle_event(rest_event(body, sandbox_headers(body), b64=True), ingest, sent.append)
    assert answer["statusCode"] == 202
    assert json.loads(answer["body"])["webhook_id"] == "msg_1"
    assert [e.body.encode() for e in sent] == [body]
    again = handle_event(rest_event(body, sandbox_headers(body)), ingest, sent.append)
    assert json.loads(again["body"])["status"] == "duplicate"
    assert len(sent) == 1


def test_http_api_v2_event() -> None:
    sent: list[WebhookEnvelope] = []
    body = sandbox_body()
    event = {
        "rawPath": "/webhooks/sandbox", "rawQueryString": "",
        "pathParameters": {"source": "sandbox"},
        "headers": sandbox_headers(body), "body": body.decode(), "isBase64Encoded": False,
        "requestContext": {"http": {"method": "POST"}, "domainName": "x"},
    }  # fmt: skip
    assert handle_event(event, core(), sent.append)["statusCode"] == 202
    assert len(sent) == 1


def test_statuses_match_the_receiver() -> None:
    def down(envelope: WebhookEnvelope) -> None:
        raise QueueUnavailable("down")

    body = sandbox_body()
    ingest = core()
    assert handle_event(rest_event(body, {}), ingest, down)["statusCode"] == 401
    assert handle_event(rest_event(body, {}, source="x"), ingest, down)["statusCode"] == 404
    bad = rest_event(b"", {}, b64=True) | {"body": "%%%"}
    assert handle_event(bad, ingest, down)["statusCode"] == 400
    unavailable = handle_event(rest_event(body, sandbox_headers(body)), ingest, down)
    assert unavailable["statusCode"] == 503
    assert unavailable["headers"]["Retry-After"] == "5"
    sent: list[WebhookEnvelope] = []
    retried = handle_event(rest_event(body, sandbox_headers(body)), ingest, sent.append)
    assert retried["statusCode"] == 202
    assert len(sent) == 1
