"""SqsSender's HTTP exchange against a scripted loopback server."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Callable, Coroutine
from typing import TypeVar

import pytest
import uvloop
from botocore.credentials import Credentials

from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.queue import QueueUnavailable
from webhook_bridge.queue.sqs_send import SqsSender

pytestmark = pytest.mark.unit

QUEUE_URL = "http://127.0.0.1/000000000000/engagement"
Answer = Callable[[dict[str, object]], bytes]
T = TypeVar("T")


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
    sender = SqsSender(f"http://127.0.0.1:{port}", "us-east-1", Credentials("a", "b"),
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
        sender = SqsSender("http://127.0.0.1:9", "us-east-1", Credentials("a", "b"),
                                  QUEUE_URL, timeout_s=2)  # fmt: skip
        await sender.send_batch([WebhookEnvelope("s", "w", "t", 1, "{}")])

    with pytest.raises(QueueUnavailable):
        asyncio.run(call())


def run_on(loop_kind: str, main: Callable[[], Coroutine[object, object, T]]) -> T:
    if loop_kind == "uvloop":
        return uvloop.run(main())
    return asyncio.run(main())


async def idle_closing_server(
    idle_close_s: float, drop_second_request: bool = False, reset: bool = False
) -> tuple[asyncio.Server, list[int]]:
    """Answers ``ok``; closes a connection idle for ``idle_close_s`` (like a keep-alive
    timeout). With ``drop_second_request`` the second request on a connection is read and the
    connection closed without an answer (the server's idle timer firing as it arrives). With
    ``reset`` an idle connection is closed with a TCP reset instead of a FIN."""
    served: list[int] = []  # requests answered, per connection

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(0)
        index = len(served) - 1
        while True:
            try:
                async with asyncio.timeout(idle_close_s):
                    head = await reader.readuntil(b"\r\n\r\n")
            except (TimeoutError, asyncio.IncompleteReadError):
                if reset:
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                break
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
            if drop_second_request and served[index] == 1:
                break
            served[index] += 1
            writer.write(ok(json.loads(body)))
            await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0), served


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_idle_past_the_server_keep_alive_sends_without_503(loop_kind: str, reset: bool) -> None:
    async def main() -> tuple[list[object], list[int], int]:
        server, served = await idle_closing_server(0.05, reset=reset)
        port = server.sockets[0].getsockname()[1]
        sender = SqsSender(f"http://127.0.0.1:{port}", "us-east-1", Credentials("a", "b"),
                                  QUEUE_URL, timeout_s=2)  # fmt: skip
        envelopes = [WebhookEnvelope("s", f"w{i}", "t", 1, "{}") for i in range(2)]
        results: list[object] = [await sender.send_batch(envelopes)]
        await asyncio.sleep(0.3)  # idle past the server's keep-alive: it closed the connection
        results.append(await sender.send_batch(envelopes))
        await sender.aclose()
        server.close()
        await server.wait_closed()
        return results, served, sender.stale_retries

    results, served, _ = run_on(loop_kind, main)
    assert results == [["InvalidMessageContents", None]] * 2
    assert served == [1, 1]


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_connection_closed_as_the_request_arrives_is_retried_once(loop_kind: str) -> None:
    async def main() -> tuple[list[object], list[int], int]:
        server, served = await idle_closing_server(5.0, drop_second_request=True)
        port = server.sockets[0].getsockname()[1]
        sender = SqsSender(f"http://127.0.0.1:{port}", "us-east-1", Credentials("a", "b"),
                                  QUEUE_URL, timeout_s=2)  # fmt: skip
        envelopes = [WebhookEnvelope("s", f"w{i}", "t", 1, "{}") for i in range(2)]
        results: list[object] = [await sender.send_batch(envelopes)]
        results.append(await sender.send_batch(envelopes))
        await sender.aclose()
        server.close()
        await server.wait_closed()
        return results, served, sender.stale_retries

    results, served, stale_retries = run_on(loop_kind, main)
    assert results == [["InvalidMessageContents", None]] * 2
    assert served == [1, 1]
    assert stale_retries == 1


def test_connection_idle_longer_than_max_idle_is_not_reused() -> None:
    async def main() -> tuple[list[int], int]:
        server, served = await idle_closing_server(5.0)
        port = server.sockets[0].getsockname()[1]
        sender = SqsSender(f"http://127.0.0.1:{port}", "us-east-1", Credentials("a", "b"),
                                  QUEUE_URL, timeout_s=2, max_idle_s=0.05)  # fmt: skip
        envelopes = [WebhookEnvelope("s", "w0", "t", 1, "{}")]
        await sender.send_batch(envelopes)
        await asyncio.sleep(0.1)
        await sender.send_batch(envelopes)
        await sender.aclose()
        server.close()
        await server.wait_closed()
        return served, sender.stale_retries

    served, stale_retries = asyncio.run(main())
    assert (served, stale_retries) == ([1, 1], 0)
