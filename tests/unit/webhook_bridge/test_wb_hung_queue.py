"""A hung SQS endpoint (accepts TCP, never answers): the receiver and the Lambda handler answer
503 with Retry-After within a bound derived from their timeouts, however many requests wait."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials

from cdcbridge.clock import SYSTEM_CLOCK
from tests.fakes.webhook_receiver import (
    SOURCES,
    SW_SECRET,
    sandbox_body,
    sandbox_headers,
)
from webhook_bridge import lambda_handler
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.ingest import IngestCore
from webhook_bridge.lambda_handler import SendBudget
from webhook_bridge.queue.sqs_send import SqsSender
from webhook_bridge.receiver import Receiver

pytestmark = pytest.mark.unit
TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "aws" / "template.yaml"


@contextlib.contextmanager
def hung_endpoint() -> Iterator[int]:
    """A port that accepts connections and reads forever without answering."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    closed = threading.Event()

    def accept() -> None:
        while not closed.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        closed.set()
        listener.close()
        for conn in held:
            conn.close()


def test_receiver_answers_every_request_503_within_the_send_timeout() -> None:
    timeout_s = 1.0
    with hung_endpoint() as port:
        core = IngestCore(SOURCES, SYSTEM_CLOCK, DedupeWindow(SYSTEM_CLOCK, 0, 0))
        sender = SqsSender(
            f"http://127.0.0.1:{port}",
            "us-east-1",
            Credentials("a", "b"),
            "http://127.0.0.1/000000000000/q",
            timeout_s=timeout_s,
        )
        receiver = Receiver(
            core, sender, SYSTEM_CLOCK, max_in_flight=1, send_timeout_s=timeout_s, retry_after_s=7
        )

        async def post_many() -> list[tuple[int, str | None, float]]:
            transport = httpx.ASGITransport(app=receiver.app)
            async with contextlib.AsyncExitStack() as stack:
                await stack.enter_async_context(receiver.app.router.lifespan_context(receiver.app))
                client = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://r")
                )

                async def one(i: int) -> tuple[int, str | None, float]:
                    body = sandbox_body(f"evt_{i}", f"u{i}@example.com")
                    started = time.monotonic()
                    answer = await client.post(
                        "/webhooks/sandbox",
                        content=body,
                        headers=sandbox_headers(body, f"msg_{i}", time.time()),
                    )
                    return (
                        answer.status_code,
                        answer.headers.get("retry-after"),
                        time.monotonic() - started,
                    )

                return await asyncio.gather(*(one(i) for i in range(60)))

        results = asyncio.run(post_many())
    assert {(status, retry) for status, retry, _ in results} == {(503, "7")}
    # 60 requests, one sending slot, batches of 10: without a per-caller deadline the last
    # batch would wait for five timed-out batches before it (6 x 1 s); slack for a busy host.
    assert max(elapsed for _, _, elapsed in results) < timeout_s + 1.5


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_lambda_answers_503_with_retry_after_within_its_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    function_timeout_s = 5
    budget = SendBudget.within(function_timeout_s)
    assert budget.worst_case_s <= function_timeout_s - 2.0
    with hung_endpoint() as port:
        endpoint = f"http://127.0.0.1:{port}"
        sources = {"sources": {"sandbox": {"scheme": "standard-webhooks", "secrets": [SW_SECRET]}}}
        monkeypatch.setenv("CDCBRIDGE_WEBHOOKS_SOURCES_JSON", json.dumps(sources))
        monkeypatch.setenv("CDCBRIDGE_WEBHOOKS_QUEUE_URL", f"{endpoint}/000000000000/engagement")
        monkeypatch.setenv("CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT", endpoint)
        monkeypatch.setenv("CDCBRIDGE_WEBHOOKS_RETRY_AFTER_S", "9")
        lambda_handler._wiring.cache_clear()
        body = sandbox_body()
        event: dict[str, Any] = {
            "httpMethod": "POST", "path": "/webhooks/sandbox", "body": body.decode(),
            "pathParameters": {"source": "sandbox"}, "isBase64Encoded": False,
            "headers": sandbox_headers(body, "msg_hung", time.time()),
            "requestContext": {"domainName": "hooks.example.com", "path": "/webhooks/sandbox"},
        }  # fmt: skip
        started = time.monotonic()
        answer = lambda_handler.handler(event, FakeContext(function_timeout_s * 1000 - 3))
        elapsed = time.monotonic() - started
        lambda_handler._wiring.cache_clear()
    assert (answer["statusCode"], answer["headers"]["Retry-After"]) == (503, "9")
    assert elapsed <= budget.worst_case_s + 0.5
    assert elapsed < function_timeout_s


def test_budget_for_the_templates_timeout() -> None:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    doc = yaml.load(TEMPLATE.read_text(), Loader=Loader)  # noqa: S506 (SafeLoader subclass)
    timeout = doc["Resources"]["ReceiverFunction"]["Properties"]["Timeout"]
    budget = SendBudget.within(timeout)
    assert budget.worst_case_s <= timeout - 2.0
    assert budget.timeout_s >= 1.0  # still room for a slow but healthy SQS
    with pytest.raises(ValueError, match="no time"):
        SendBudget.within(2)
