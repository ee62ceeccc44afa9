"""The hostile corpus against both entry points: the ASGI receiver and the Lambda handler (REST
and HTTP API events). Every case answers 400/401/413 with its reason, in bounded time, and
nothing is enqueued."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any
from urllib.parse import unquote

import pytest

from cdcbridge.clock import MockedClock
from tests.fakes.webhook_receiver import NOW, SOURCES, build
from tests.unit.webhook_bridge.asgi_driver import post, running
from tests.unit.webhook_bridge.hostile_corpus import BASES, ONE_MIB, HostileCase, corpus, sandbox
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.ingest import IngestCore
from webhook_bridge.lambda_handler import handle_event

pytestmark = pytest.mark.unit

CASES = corpus()
# A freeze bound, not a speed target (speed is measured in bench/): a case that waited for more
# body or for a lock would hang. Each case is a few linear passes over at most ~1 MiB; on a
# loaded CI machine the slowest once took 0.52 s.
BOUND_S = 5.0


def test_corpus_covers_every_kind() -> None:
    kinds = {case.name.split(":")[1].split("[")[0] for case in CASES}
    assert {"webhook-signature", "X-HubSpot-Signature-v3", "X-Hub-Signature-256"} <= kinds
    assert len(CASES) > 1000
    assert {status for case in CASES for status in case.statuses} == {400, 401, 413}


def test_the_unmutated_requests_are_accepted_by_both_entry_points() -> None:
    """The corpus mutates valid requests: each base must itself be accepted, or every case
    would be refused for a reason of the base's own."""
    bases = [base().case(base.__name__, {202}) for base in BASES]
    receiver, queue, _, _ = build()

    async def replay() -> list[int]:
        async with running(receiver.app):
            return [(await post(receiver.app, f"/webhooks/{case.source}", case.headers,
                                case.body, query=case.query)).status for case in bases]  # fmt: skip

    assert asyncio.run(replay()) == [202] * len(bases)
    assert queue.depth() == len(bases)
    for event_of in (rest_event, http_api_event):
        sent: list[WebhookEnvelope] = []
        core = lambda_core()
        assert [handle_event(event_of(case), core, sent.append)["statusCode"]
                for case in bases] == [202] * len(bases)  # fmt: skip
        assert len(sent) == len(bases)


def test_receiver_answers_every_case_without_enqueueing() -> None:
    receiver, queue, _, metrics = build()
    failures: list[str] = []
    slowest = 0.0

    async def replay() -> None:
        nonlocal slowest
        async with running(receiver.app):
            for case in CASES:
                started = time.perf_counter()
                answer = await post(receiver.app, f"/webhooks/{case.source}", case.headers,
                                    case.body, query=case.query)  # fmt: skip
                slowest = max(slowest, time.perf_counter() - started)
                if answer.status not in case.statuses or (
                    case.reason and answer.reason() != case.reason
                ):
                    failures.append(f"{case.name}: {answer.status} {answer.reason()}")

    asyncio.run(replay())
    assert failures == []
    assert slowest < BOUND_S
    assert queue.depth() == 0
    assert metrics.total("cdcbridge_webhooks_enqueued_total") == 0


def lambda_core() -> IngestCore:
    clock = MockedClock(start=NOW)
    return IngestCore(SOURCES, clock, DedupeWindow(clock, 600, 100))


def text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def rest_event(case: HostileCase) -> dict[str, Any]:
    """A REST (1.0) proxy event as API Gateway builds it: last value in ``headers``, all in
    ``multiValueHeaders``; decoded query parameters."""
    multi: dict[str, list[str]] = {}
    for name, value in case.headers:
        multi.setdefault(name, []).append(text(value))
    params: dict[str, list[str]] = {}
    for item in filter(None, case.query.split("&")):
        key, _, raw = item.partition("=")
        params.setdefault(unquote(key), []).append(unquote(raw))
    return {
        "httpMethod": "POST", "path": f"/webhooks/{case.source}",
        "pathParameters": {"source": case.source},
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        **body_fields(case.body),
        "requestContext": {"domainName": "abc.execute-api", "path": f"/webhooks/{case.source}"},
    }  # fmt: skip


def body_fields(body: bytes) -> dict[str, Any]:
    """Text bodies as text, others base64 (binary media types), as API Gateway passes them."""
    try:
        return {"body": body.decode("utf-8"), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}


def http_api_event(case: HostileCase) -> dict[str, Any]:
    """An HTTP API (2.0) event: lower-case names, repeated headers joined with commas."""
    joined: dict[str, str] = {}
    for name, value in case.headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{text(value)}" if key in joined else text(value)
    return {
        "version": "2.0", "rawPath": f"/webhooks/{case.source}", "rawQueryString": case.query,
        "pathParameters": {"source": case.source}, "headers": joined,
        "body": base64.b64encode(case.body).decode(), "isBase64Encoded": True,
        "requestContext": {"http": {"method": "POST"}, "domainName": "abc.execute-api"},
    }  # fmt: skip


@pytest.mark.parametrize("event_of", [rest_event, http_api_event])
def test_lambda_answers_every_case_without_sending(event_of: Any) -> None:
    core = lambda_core()
    sent: list[WebhookEnvelope] = []
    failures: list[str] = []
    slowest = 0.0
    for case in CASES:
        if event_of is http_api_event and case.has_duplicates():
            continue  # API Gateway joins them with commas: see the dedicated test below
        started = time.perf_counter()
        answer = handle_event(event_of(case), core, sent.append)
        slowest = max(slowest, time.perf_counter() - started)
        reason = json.loads(answer["body"]).get("error")
        if answer["statusCode"] not in case.statuses or (case.reason and reason != case.reason):
            failures.append(f"{case.name}: {answer['statusCode']} {reason}")
    assert failures == []
    assert slowest < BOUND_S
    assert sent == []


def test_http_api_joined_duplicate_signature_headers_are_refused() -> None:
    valid = sandbox()
    for header in valid.signed:
        case = valid.case("dup", {401}, extra=((header, valid.headers[header].encode()),))
        answer = handle_event(http_api_event(case), lambda_core(), lambda e: None)
        assert answer["statusCode"] == 401


def test_lambda_body_encodings_that_cannot_be_decoded() -> None:
    valid = sandbox()
    case = valid.case("base", {202})
    for body, b64 in (("%%%", True), ("é", True), ('{"a":"\ud800"}', False), ("", True)):
        event = rest_event(case) | {"body": body, "isBase64Encoded": b64}
        answer = handle_event(event, lambda_core(), lambda e: None)
        assert answer["statusCode"] in {400, 401}
    not_text = rest_event(case) | {"body": {"a": 1}}
    assert handle_event(not_text, lambda_core(), lambda e: None)["statusCode"] == 400


def test_truncated_on_the_wire_is_400_and_not_enqueued() -> None:
    receiver, queue, _, _ = build()
    valid = sandbox()
    headers = tuple((k, v.encode()) for k, v in valid.headers.items())

    async def replay() -> list[int]:
        statuses: list[int] = []
        async with running(receiver.app):
            for cut in range(len(valid.body)):
                sent = valid.body[:cut]
                answer = await post(receiver.app, "/webhooks/sandbox", headers, valid.body,
                                    sent_body=sent)  # fmt: skip
                statuses.append(answer.status)
        return statuses

    assert set(asyncio.run(replay())) == {400}
    assert queue.depth() == 0


def test_a_valid_request_is_not_delayed_by_a_1mib_signature_header() -> None:
    receiver, queue, _, _ = build()
    valid = sandbox()
    good = tuple((k, v.encode()) for k, v in valid.headers.items())
    hostile = tuple(
        (k, b"v1,AAAA" + b" a" * (ONE_MIB // 2 - 4) if k == "webhook-signature" else v.encode())
        for k, v in valid.headers.items()
    )

    async def timed(headers: tuple[tuple[str, bytes], ...], since: float) -> tuple[int, float]:
        answer = await post(receiver.app, "/webhooks/sandbox", headers, valid.body)
        return answer.status, time.perf_counter() - since

    async def race() -> list[tuple[int, float]]:
        async with running(receiver.app):
            since = time.perf_counter()  # all start together: the valid one waits for the rest
            return list(await asyncio.gather(
                timed(good, since), *(timed(hostile, since) for _ in range(4))
            ))  # fmt: skip

    (status, waited), *attacks = asyncio.run(race())
    assert status == 202
    assert queue.depth() == 1
    assert {code for code, _ in attacks} == {401}
    assert waited < 1.0  # before the fix: ~10 s for one such header (a 10x margin for loaded CI)
