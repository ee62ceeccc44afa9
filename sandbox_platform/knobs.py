"""The sandbox's knobs: set at startup (CLI flags / ``SANDBOX_<NAME>`` env) and changed at
run time through ``PATCH /admin/knobs`` (a JSON object of the fields to change).

Defaults: no latency, no errors, HubSpot 100 requests / 10 s (250,000 a day), Marketo 100
calls / 20 s, 10 concurrent, 50,000 a day, tokens valid 3600 s.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

RetryAfterMode = Literal["none", "seconds", "date"]
Hubspot429Policy = Literal["TEN_SECONDLY_ROLLING", "DAILY", "SECONDLY"]


class Knobs(BaseModel):
    """Everything a test or the demo can turn. Field docs say what each one does."""

    model_config = {"validate_assignment": True, "extra": "forbid"}

    latency_ms: float = Field(default=0.0, ge=0, description="added to every vendor API request")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="fraction answered error_status")
    error_status: int = Field(default=500, ge=500, le=599)
    fail_next: int = Field(
        default=0, ge=0, description="the next N vendor requests get error_status"
    )
    burst_429: int = Field(default=0, ge=0, description="the next N requests are rate-limited")
    burst_429_policy: Hubspot429Policy = "TEN_SECONDLY_ROLLING"
    retry_after: RetryAfterMode = Field(
        default="none", description="Retry-After on injected 429/5xx"
    )
    retry_after_s: int = Field(default=1, ge=0)
    outage_s: float = Field(
        default=0.0, ge=0, description="from now, every vendor request gets 503"
    )
    marketo_error_code: str = Field(default="", description="next marketo_error_count calls get it")
    marketo_error_count: int = Field(default=0, ge=0)
    token_lifetime_s: int = Field(default=3600, ge=1)
    hubspot_token: str = "sandbox-token"  # noqa: S105 - the sandbox's fake token
    hubspot_limit: int = Field(default=100, ge=1, description="requests per hubspot_window_s")
    hubspot_window_s: float = Field(default=10.0, gt=0)
    hubspot_daily_limit: int = Field(default=250_000, ge=1)
    hubspot_max_batch: int = Field(default=100, ge=1)
    marketo_client_id: str = "sandbox-client"
    marketo_client_secret: str = "sandbox-secret"  # noqa: S105 - the sandbox's fake secret
    marketo_fixed_token: str = Field(
        default="", description="issue this access token value (deterministic, for pact replay)"
    )
    marketo_limit: int = Field(default=100, ge=1, description="calls per marketo_window_s")
    marketo_window_s: float = Field(default=20.0, gt=0)
    marketo_concurrency: int = Field(default=10, ge=1)
    marketo_daily_limit: int = Field(default=50_000, ge=1)
    marketo_max_batch: int = Field(default=300, ge=1)
    webhook_url: str = Field(default="", description="where engagement webhooks are POSTed")
    webhook_scheme: Literal["standard-webhooks", "hubspot-v3"] = "standard-webhooks"
    webhook_secret: str = "whsec_c2FuZGJveC13ZWJob29rLXNlY3JldA=="  # noqa: S105 - fake
    webhook_rate_per_s: float = Field(default=0.0, ge=0, description="background emission rate")
    refuse_input: str = Field(
        default="", description="requests whose input contains this are refused (refusals.py)"
    )
    refuse_status: int = Field(default=422, ge=400, le=499, description="HubSpot refusal status")
    refuse_marketo_code: str = Field(default="1003", description="Marketo refusal error code")


class StartupKnobs(BaseSettings, Knobs):
    """``Knobs`` read from ``SANDBOX_<NAME>`` environment variables at startup."""

    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")
