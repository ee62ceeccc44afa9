"""The sync service's probes: live while the loop polls, ready between joining and stopping."""

from __future__ import annotations

import pytest
import requests

from cdcbridge.clock import MockedClock
from streams.sync.health import PollMarkingConsumer, SyncHealth, serve_health

pytestmark = pytest.mark.unit


class _Consumer:
    def __init__(self) -> None:
        self.polls = 0

    def poll(self, timeout: float | None = None) -> None:
        self.polls += 1

    def close(self) -> str:
        return "closed"


def test_liveness_follows_the_polls_and_readiness_the_group() -> None:
    clock = MockedClock()
    health = SyncHealth(stale_after_s=30, clock=clock)
    consumer = PollMarkingConsumer(_Consumer(), health)
    assert health.live() and not health.ready()
    health.joined()
    assert health.ready()
    clock.sleep(31)
    assert not health.live()
    consumer.poll(1.0)
    assert health.live()
    assert consumer.close() == "closed"  # everything else is the wrapped consumer's
    health.stopping()
    assert not health.ready()


def test_endpoints_answer_200_or_503() -> None:
    clock = MockedClock()
    health = SyncHealth(stale_after_s=30, clock=clock)
    server = serve_health(health, 0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 503
        health.joined()
        assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
        clock.sleep(31)
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 503
        assert requests.get(f"{base}/metrics", timeout=5).status_code == 404
    finally:
        server.shutdown()
