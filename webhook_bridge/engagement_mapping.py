"""Vendor webhook payload -> canonical engagement events, driven by a declarative mapping file
(``schemas/mappings/engagement_<name>.yaml``; keys documented in ``engagement_sandbox.yaml``).

Pure: ``EngagementMapping.apply(envelope)`` returns Avro-ready dicts (timestamps as epoch
milliseconds) or raises ``InvalidEngagement`` when the payload can never be normalised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from cdcbridge import package_data
from cdcbridge.errors import InvalidError
from webhook_bridge.envelope import WebhookEnvelope

MAPPINGS_DIR = package_data.schemas_dir() / "mappings"
WEBHOOK_ID = "$webhook_id"


class InvalidEngagement(InvalidError, ValueError):
    """The payload can never become an engagement event (goes to the dead-letter queue)."""


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: tuple[str, ...] = Field(min_length=1)
    transform: tuple[Literal["trim", "lower"], ...] = ()
    map: dict[str, str] | None = None
    default: str | None = None
    format: Literal["rfc3339", "epoch_ms", "epoch_s"] | None = None


class AttributesSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")
    exclude: frozenset[str] = frozenset()


class MappingSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1]
    source_platform: str
    payload: Literal["object", "array"]
    event_id: FieldSpec
    type: FieldSpec
    email: FieldSpec | None = None
    platform_contact_id: FieldSpec | None = None
    source_id: FieldSpec | None = None
    occurred_at: FieldSpec
    attributes: AttributesSpec | None = None


def _lookup(item: Mapping[str, Any], path: str, envelope: WebhookEnvelope) -> object:
    if path == WEBHOOK_ID:
        return envelope.webhook_id
    node: object = item
    if path == ".":
        return node
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _scalar_text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(spec: FieldSpec, item: Mapping[str, Any], envelope: WebhookEnvelope) -> str | None:
    for path in spec.paths:
        text = _scalar_text(_lookup(item, path, envelope))
        if text is None:
            continue
        for step in spec.transform:
            text = text.strip() if step == "trim" else text.lower()
        if spec.map is not None:
            return spec.map.get(text, spec.default)
        return text or None
    return spec.default


def _millis(spec: FieldSpec, text: str | None) -> int:
    if text is None:
        raise InvalidEngagement("occurred_at: missing")
    try:
        if spec.format == "epoch_ms":
            return int(float(text))
        if spec.format == "epoch_s":
            return int(float(text) * 1000)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError) as exc:
        raise InvalidEngagement(f"occurred_at: not a {spec.format} timestamp") from exc
    if parsed.tzinfo is None:
        raise InvalidEngagement("occurred_at: timestamp without a zone")
    return int(parsed.timestamp() * 1000)


class EngagementMapping:
    """One source's mapping, loaded once."""

    def __init__(self, spec: MappingSpec) -> None:
        self.spec = spec

    @classmethod
    def load(cls, name: str, directory: Path = MAPPINGS_DIR) -> EngagementMapping:
        """Load ``engagement_<name>.yaml``. Raises ``OSError`` or pydantic's ``ValueError``."""
        raw = yaml.safe_load((directory / f"engagement_{name}.yaml").read_text())
        return cls(MappingSpec.model_validate(raw))

    def apply(self, envelope: WebhookEnvelope) -> list[dict[str, object]]:
        """The canonical events in ``envelope`` (Avro-ready). Raises ``InvalidEngagement``."""
        try:
            payload = json.loads(envelope.body)
        except ValueError as exc:
            raise InvalidEngagement("body is not JSON") from exc
        if self.spec.payload == "array":
            items = payload if isinstance(payload, list) else None
        else:
            items = [payload] if isinstance(payload, dict) else None
        if not items or not all(isinstance(item, dict) for item in items):
            raise InvalidEngagement(f"body is not a JSON {self.spec.payload} of objects")
        return [self.__event(item, envelope) for item in items]

    def __event(self, item: Mapping[str, Any], envelope: WebhookEnvelope) -> dict[str, object]:
        spec = self.spec
        event_id = _text(spec.event_id, item, envelope)
        if not event_id:
            raise InvalidEngagement("event_id: missing")
        ids = {
            name: _text(field, item, envelope) if field else None
            for name, field in (
                ("email", spec.email),
                ("platform_contact_id", spec.platform_contact_id),
                ("source_id", spec.source_id),
            )
        }
        if not any(ids.values()):
            raise InvalidEngagement("no contact identifier (email, contact id or source id)")
        return {
            "event_id": event_id,
            "type": _text(spec.type, item, envelope) or "other",
            **ids,
            "occurred_at": _millis(spec.occurred_at, _text(spec.occurred_at, item, envelope)),
            "received_at": envelope.received_at_ms,
            "source_platform": spec.source_platform,
            "attributes": self.__attributes(item, envelope),
            "trace_id": envelope.trace_id,
        }

    def __attributes(self, item: Mapping[str, Any], envelope: WebhookEnvelope) -> dict[str, str]:
        spec = self.spec.attributes
        if spec is None:
            return {}
        node = _lookup(item, spec.from_, envelope)
        if not isinstance(node, Mapping):
            return {}
        out: dict[str, str] = {}
        for key, value in node.items():
            text = _scalar_text(value) if key not in spec.exclude else None
            if text is not None:
                out[str(key)] = text
        return out


def contact_key(event: Mapping[str, object]) -> str:
    """The Kafka key: the first contact identifier present (email, platform id, source id)."""
    for name in ("email", "platform_contact_id", "source_id"):
        value = event.get(name)
        if isinstance(value, str) and value:
            return value
    raise InvalidEngagement("no contact identifier")
