"""The marketing-platform layer: resilient HTTP, auth, rate limiting and vendor adapters.

``build_adapter(settings)`` returns a ``streams.contracts.PlatformAdapter`` for
``settings.platform`` (HubSpot CRM v3 contacts or Marketo leads). Its rate limiter is the
process-wide one for that platform (``adapter.limiter``, also returned by
``shared_limiter(settings.platform, effective_limits(settings))``), e.g. to call
``set_share(fraction)``). See ``settings`` for the configuration keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import requests

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.contracts import PlatformAdapter, PublishedLimits
from streams.platform.auth import ClientCredentialsAuth, StaticBearer
from streams.platform.exchange import Exchange
from streams.platform.http import build_session
from streams.platform.hubspot import DEFAULT_READ_PROPERTIES, HubSpotAdapter, hubspot_limits
from streams.platform.marketo import DEFAULT_READ_FIELDS, MARKETO_LIMITS, MarketoAdapter
from streams.platform.property_catalogs import HubSpotProperties, MarketoFields
from streams.platform.provisioning import PropertyCatalog
from streams.platform.ratelimit import RateLimiter, shared_limiter
from streams.platform.settings import PlatformSettings

__all__ = [
    "HubSpotAdapter",
    "MarketoAdapter",
    "PlatformSettings",
    "RateLimiter",
    "build_adapter",
    "build_catalog",
    "effective_limits",
    "shared_limiter",
]


def effective_limits(settings: PlatformSettings) -> PublishedLimits:
    """The vendor's published limits with the settings' overrides applied."""
    if settings.platform == "hubspot":
        base = hubspot_limits(settings.hubspot_tier)
    else:
        base = MARKETO_LIMITS
    return PublishedLimits(
        requests_per_window=settings.rate_limit_requests or base.requests_per_window,
        window_s=settings.rate_limit_window_s or base.window_s,
        max_batch_size=min(settings.batch_size or base.max_batch_size, base.max_batch_size),
        max_concurrency=base.max_concurrency,
        daily_requests=base.daily_requests,
    )


def build_adapter(
    settings: PlatformSettings,
    *,
    clock: Clock = SYSTEM_CLOCK,
    metrics: Metrics | None = None,
    limiter: RateLimiter | None = None,
    read_properties: Sequence[str] | None = None,
) -> PlatformAdapter:
    """Wire session, auth, the shared limiter and the adapter for ``settings.platform``.

    ``limiter`` defaults to the process-wide one for the platform; ``read_properties`` are the
    vendor property names ``read_batch`` returns (default: a few standard ones).
    """
    metrics = metrics or NoOpMetrics()
    limits = effective_limits(settings)
    limiter = limiter or shared_limiter(settings.platform, limits, clock)
    session = build_session(
        clock=clock,
        backoff_max=settings.backoff_max_s,
        metrics=metrics,
        platform=settings.platform,
    )
    timeout = (settings.connect_timeout_s, settings.read_timeout_s)
    if settings.platform == "hubspot":
        assert settings.hubspot_token is not None  # checked by PlatformSettings
        exchange = Exchange(session, settings.hubspot_base_url, "hubspot", timeout, clock, metrics)
        return HubSpotAdapter(
            exchange,
            StaticBearer(settings.hubspot_token),
            limiter,
            limits,
            clock=clock,
            metrics=metrics,
            read_properties=read_properties or DEFAULT_READ_PROPERTIES,
        )
    auth = marketo_auth(settings, session, timeout, clock, metrics)
    assert settings.marketo_base_url
    exchange = Exchange(session, settings.marketo_base_url, "marketo", timeout, clock, metrics)
    return MarketoAdapter(
        exchange,
        auth,
        limiter,
        limits,
        clock=clock,
        metrics=metrics,
        read_fields=read_properties or DEFAULT_READ_FIELDS,
    )


def build_catalog(
    settings: PlatformSettings, *, clock: Clock = SYSTEM_CLOCK, object_type: str = "contacts"
) -> PropertyCatalog:
    """The vendor's property catalog (``provisioning.setup`` / ``missing_properties``), of
    contacts or (HubSpot) companies; Marketo's company fields are standard, none to create."""
    session = build_session(clock=clock, backoff_max=settings.backoff_max_s)
    timeout = (settings.connect_timeout_s, settings.read_timeout_s)
    if settings.platform == "hubspot":
        assert settings.hubspot_token is not None  # checked by PlatformSettings
        exchange = Exchange(session, settings.hubspot_base_url, "hubspot", timeout, clock)
        return HubSpotProperties(exchange, StaticBearer(settings.hubspot_token), object_type)
    auth = marketo_auth(settings, session, timeout, clock)
    assert settings.marketo_base_url
    exchange = Exchange(session, settings.marketo_base_url, "marketo", timeout, clock)
    return MarketoFields(exchange, auth)


def marketo_auth(
    settings: PlatformSettings,
    session: requests.Session,
    timeout: tuple[float, float],
    clock: Clock,
    metrics: Metrics | None = None,
) -> ClientCredentialsAuth:
    """Marketo's client-credentials token provider (``PlatformSettings`` checked its fields)."""
    assert settings.marketo_client_id and settings.marketo_client_secret is not None
    return ClientCredentialsAuth(
        session,
        settings.marketo_token_url,
        settings.marketo_client_id,
        settings.marketo_client_secret,
        style=settings.marketo_token_request,
        clock=clock,
        timeout=timeout,
        metrics=metrics,
        platform="marketo",
    )
