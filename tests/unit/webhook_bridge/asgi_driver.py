"""Drive an ASGI app with exactly the bytes a server would hand it (no HTTP client in between,
so headers may hold any byte and repeat), lifespan included."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def reason(self) -> str:
        doc = json.loads(self.body) if self.body else {}
        return str(doc.get("error", doc.get("status", "")))


@contextlib.asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[None]:
    """Run ``app``'s lifespan (startup before, shutdown after)."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def send(message: Message) -> None:
        await outbox.put(message)

    async def lifespan() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send)

    task = asyncio.create_task(lifespan())
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


async def post(
    app: ASGIApp,
    path: str,
    headers: Sequence[tuple[str, bytes]],
    body: bytes,
    *,
    query: str = "",
    sent_body: bytes | None = None,
) -> Answer:
    """POST ``body``; ``sent_body`` (a prefix) is what arrives before the client goes away."""
    raw = [(name.lower().encode("latin-1"), value) for name, value in headers]
    names = {name for name, _ in raw}
    if b"host" not in names:
        raw.append((b"host", b"hooks.example.com"))
    if b"content-length" not in names:
        raw.append((b"content-length", str(len(body)).encode()))
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "https", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": raw, "server": ("hooks.example.com", 443),
        "client": ("127.0.0.1", 40000),
    }  # fmt: skip
    pending: list[Message] = [
        {"type": "http.request", "body": body if sent_body is None else sent_body,
         "more_body": sent_body is not None},
    ]  # fmt: skip
    status: list[int] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return Answer(status[0], b"".join(chunks))
