"""Configuration of the webhook bridge: per-source settings and the process settings.

Sources come from a YAML file (``CDCBRIDGE_WEBHOOKS_SOURCES_FILE``) or inline JSON
(``CDCBRIDGE_WEBHOOKS_SOURCES_JSON``, handy for Lambda)::

    sources:
      sandbox:
        scheme: standard-webhooks
        secrets: ["whsec_..."]          # several while rotating
        tolerance_s: 300
        normaliser: sandbox             # schemas/mappings/engagement_sandbox.yaml
      hubspot:
        scheme: hubspot-v3
        secrets: ["client-secret"]
        public_base_url: https://hooks.example.com   # the URL HubSpot signed
        normaliser: hubspot

Secrets are ``SecretStr`` and never logged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from webhook_bridge.signatures import Scheme, standard_webhooks_key

SQS_MAX_MESSAGE_BYTES = 256 * 1024
"""SQS's own message size limit (the receiver's default body limit)."""
SQS_UNSENDABLE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character SQS refuses in a message body (its SendMessage reference: #x9, #xA, #xD,
#x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF are allowed). In UTF-8 JSON only U+FFFE and
U+FFFF can reach it; a message holding one is refused whole (``InvalidMessageContents``)."""


class SourceConfig(BaseModel):
    """One webhook sender. ``id_header`` names the header carrying its delivery id (dedupe);
    Standard Webhooks uses ``webhook-id`` regardless, others fall back to a body hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: Scheme
    secrets: tuple[SecretStr, ...] = Field(min_length=1)
    tolerance_s: float = Field(default=300.0, gt=0)
    normaliser: str = Field(default="sandbox", pattern=r"^[a-z0-9_]+$")
    header_name: str | None = None
    id_header: str | None = None
    public_base_url: str | None = None
    max_body_bytes: int = Field(default=SQS_MAX_MESSAGE_BYTES, gt=0, le=SQS_MAX_MESSAGE_BYTES)

    @model_validator(mode="after")
    def _secrets_usable(self) -> SourceConfig:
        if self.scheme == "standard-webhooks":
            for secret in self.secrets:
                standard_webhooks_key(secret)  # raises ValueError when not base64
        return self


class SourcesFile(BaseModel):
    """The ``sources:`` document."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: dict[str, SourceConfig]

    @field_validator("sources")
    @classmethod
    def _names_are_path_safe(cls, value: dict[str, SourceConfig]) -> dict[str, SourceConfig]:
        for name in value:
            if not name or not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"source name {name!r} must be alphanumeric, '-' or '_'")
        return value


class BridgeSettings(BaseSettings):
    """Process settings (env prefix ``CDCBRIDGE_WEBHOOKS_``)."""

    model_config = SettingsConfigDict(env_prefix="CDCBRIDGE_WEBHOOKS_", extra="ignore")

    sources_file: Path | None = None
    sources_json: str | None = None
    queue_name: str = "engagement"
    queue_url: str | None = None
    sqs_endpoint: str | None = None
    region: str = "us-east-1"
    batch_linger_ms: float = Field(default=4.0, ge=0)
    max_in_flight_batches: int = Field(default=8, ge=1)
    dedupe_window_s: float = Field(default=600.0, ge=0)
    dedupe_max_entries: int = Field(default=100_000, ge=0)
    send_timeout_s: float = Field(default=5.0, gt=0)
    retry_after_s: int = Field(default=5, ge=1)
    host: str = "127.0.0.1"
    port: int = 8080

    def load_sources(self) -> dict[str, SourceConfig]:
        """Parse the configured sources. Raises ``ValueError`` (pydantic) when invalid."""
        raw: Any
        if self.sources_json:
            raw = json.loads(self.sources_json)
        elif self.sources_file:
            raw = yaml.safe_load(self.sources_file.read_text())
        else:
            raw = {"sources": {}}
        return SourcesFile.model_validate(raw).sources
