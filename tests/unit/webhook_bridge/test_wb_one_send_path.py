"""One send path on the inbound side: the ASGI receiver and the Lambda handler, each built by
its production wiring (``service.build_receiver``, ``lambda_handler.handler``), enqueue through
the one ``webhook_bridge.queue.sqs_send.SqsSender.send_batch``; no other module of the project
speaks SendMessageBatch or builds its entries."""

from __future__ import annotations

import ast
import asyncio
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.fakes.webhook_receiver import SW_SECRET, sandbox_body, sandbox_headers
from tests.unit.webhook_bridge.asgi_driver import post, running
from webhook_bridge import lambda_handler
from webhook_bridge.config import BridgeSettings
from webhook_bridge.envelope import QueueBody, decode_message
from webhook_bridge.queue.sqs_send import SqsSender
from webhook_bridge.service import build_receiver

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
SEND_MODULE = ROOT / "webhook_bridge" / "queue" / "sqs_send.py"
PRODUCTION = ("cdcbridge", "streams", "webhook_bridge", "local_stack", "sandbox_platform")
# Nothing listens here: a send that went around the patched path would fail, not pass.
QUEUE_URL = "http://127.0.0.1:9/000000000000/engagement"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, list[str]]]]:
    """Every ``SqsSender.send_batch`` call: (the sender's id, the webhook ids it carried)."""
    calls: list[tuple[int, list[str]]] = []

    async def send_batch(self: SqsSender, messages: Sequence[QueueBody]) -> list[str | None]:
        calls.append(
            (id(self), [e.webhook_id for m in messages for e in decode_message(m.encode())])
        )
        return [None] * len(messages)

    monkeypatch.setattr(SqsSender, "send_batch", send_batch)
    monkeypatch.delenv("CDCBRIDGE_METRICS_PORT", raising=False)
    monkeypatch.setenv("CDCBRIDGE_WEBHOOKS_QUEUE_URL", QUEUE_URL)
    monkeypatch.setenv("CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv(
        "CDCBRIDGE_WEBHOOKS_SOURCES_JSON",
        json.dumps({"sources": {"sandbox": {"scheme": "standard-webhooks",
                                            "secrets": [SW_SECRET]}}}),
    )  # fmt: skip
    lambda_handler._wiring.cache_clear()
    yield calls
    lambda_handler._wiring.cache_clear()


def test_the_receiver_sends_through_the_one_sender(sent: list[tuple[int, list[str]]]) -> None:
    receiver = build_receiver(BridgeSettings())
    body = sandbox_body("evt_asgi")
    headers = sandbox_headers(body, msg_id="msg_asgi", ts=time.time())

    async def scenario() -> int:
        async with running(receiver.app):
            answer = await post(receiver.app, "/webhooks/sandbox", list(
                (k, v.encode()) for k, v in headers.items()), body)  # fmt: skip
            return answer.status

    assert asyncio.run(scenario()) == 202
    assert [ids for _, ids in sent] == [["msg_asgi"]]


def test_the_lambda_handler_sends_through_the_one_sender(
    sent: list[tuple[int, list[str]]],
) -> None:
    body = sandbox_body("evt_lambda")
    event = {
        "httpMethod": "POST", "path": "/webhooks/sandbox",
        "pathParameters": {"source": "sandbox"},
        "headers": sandbox_headers(body, msg_id="msg_lambda", ts=time.time()),
        "body": body.decode(), "isBase64Encoded": False,
        "requestContext": {"domainName": "abc.execute-api", "path": "/v1/webhooks/sandbox"},
    }  # fmt: skip
    answer = lambda_handler.handler(event, None)
    assert answer["statusCode"] == 202, answer
    assert [ids for _, ids in sent] == [["msg_lambda"]]


def _speaks_send_message_batch(path: Path) -> list[str]:
    """Where ``path`` names SendMessageBatch in code (docstrings aside) or calls boto3's
    ``send_message_batch``/``send_message``."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }  # fmt: skip
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and id(node) not in docstrings
            and isinstance(node.value, str)
            and "SendMessageBatch" in node.value
        ):
            found.append(f"{path.name}:{node.lineno} names SendMessageBatch")
        if isinstance(node, ast.Attribute) and node.attr in ("send_message_batch", "send_message"):
            found.append(f"{path.name}:{node.lineno} calls {node.attr}")
    return found


def test_no_other_module_speaks_send_message_batch() -> None:
    assert _speaks_send_message_batch(SEND_MODULE), "the send module itself must be found"
    others = [
        hit
        for package in PRODUCTION
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != SEND_MODULE
        for hit in _speaks_send_message_batch(path)
    ]
    assert others == []
