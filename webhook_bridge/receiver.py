"""The ASGI receiver (Starlette): ``POST /webhooks/{source}``, ``/healthz``, ``/readyz``,
``/openapi.json``. No business logic: raw body -> ``IngestCore`` -> ``SendBatcher`` -> 202.

Statuses: 202 once the queue holds the message (or it is a duplicate of one that does), 400
malformed body, 401 bad signature, 404 unknown source, 413 too large, 503 + Retry-After when
the queue is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cdcbridge.clock import Clock
from cdcbridge.errors import InvalidError
from cdcbridge.logs import trace_context
from cdcbridge.metrics import Metrics, NoOpMetrics
from webhook_bridge.batcher import SendBatcher
from webhook_bridge.ingest import Accepted, IngestCore, WebhookRequest
from webhook_bridge.openapi import OPENAPI
from webhook_bridge.queue import QueueSender, QueueUnavailable

log = logging.getLogger(__name__)
_JSON = "application/json"


def _answer(status: int, doc: dict[str, str], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(doc).encode(), status, headers=headers, media_type=_JSON)


class _TooLarge(InvalidError):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise _TooLarge  # int() of '²' or of 5,000 digits would raise: checked before
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _headers(request: Request) -> tuple[dict[str, str], frozenset[str]]:
    """The request's headers (names lower-case, values latin-1 as sent) and the names given
    more than once. Linear in the header block."""
    headers: dict[str, str] = {}
    repeated: set[str] = set()
    for raw_name, raw_value in request.headers.raw:
        name = raw_name.decode("latin-1").lower()
        if name in headers:
            repeated.add(name)
        headers[name] = raw_value.decode("latin-1")
    return headers, frozenset(repeated)


def _url(request: Request, headers: dict[str, str]) -> str:
    """The URL as the sender wrote it: raw path and raw query, no decoding or re-encoding.
    Built by hand because parsing a hostile ``Host`` (``[``) would raise."""
    scope = request.scope
    path = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string", b"")
    server = scope.get("server") or ("localhost", None)
    host = headers.get("host") or str(server[0])
    url = f"{scope.get('scheme', 'http')}://{host}{path.decode('latin-1')}"
    return url + ("?" + query.decode("latin-1") if query else "")


class Receiver:
    """Holds the core and the batcher; ``app`` is the ASGI application."""

    def __init__(
        self,
        core: IngestCore,
        sender: QueueSender,
        clock: Clock,
        *,
        metrics: Metrics | None = None,
        linger_s: float = 0.004,
        max_in_flight: int = 8,
        send_timeout_s: float = 5.0,
        retry_after_s: int = 5,
    ) -> None:
        self.__core = core
        self.__sender = sender
        self.__clock = clock
        self.__metrics = metrics or NoOpMetrics()
        self.__retry_after = str(retry_after_s)
        self.__batcher = SendBatcher(
            sender, linger_s=linger_s, max_in_flight=max_in_flight, timeout_s=send_timeout_s
        )
        self.app = Starlette(
            routes=[
                Route("/webhooks/{source}", self.webhook, methods=["POST"]),
                Route("/healthz", self.healthz, methods=["GET"]),
                Route("/readyz", self.readyz, methods=["GET"]),
                Route("/openapi.json", self.openapi, methods=["GET"]),
            ],
            lifespan=self.__lifespan,
        )

    @contextlib.asynccontextmanager
    async def __lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.__batcher.start()
        try:
            yield
        finally:
            await self.__batcher.stop()
            batcher = self.__batcher
            webhooks, messages = batcher.webhooks_sent, batcher.messages_sent
            log.info(
                "receiver stopped",
                extra={"batches_sent": batcher.batches_sent, "webhooks_sent": webhooks,
                       "messages_sent": messages,
                       "webhooks_per_message": round(webhooks / messages, 2) if messages else 0.0},
            )  # fmt: skip

    def __count(self, source: str, status: int) -> None:
        self.__metrics.increment(
            "cdcbridge_webhooks_received_total", tags={"source": source, "status": str(status)}
        )

    async def webhook(self, request: Request) -> Response:
        source = request.path_params["source"]
        if not self.__core.knows(source):
            self.__count("unknown", 404)
            return _answer(404, {"error": "unknown_source"})
        try:
            body = await _read_body(request, self.__core.max_body_bytes(source))
        except _TooLarge:
            self.__count(source, 413)
            return _answer(413, {"error": "body_too_large"})
        except ClientDisconnect:
            return _answer(400, {"error": "client_disconnected"})
        started = self.__clock.monotonic()
        headers, repeated = _headers(request)
        decision = self.__core.admit(
            WebhookRequest(source, request.method, _url(request, headers), headers, body, repeated)
        )
        if not isinstance(decision, Accepted):
            self.__count(source, decision.status)
            log.info("webhook rejected", extra={"source": source, "reason": decision.reason})
            return _answer(decision.status, {"error": decision.reason})
        envelope = decision.envelope
        with trace_context(envelope.trace_id):
            if not decision.duplicate:
                try:
                    await self.__batcher.send(envelope)
                except QueueUnavailable as exc:
                    self.__count(source, 503)
                    log.warning("queue unavailable", extra={"source": source, "error": str(exc)})
                    return _answer(
                        503, {"error": "queue_unavailable"}, {"Retry-After": self.__retry_after}
                    )
                self.__core.committed(envelope)
                self.__metrics.timing(
                    "cdcbridge_webhooks_enqueue_seconds", self.__clock.monotonic() - started
                )
            log.info(
                "webhook accepted",
                extra={"source": source, "webhook_id": envelope.webhook_id,
                       "duplicate": decision.duplicate},
            )  # fmt: skip
        self.__count(source, 202)
        return _answer(
            202,
            {"status": "duplicate" if decision.duplicate else "accepted",
             "webhook_id": envelope.webhook_id, "trace_id": envelope.trace_id},
        )  # fmt: skip

    async def healthz(self, request: Request) -> Response:
        return _answer(200, {"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        try:
            await asyncio.wait_for(self.__sender.ping(), 3.0)
        except (QueueUnavailable, TimeoutError):
            return _answer(
                503, {"status": "queue_unavailable"}, {"Retry-After": self.__retry_after}
            )
        return _answer(200, {"status": "ready"})

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(OPENAPI)
