"""The one send path to SQS, used by the ASGI receiver and the Lambda handler alike:
SendMessageBatch as one signed HTTP/1.1 POST on the caller's event loop (SQS JSON protocol,
botocore's SigV4 signer, keep-alive asyncio connections).

Why not the boto3 client: measured here, ``client.send_message_batch`` costs ~2.2 ms of CPU per
call and must run in a thread; this path costs ~0.3 ms (0.1 ms of it I/O) and never leaves the
loop, which is what lets one receiver process enqueue at close to its verify-only rate. httpx's
async client was tried and cost ~1.7 ms per call. The Lambda handler runs it on an event loop of
its own, kept for the life of the execution environment (its connection with it).

Deadline: each call, its retry included, finishes within ``timeout_s`` or raises
``QueueUnavailable`` (a hung or black-holed endpoint costs exactly that). Keep-alive hygiene:
servers close idle connections (ElasticMQ's HTTP server after 60 s, load balancers after ~60 s).
An idle connection is dropped before reuse once it saw EOF, is closing, or idled longer than
``max_idle_s`` (default 20 s, well under those limits); and a reused connection that fails
before any byte of an answer arrived (reset, broken pipe, EOF, a write to a transport the peer
already closed: ``RuntimeError`` under uvloop) is retried once on a fresh connection before
anything is reported as unavailable.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Sequence
from typing import Any

from botocore.credentials import Credentials

from webhook_bridge.envelope import QueueBody
from webhook_bridge.queue.protocol import QueueUnavailable
from webhook_bridge.queue.sqs_wire import (
    RequestSigner,
    StaleConnection,
    decode_answer,
    entry_results,
)

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_Idle = tuple[asyncio.StreamReader, asyncio.StreamWriter, float]  # + loop time it went idle
_WIRE_ERRORS = (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                TimeoutError, ValueError)  # fmt: skip
# What a reused connection the server already closed raises before any answer: uvloop raises
# RuntimeError ("the handler is closed") when writing to a transport closed under it.
_STALE_ERRORS = (ConnectionError, BrokenPipeError, RuntimeError, asyncio.IncompleteReadError)


class SqsSender:
    """One queue's ``QueueSender``. Use from one event loop; ``aclose`` at shutdown."""

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials, queue_url: str,
                 *, timeout_s: float = 5.0, max_idle_s: float = 20.0) -> None:  # fmt: skip
        self.__signer = RequestSigner(endpoint_url, region, credentials)
        self.__ssl = ssl.create_default_context() if self.__signer.https else None
        self.__queue_url = queue_url
        self.__timeout_s = timeout_s
        self.__max_idle_s = max_idle_s
        self.__idle: list[_Idle] = []
        self.stale_retries = 0

    async def send_batch(self, messages: Sequence[QueueBody]) -> list[str | None]:
        """Enqueue up to 10 messages; per entry ``None`` or its failure code. Raises
        ``QueueUnavailable``."""
        entries = [{"Id": str(i), "MessageBody": m.encode()} for i, m in enumerate(messages)]
        answer = await self.__call("SendMessageBatch", {"Entries": entries})
        return entry_results(answer, len(messages))

    async def ping(self) -> None:
        """Raises ``QueueUnavailable`` unless the queue answers GetQueueAttributes."""
        await self.__call("GetQueueAttributes", {"AttributeNames": ["QueueArn"]})

    async def aclose(self) -> None:
        idle, self.__idle = self.__idle, []
        for _, writer, _ in idle:
            writer.close()

    async def __call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"QueueUrl": self.__queue_url, **payload}).encode()
        request = self.__request(action, body)
        try:
            async with asyncio.timeout(self.__timeout_s):
                status, data = await self.__send(request)
        except _WIRE_ERRORS as exc:
            raise QueueUnavailable(f"{action}: {exc!r}") from exc
        return decode_answer(action, status, data)

    async def __send(self, request: bytes) -> tuple[int, bytes]:
        """On a reused connection, then once more on a fresh one if the reused one was stale."""
        try:
            return await self.__exchange(request, reuse=True)
        except StaleConnection:
            self.stale_retries += 1
        return await self.__exchange(request, reuse=False)  # never stale: not reused

    def __request(self, action: str, body: bytes) -> bytes:
        headers = self.__signer.headers(action, body)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return f"POST / HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body

    def __reusable(self) -> _Connection | None:
        """The most recently used idle connection still fit for a request, else None."""
        now = asyncio.get_running_loop().time()
        while self.__idle:
            reader, writer, since = self.__idle.pop()
            if reader.at_eof() or writer.is_closing() or now - since > self.__max_idle_s:
                writer.close()
                continue
            return reader, writer
        return None

    async def __exchange(self, request: bytes, reuse: bool) -> tuple[int, bytes]:
        connection = self.__reusable() if reuse else None
        reused = connection is not None
        if connection is None:
            connection = await asyncio.open_connection(
                self.__signer.host, self.__signer.port, ssl=self.__ssl
            )
        reader, writer = connection
        keep = False
        try:
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
            except _STALE_ERRORS as exc:
                partial = isinstance(exc, asyncio.IncompleteReadError) and exc.partial
                if reused and not partial:
                    raise StaleConnection from exc
                if isinstance(exc, RuntimeError):
                    raise ConnectionResetError(str(exc)) from exc
                raise
            status, headers = _parse_head(head)
            if headers.get("transfer-encoding", "").lower() == "chunked":
                data = await _read_chunked(reader)
            else:
                data = await reader.readexactly(int(headers.get("content-length", "0")))
            keep = headers.get("connection", "").lower() != "close"
            return status, data
        finally:
            if keep:
                self.__idle.append((reader, writer, asyncio.get_running_loop().time()))
            else:
                writer.close()


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    version, status, *_ = lines[0].split(" ", 2)
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x answer: {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(status), headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
