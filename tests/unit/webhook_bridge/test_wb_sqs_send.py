"""AsyncBatchSender's HTTP exchange against a scripted loopback server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from botocore.credentials import Credentials

from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.queue import QueueUnavailable
from webhook_bridge.sqs_send import AsyncBatchSender

pytestmark = pytest.mark.unit

QUEUE_URL = "http://127.0.0.1/000000000000/engagement"
Answer = Callable[[dict[str, object]], bytes]


def ok(request: dict[str, object]) -> bytes:
    entries = request["Entries"]
    assert isinstance(entries, list)
    doc = {"Successful": [{"Id": e["Id"]} for e in entries[1:]],
           "Failed": [{"Id": entries[0]["Id"], "Code": "InvalidMessageContents"}]}  # fmt: skip
    body = json.dumps(doc).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def chunked(request: dict[str, object]) -> bytes:
    body = json.dumps({"Successful": [{"Id": "0"}, {"Id": "1"}]}).encode()
    half = len(body) // 2
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (
        half, body[:half], len(body) - half, body[half:],
    )  # fmt: skip
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks


Outcome = tuple[list[object], list[dict[str, str]], int]


async def exchange(answers: list[Answer], calls: int, close_after_each: bool = False) -> Outcome:
    seen: list[dict[str, str]] = []
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while answers:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            lines = head.decode().split("\r\n")
            headers = {
                k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
            }
            body = await reader.readexactly(int(headers["content-length"]))
            seen.append(headers)
            writer.write(answers.pop(0)(json.loads(body)))
            await writer.drain()
            if close_after_each:
                break
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = AsyncBatchSender(f"http://127.0.0.1:{port}", "us-east-1", Credentials("a", "b"),
                              QUEUE_URL, timeout_s=2)  # fmt: skip
    envelopes = [WebhookEnvelope("s", f"w{i}", "t", 1, "{}") for i in range(2)]
    results: list[object] = []
    for _ in range(calls):
        try:
            results.append(await sender.send_batch(envelopes))
        except QueueUnavailable as exc:
            results.append(exc)
        await asyncio.sleep(0)  # let the server notice a closed connection
    await sender.aclose()
    server.close()
    await server.wait_closed()
    return results, seen, connections


def test_results_per_entry_signed_request_and_keep_alive() -> None:
    results, seen, connections = asyncio.run(exchange([ok, ok], 2))
    assert results == [["InvalidMessageContents", None]] * 2
    assert connections == 1
    assert seen[0]["x-amz-target"] == "AmazonSQS.SendMessageBatch"
    assert seen[0]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=a/")


def test_chunked_answer() -> None:
    results, _, _ = asyncio.run(exchange([chunked], 1))
    assert results == [[None, None]]


def test_server_error_and_garbage_raise_queue_unavailable() -> None:
    error: Answer = lambda _: b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"  # noqa: E731
    garbage: Answer = lambda _: b"SMTP ready\r\n\r\n"  # noqa: E731
    results, _, _ = asyncio.run(exchange([error, garbage], 2))
    assert all(isinstance(r, QueueUnavailable) for r in results)


def test_stale_keep_alive_connection_is_replaced() -> None:
    results, _, connections = asyncio.run(exchange([ok, ok], 2, close_after_each=True))
    assert results == [["InvalidMessageContents", None]] * 2
    assert connections == 2


def test_unreachable_endpoint() -> None:
    async def call() -> None:
        sender = AsyncBatchSender("http://127.0.0.1:9", "us-east-1", Credentials("a", "b"),
                                  QUEUE_URL, timeout_s=2)  # fmt: skip
        await sender.send_batch([WebhookEnvelope("s", "w", "t", 1, "{}")])

    with pytest.raises(QueueUnavailable):
        asyncio.run(call())
