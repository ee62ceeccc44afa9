"""Settings of the marketing-platform layer, from the environment or a config file.

Every key is read from ``CDCBRIDGE_<NAME>`` (e.g. ``CDCBRIDGE_PLATFORM=hubspot``) or from the
same key in a dotenv-style config file named by ``CDCBRIDGE_CONFIG_FILE`` (default ``.env`` if it
exists). Secrets are ``SecretStr``; a ``*_FILE`` variant isn't needed because pydantic-settings
reads ``secrets_dir`` too (``CDCBRIDGE_SECRETS_DIR``, one file per key named like the
variable, e.g. ``cdcbridge_hubspot_token``).

Keys:
- ``PLATFORM``: ``hubspot`` | ``marketo``.
- ``HUBSPOT_BASE_URL`` (default the real API), ``HUBSPOT_TOKEN`` (private-app bearer token),
  ``HUBSPOT_TIER`` (``free`` | ``starter`` | ``professional`` | ``enterprise`` | ``api_add_on``).
- ``MARKETO_BASE_URL`` (``https://<munchkin>.mktorest.com``), ``MARKETO_IDENTITY_URL`` (default
  ``<base>/identity``), ``MARKETO_CLIENT_ID``, ``MARKETO_CLIENT_SECRET``,
  ``MARKETO_TOKEN_REQUEST`` (``get_query`` as Marketo documents, or RFC 6749 ``post_basic`` /
  ``post_body``).
- ``BATCH_SIZE`` and ``RATE_LIMIT_REQUESTS`` / ``RATE_LIMIT_WINDOW_S``: override the vendor's
  published batch size and request limit (never above the vendor maximum batch size).
- ``CONNECT_TIMEOUT_S``, ``READ_TIMEOUT_S``, ``BACKOFF_MAX_S``.

Plain ``http://`` is refused unless the host is a loopback address (the sandbox and tests).
"""

from __future__ import annotations

import ipaddress
import os
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

HUBSPOT_API_URL = "https://api.hubapi.com"

HubSpotTier = Literal["free", "starter", "professional", "enterprise", "api_add_on"]
TokenRequestStyle = Literal["get_query", "post_basic", "post_body"]


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (IPv4 127/8, IPv6 ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """Return ``url`` without a trailing slash; raise ``ValueError`` unless it is HTTPS or
    plain HTTP to a loopback address."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and is_loopback_host(parts.hostname):
        return url.rstrip("/")
    raise ValueError(f"refusing {url!r}: only https:// (or http:// to a loopback address)")


class PlatformSettings(BaseSettings):
    """Typed platform settings. ``build_adapter`` turns these into a ``PlatformAdapter``."""

    model_config = SettingsConfigDict(
        env_prefix="CDCBRIDGE_",
        env_file=os.environ.get("CDCBRIDGE_CONFIG_FILE", ".env"),
        extra="ignore",
        secrets_dir=os.environ.get("CDCBRIDGE_SECRETS_DIR"),
    )

    platform: Literal["hubspot", "marketo"] = "hubspot"
    hubspot_base_url: str = HUBSPOT_API_URL
    hubspot_token: SecretStr | None = None
    hubspot_tier: HubSpotTier = "free"
    marketo_base_url: str | None = None
    marketo_identity_url: str | None = None
    marketo_client_id: str | None = None
    marketo_client_secret: SecretStr | None = None
    marketo_token_request: TokenRequestStyle = "get_query"  # noqa: S105 - a style, no secret
    batch_size: int | None = Field(default=None, ge=1)
    rate_limit_requests: int | None = Field(default=None, ge=1)
    rate_limit_window_s: float | None = Field(default=None, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=95.0, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)

    @field_validator("hubspot_base_url", "marketo_base_url", "marketo_identity_url")
    @classmethod
    def _secure_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @model_validator(mode="after")
    def _complete_for_platform(self) -> PlatformSettings:
        if self.platform == "hubspot" and self.hubspot_token is None:
            raise ValueError("CDCBRIDGE_HUBSPOT_TOKEN is required for platform hubspot")
        if self.platform == "marketo":
            missing = [
                name
                for name, value in (
                    ("CDCBRIDGE_MARKETO_BASE_URL", self.marketo_base_url),
                    ("CDCBRIDGE_MARKETO_CLIENT_ID", self.marketo_client_id),
                    ("CDCBRIDGE_MARKETO_CLIENT_SECRET", self.marketo_client_secret),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"required for platform marketo: {', '.join(missing)}")
        return self

    @property
    def marketo_token_url(self) -> str:
        identity = self.marketo_identity_url or f"{self.marketo_base_url}/identity"
        return f"{identity}/oauth/token"
