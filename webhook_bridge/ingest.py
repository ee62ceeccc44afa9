"""The framework-free core shared by the ASGI receiver and the Lambda handler.

``IngestCore.admit`` turns one HTTP request into ``Accepted`` (enqueue it, then call
``committed``) or ``Rejected`` (answer the status). It does no I/O; enqueueing is the caller's job
so that a 202 is only sent once the queue has the message.

Order of checks: unknown source 404, too large 413, a header we read given twice 400, bad
signature 401, bad id header 400, nesting deeper than ``MAX_JSON_DEPTH`` 400, malformed body 400,
a character SQS cannot carry 400 (refused here, it would fail the whole pack it is sent in).
Every check is linear in the request and never recurses (``webhook_bridge.limits``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdcbridge.clock import Clock
from cdcbridge.metrics import Metrics, NoOpMetrics
from webhook_bridge.config import SQS_MAX_MESSAGE_BYTES, SQS_UNSENDABLE, SourceConfig
from webhook_bridge.dedupe import DedupeWindow
from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.limits import MAX_HEADER_CHARS, MAX_TRACEPARENT_CHARS, json_too_deep
from webhook_bridge.signatures import InvalidSignature, signed_headers, verify

_TRACE_IDS = random.Random(os.urandom(16))  # trace ids need uniqueness, not secrecy; urandom
# per request cost ~60 us here
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


@dataclass(frozen=True)
class Rejected:
    """Answer ``status`` with ``reason``; nothing is enqueued."""

    status: int
    reason: str


@dataclass(frozen=True)
class Accepted:
    """Enqueue ``envelope`` (unless ``duplicate``), then answer 202."""

    envelope: WebhookEnvelope
    duplicate: bool


@dataclass(frozen=True)
class WebhookRequest:
    """What the core needs from an HTTP request. ``url`` is the full URL as the sender saw it;
    ``alternate_urls`` other spellings of it when the adapter cannot know the raw one.
    ``headers`` has lower-case names; ``duplicate_headers`` names those given more than once."""

    source: str
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    duplicate_headers: frozenset[str] = field(default=frozenset())
    alternate_urls: tuple[str, ...] = ()


def trace_id_from(headers: Mapping[str, str]) -> str:
    """The W3C ``traceparent`` trace id when valid, else a fresh random id."""
    value = headers.get("traceparent", "")
    if len(value) > MAX_TRACEPARENT_CHARS:
        value = ""
    match = _TRACEPARENT.match(value.strip().lower())
    return match.group(1) if match else f"{_TRACE_IDS.getrandbits(128):032x}"


def webhook_id_of(
    config: SourceConfig, headers: Mapping[str, str], payload: object, body: bytes
) -> str:
    """The delivery id used for dedupe: stable across the sender's retries where possible."""
    if config.scheme == "standard-webhooks":
        return headers.get("webhook-id", "")
    if config.id_header and headers.get(config.id_header.lower()):
        return headers[config.id_header.lower()]
    if (
        isinstance(payload, list)
        and payload
        and all(isinstance(item, dict) and "eventId" in item for item in payload)
    ):  # HubSpot batches: retries change attemptNumber but keep the event ids
        ids = sorted(str(item["eventId"]) for item in payload)
        return "events-" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:32]
    return "sha256-" + hashlib.sha256(body).hexdigest()[:32]


def _plain_header(value: str) -> bool:
    """An absent or usable id header: printable ASCII of at most ``MAX_HEADER_CHARS``."""
    return len(value) <= MAX_HEADER_CHARS and value.isascii() and value.isprintable()


class IngestCore:
    """Verification, parsing and dedupe for every source. Not thread-safe (one event loop)."""

    def __init__(
        self,
        sources: Mapping[str, SourceConfig],
        clock: Clock,
        dedupe: DedupeWindow,
        metrics: Metrics | None = None,
    ) -> None:
        self.__sources = dict(sources)
        self.__clock = clock
        self.__dedupe = dedupe
        self.__metrics = metrics or NoOpMetrics()

    def max_body_bytes(self, source: str) -> int:
        """The body limit of ``source`` (the SQS limit for unknown sources)."""
        config = self.__sources.get(source)
        return config.max_body_bytes if config else SQS_MAX_MESSAGE_BYTES

    def knows(self, source: str) -> bool:
        return source in self.__sources

    def admit(self, request: WebhookRequest) -> Accepted | Rejected:
        """Decide about one request. Never raises for bad input; only returns ``Rejected``."""
        config = self.__sources.get(request.source)
        if config is None:
            return Rejected(404, "unknown_source")
        if len(request.body) > config.max_body_bytes:
            return Rejected(413, "body_too_large")
        headers = {k.lower(): v for k, v in request.headers.items()}
        read = signed_headers(config.scheme, config.header_name)
        read |= {config.id_header.lower()} if config.id_header else set()
        if not read.isdisjoint(request.duplicate_headers):
            return Rejected(400, "duplicate_header")
        try:
            verify(
                config.scheme,
                secrets=config.secrets,
                headers=headers,
                body=request.body,
                method=request.method,
                url=self.__signed_url(config, request.url),
                now=self.__clock.time(),
                tolerance_s=config.tolerance_s,
                header_name=config.header_name,
                alternate_urls=[self.__signed_url(config, u) for u in request.alternate_urls],
            )
        except InvalidSignature as exc:
            return Rejected(401, exc.reason)
        if config.id_header and not _plain_header(headers.get(config.id_header.lower(), "")):
            return Rejected(400, "malformed_id_header")
        if json_too_deep(request.body):
            return Rejected(400, "nesting_too_deep")
        try:
            text = request.body.decode("utf-8")
            payload = json.loads(text)
        except (UnicodeDecodeError, ValueError):
            return Rejected(400, "malformed_body")
        if not isinstance(payload, dict | list):
            return Rejected(400, "malformed_body")
        if SQS_UNSENDABLE.search(text):  # U+FFFE, U+FFFF: the queue would refuse the message
            return Rejected(400, "unsendable_character")
        webhook_id = webhook_id_of(config, headers, payload, request.body)
        envelope = WebhookEnvelope(
            source=request.source,
            webhook_id=webhook_id,
            trace_id=trace_id_from(
                {} if "traceparent" in request.duplicate_headers else headers
            ),  # W3C: several traceparent headers are no trace context
            received_at_ms=int(self.__clock.time() * 1000),
            body=text,
        )
        if envelope.size_bytes() > SQS_MAX_MESSAGE_BYTES:
            return Rejected(413, "message_too_large")
        duplicate = self.__dedupe.seen(self.__key(envelope))
        if duplicate:
            self.__metrics.increment(
                "cdcbridge_webhooks_duplicates_total", tags={"source": request.source}
            )
        return Accepted(envelope, duplicate)

    def committed(self, envelope: WebhookEnvelope) -> None:
        """Record that ``envelope`` is durable in the queue (later duplicates are skipped)."""
        self.__dedupe.add(self.__key(envelope))
        self.__metrics.increment(
            "cdcbridge_webhooks_enqueued_total", tags={"source": envelope.source}
        )

    @staticmethod
    def __key(envelope: WebhookEnvelope) -> str:
        return f"{envelope.source}\x00{envelope.webhook_id}"

    @staticmethod
    def __signed_url(config: SourceConfig, url: str) -> str:
        if not config.public_base_url:
            return url
        _, _, rest = url.partition("://")
        _, slash, path_and_query = rest.partition("/")
        return config.public_base_url.rstrip("/") + slash + path_and_query
