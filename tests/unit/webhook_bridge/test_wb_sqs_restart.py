"""The receiver across an SQS server kill and restart on the same port (what the local stack's
ElasticMQ does in the fault suite): accepted before, 503 with Retry-After while it is away (never
202, never a hang), accepted again once it is back, and only the accepted events enqueued."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import httpx
import pytest
from botocore.credentials import Credentials

from cdcbridge.clock import SYSTEM_CLOCK
from tests.fakes.webhook_receiver import SOURCES, sandbox_body, sandbox_headers
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.envelope import decode_message
from webhook_bridge.ingest import IngestCore
from webhook_bridge.queue.sqs_send import SqsSender
from webhook_bridge.receiver import Receiver

pytestmark = pytest.mark.unit
QUEUE_URL = "http://127.0.0.1/000000000000/engagement"


class KillableSqs:
    """A loopback SendMessageBatch server that keeps connections alive; ``kill`` closes the
    listener and every open connection at once (a SIGKILL as clients see it)."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.port = 0
        self.__server: asyncio.Server | None = None
        self.__writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.__server = await asyncio.start_server(self.__serve, "127.0.0.1", self.port)
        self.port = int(self.__server.sockets[0].getsockname()[1])

    async def kill(self) -> None:
        assert self.__server is not None
        self.__server.close()
        for writer in self.__writers:
            writer.transport.abort()
        self.__writers.clear()
        await self.__server.wait_closed()

    async def __serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.__writers.append(writer)
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                length = next(
                    int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length")
                )
                request = json.loads(await reader.readexactly(length))
                entries = request["Entries"]
                self.bodies += [e["MessageBody"] for e in entries]
                body = json.dumps({"Successful": [{"Id": e["Id"]} for e in entries]}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()


async def scenario() -> tuple[list[tuple[int, str | None]], list[str], int]:
    sqs = KillableSqs()
    await sqs.start()
    core = IngestCore(SOURCES, SYSTEM_CLOCK, DedupeWindow(SYSTEM_CLOCK, 0, 0))
    sender = SqsSender(f"http://127.0.0.1:{sqs.port}", "us-east-1", Credentials("a", "b"),
                       QUEUE_URL, timeout_s=1.0)  # fmt: skip
    receiver = Receiver(core, sender, SYSTEM_CLOCK, max_in_flight=4, send_timeout_s=1.0,
                        retry_after_s=3)  # fmt: skip
    answers: list[tuple[int, str | None]] = []
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(receiver.app.router.lifespan_context(receiver.app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app), base_url="http://r")
        )

        async def post(n: int) -> None:
            body = sandbox_body(f"evt_{n}", f"u{n}@example.com")
            headers = sandbox_headers(body, f"msg_{n}", time.time())
            answer = await client.post("/webhooks/sandbox", content=body, headers=headers)
            answers.append((answer.status_code, answer.headers.get("retry-after")))

        for n in range(3):  # before: kept-alive connections
            await post(n)
        await sqs.kill()
        for n in range(3, 6):  # away: refused connections
            await post(n)
        await sqs.start()  # back on the same port; the old connections are dead
        for n in range(6, 9):
            await post(n)
    await sqs.kill()
    return answers, sqs.bodies, sender.stale_retries


def test_receiver_refuses_while_sqs_is_away_and_accepts_again_once_back() -> None:
    answers, bodies, _ = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert answers == [(202, None)] * 3 + [(503, "3")] * 3 + [(202, None)] * 3
    packs = [decode_message(b) for b in bodies]
    assert all(len(pack) == 1 for pack in packs)  # sequential requests are sent alone
    enqueued = sorted(pack[0].webhook_id for pack in packs)
    assert enqueued == sorted(f"msg_{n}" for n in (0, 1, 2, 6, 7, 8))
