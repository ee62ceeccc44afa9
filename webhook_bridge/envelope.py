"""The unit the receiver enqueues and the forwarder reads: a verified webhook plus metadata.

On SQS the raw body (UTF-8 JSON text) is the message body and the metadata travels as message
attributes, so the payload is never re-encoded and stays byte-identical to what was signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ATTR_SOURCE = "source"
ATTR_WEBHOOK_ID = "webhook_id"
ATTR_TRACE_ID = "trace_id"
ATTR_RECEIVED_AT = "received_at_ms"


class MalformedEnvelope(ValueError):
    """A queue message lacks the attributes the receiver always sets."""


@dataclass(frozen=True)
class WebhookEnvelope:
    """A webhook that passed signature verification."""

    source: str
    webhook_id: str
    trace_id: str
    received_at_ms: int
    body: str

    def attributes(self) -> dict[str, str]:
        """Metadata as flat string attributes."""
        return {
            ATTR_SOURCE: self.source,
            ATTR_WEBHOOK_ID: self.webhook_id,
            ATTR_TRACE_ID: self.trace_id,
            ATTR_RECEIVED_AT: str(self.received_at_ms),
        }

    def size_bytes(self) -> int:
        """What SQS counts against its size limit: body plus attribute names, types, values."""
        attrs = sum(len(k) + len("String") + len(v.encode()) for k, v in self.attributes().items())
        return len(self.body.encode()) + attrs

    @classmethod
    def from_attributes(cls, body: str, attributes: Mapping[str, str]) -> WebhookEnvelope:
        """Rebuild from a queue message. Raises ``MalformedEnvelope``."""
        try:
            return cls(
                source=attributes[ATTR_SOURCE],
                webhook_id=attributes[ATTR_WEBHOOK_ID],
                trace_id=attributes[ATTR_TRACE_ID],
                received_at_ms=int(attributes[ATTR_RECEIVED_AT]),
                body=body,
            )
        except (KeyError, ValueError) as exc:
            raise MalformedEnvelope(f"queue message lacks attribute: {exc}") from exc
