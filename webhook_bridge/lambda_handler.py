"""AWS Lambda entry point behind API Gateway (REST proxy v1 and HTTP API v2 events).

Same core, statuses and send path as the ASGI receiver: 202 once SQS accepted the message,
400/401/404/413 for bad requests, 503 + Retry-After when SQS is unreachable. One
SendMessageBatch of one entry per invocation (Lambda serves one request at a time) through
``webhook_bridge.queue.sqs_send.SqsSender``, run on an event loop kept with the wiring for the
life of the execution environment (and its keep-alive connection with it; a connection the
freeze left stale is retried once on a fresh one). Configured from the environment:
``CDCBRIDGE_WEBHOOKS_QUEUE_URL`` and ``CDCBRIDGE_WEBHOOKS_SOURCES_SECRET_ID`` (the sources are
read from Secrets Manager at cold start, see ``webhook_bridge.lambda_secrets``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from cdcbridge.clock import SYSTEM_CLOCK
from cdcbridge.logs import configure_logging, trace_context
from webhook_bridge.apigw_event import request_from_event
from webhook_bridge.config import BridgeSettings
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.ingest import Accepted, IngestCore
from webhook_bridge.queue import QueueUnavailable

log = logging.getLogger(__name__)
SendOne = Callable[[WebhookEnvelope], None]


@dataclass(frozen=True)
class SendBudget:
    """How long one enqueue may take so that the function answers within its timeout.

    ``timeout_s`` bounds the whole SendMessageBatch call, its retry on a fresh connection
    included (``SqsSender``'s deadline): what a hung endpoint (accepts TCP, never answers) or
    a black-holed one costs before ``QueueUnavailable``."""

    timeout_s: float

    @property
    def worst_case_s(self) -> float:
        return self.timeout_s

    @classmethod
    def within(cls, limit_s: float, *, reserve_s: float = 2.0) -> SendBudget:
        """The budget that leaves ``reserve_s`` of ``limit_s`` for everything else (verify,
        answer, cold start work). Raises ``ValueError`` when ``limit_s`` is too short."""
        spend = limit_s - reserve_s
        if spend < 1.0:
            raise ValueError(f"a {limit_s} s limit leaves no time to enqueue")
        return cls(spend)


def _response(
    status: int, doc: Mapping[str, str], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(doc),
        "isBase64Encoded": False,
    }


def handle_event(
    event: Mapping[str, Any], core: IngestCore, send_one: SendOne, retry_after_s: int = 5
) -> dict[str, Any]:
    """Answer one API Gateway event. ``send_one`` raises ``QueueUnavailable`` on failure."""
    request = request_from_event(event)
    if request is None:
        return _response(400, {"error": "malformed_body"})
    decision = core.admit(request)
    if not isinstance(decision, Accepted):
        log.info("webhook rejected", extra={"source": request.source, "reason": decision.reason})
        return _response(decision.status, {"error": decision.reason})
    envelope = decision.envelope
    with trace_context(envelope.trace_id):
        if not decision.duplicate:
            try:
                send_one(envelope)
            except QueueUnavailable as exc:
                log.warning("queue unavailable", extra={"error": str(exc)})
                return _response(
                    503, {"error": "queue_unavailable"}, {"Retry-After": str(retry_after_s)}
                )
            core.committed(envelope)
    status = "duplicate" if decision.duplicate else "accepted"
    return _response(
        202, {"status": status, "webhook_id": envelope.webhook_id, "trace_id": envelope.trace_id}
    )


def function_timeout_s(context: object) -> int:
    """The function's configured timeout, read off the first invocation's context (the time
    remaining then, rounded up); ``send_timeout_s`` when run outside Lambda."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return math.ceil(BridgeSettings().send_timeout_s) + 3
    return max(1, math.ceil(int(remaining()) / 1000))


@cache
def _wiring(timeout_s: int) -> tuple[IngestCore, SendOne, int]:
    """Everything built once per container. The send deadline is derived from the function
    timeout (``SendBudget.within``), so a hung SQS endpoint answers 503 with Retry-After before
    Lambda kills the invocation (which API Gateway would turn into a 502)."""
    from webhook_bridge.lambda_secrets import with_secret_sources
    from webhook_bridge.queue.sqs import SqsQueue, sqs_client

    configure_logging()
    settings = with_secret_sources(BridgeSettings())
    dedupe = DedupeWindow(SYSTEM_CLOCK, settings.dedupe_window_s, settings.dedupe_max_entries)
    core = IngestCore(settings.load_sources(), SYSTEM_CLOCK, dedupe)
    budget = SendBudget.within(timeout_s)
    client = sqs_client(settings.sqs_endpoint, settings.region, timeout_s=budget.timeout_s,
                        queue_url=settings.queue_url, long_polls=False)  # fmt: skip
    queue = (
        SqsQueue(client, settings.queue_url)
        if settings.queue_url
        else SqsQueue.by_name(client, settings.queue_name)
    )
    sender = queue.sender(budget.timeout_s)
    loop = asyncio.new_event_loop()

    def send_one(envelope: WebhookEnvelope) -> None:
        (failure,) = loop.run_until_complete(sender.send_batch([envelope]))
        if failure is not None:
            raise QueueUnavailable(f"entry rejected: {failure}")

    return core, send_one, settings.retry_after_s


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The Lambda handler (``webhook_bridge.lambda_handler.handler``)."""
    core, send_one, retry_after_s = _wiring(function_timeout_s(context))
    return handle_event(event, core, send_one, retry_after_s)
