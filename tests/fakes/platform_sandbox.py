"""Test harness: a sandbox platform served by uvicorn in a thread on a free loopback port,
reset (contacts, counters, knobs) before every test, plus adapter factories wired like
``build_adapter``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.metrics import RecordingMetrics
from local_stack.sandbox_setup import provision_sandbox
from sandbox_platform.app import build_app
from sandbox_platform.knobs import Knobs
from streams.contracts import PublishedLimits
from streams.platform.auth import ClientCredentialsAuth, StaticBearer, TokenProvider
from streams.platform.exchange import Exchange
from streams.platform.http import build_session
from streams.platform.hubspot import HubSpotAdapter
from streams.platform.marketo import MARKETO_LIMITS, MarketoAdapter
from streams.platform.ratelimit import RateLimiter


@dataclass
class Sandbox:
    url: str
    admin: httpx.Client

    def knobs(self, **changes: object) -> None:
        self.admin.patch("/admin/knobs", json=changes).raise_for_status()

    def requests(self) -> dict[str, object]:
        doc: dict[str, object] = self.admin.get("/admin/requests").json()
        return doc

    def endpoint(self, label: str) -> dict[str, int]:
        by_endpoint = self.requests()["by_endpoint"]
        assert isinstance(by_endpoint, dict)
        counts: dict[str, int] = by_endpoint.get(label, {})
        return counts

    def contacts(self, platform: str) -> list[dict[str, object]]:
        found: list[dict[str, object]] = self.admin.get("/admin/contacts").json()[platform]
        return found

    def stored(self, platform: str) -> dict[str, dict[str, str | None]]:
        """Stored properties by lower-cased email."""
        listing = self.admin.get("/admin/contacts").json()[platform]
        return {str(c["properties"]["email"]).lower(): c["properties"] for c in listing}


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(build_app(), log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "sandbox did not start"
        assert thread.is_alive(), "sandbox thread died"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    provision_sandbox(url)  # platform setup: the custom properties exist, as in a real portal
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def sandbox(sandbox_server: str) -> Iterator[Sandbox]:
    with httpx.Client(base_url=sandbox_server, timeout=10) as admin:
        admin.post("/admin/reset").raise_for_status()
        admin.patch("/admin/knobs", json=Knobs().model_dump()).raise_for_status()
        yield Sandbox(sandbox_server, admin)


def roomy_limiter(clock: Clock = SYSTEM_CLOCK, concurrency: int | None = None) -> RateLimiter:
    """A limiter that never gets in the way (tests of the vendor's own limits)."""
    return RateLimiter(10_000, 1.0, max_concurrency=concurrency, clock=clock)


def hubspot_adapter(
    sandbox: Sandbox,
    *,
    transport_clock: Clock = SYSTEM_CLOCK,
    policy_clock: Clock = SYSTEM_CLOCK,
    limiter: RateLimiter | None = None,
    auth: TokenProvider | None = None,
    metrics: RecordingMetrics | None = None,
    backoff_max: float = 30.0,
) -> HubSpotAdapter:
    metrics = metrics or RecordingMetrics()
    session = build_session(
        clock=transport_clock, backoff_max=backoff_max, metrics=metrics, platform="hubspot"
    )
    exchange = Exchange(session, sandbox.url, "hubspot", (5.0, 30.0), policy_clock, metrics)
    return HubSpotAdapter(
        exchange,
        auth or StaticBearer(SecretStr("sandbox-token")),
        limiter or roomy_limiter(),
        PublishedLimits(100, 10.0, 100),
        clock=policy_clock,
        metrics=metrics,
    )


def marketo_auth(
    sandbox: Sandbox, clock: Clock = SYSTEM_CLOCK, style: str = "get_query"
) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(
        build_session(),
        f"{sandbox.url}/identity/oauth/token",
        "sandbox-client",
        SecretStr("sandbox-secret"),
        style=style,  # type: ignore[arg-type]
        clock=clock,
    )


def marketo_adapter(
    sandbox: Sandbox,
    *,
    policy_clock: Clock = SYSTEM_CLOCK,
    limiter: RateLimiter | None = None,
    auth: ClientCredentialsAuth | None = None,
    metrics: RecordingMetrics | None = None,
) -> MarketoAdapter:
    metrics = metrics or RecordingMetrics()
    session = build_session(metrics=metrics, platform="marketo")
    exchange = Exchange(session, sandbox.url, "marketo", (5.0, 30.0), policy_clock, metrics)
    return MarketoAdapter(
        exchange,
        auth or marketo_auth(sandbox),
        limiter or roomy_limiter(concurrency=10),
        MARKETO_LIMITS,
        clock=policy_clock,
        metrics=metrics,
    )
