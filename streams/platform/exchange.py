"""One HTTP exchange with a vendor: bearer header, timeouts, metrics, and transport errors
translated into ``TransientPlatformError``. The only module that calls ``session.request``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import requests

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.logs import current_trace_id
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.contracts import TransientPlatformError


@dataclass
class Exchange:
    """Sends requests for one platform. ``timeout`` is (connect, read) seconds."""

    session: requests.Session
    base_url: str
    platform: str
    timeout: tuple[float, float] = (5.0, 95.0)
    clock: Clock = SYSTEM_CLOCK
    metrics: Metrics = field(default_factory=NoOpMetrics)

    def send(
        self,
        method: str,
        path: str,
        *,
        token: str,
        json: object = None,
        params: Mapping[str, str] | None = None,
        observe: bool = True,
    ) -> requests.Response:
        """One request (the transport's urllib3 Retry may repeat it). Raises
        ``TransientPlatformError`` on connection errors and timeouts. With ``observe=False``
        the caller counts the answer itself (``observe``), once it knows what it means (Marketo
        puts errors such as 602 inside an HTTP 200)."""
        headers = {"Authorization": f"Bearer {token}", "X-Trace-Id": current_trace_id()}
        started = self.clock.monotonic()
        try:
            response = self.session.request(
                method,
                f"{self.base_url}{path}",
                json=json,
                params=params,
                headers=headers,
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.metrics.increment(
                "cdcbridge_platform_requests_total",
                tags={"platform": self.platform, "endpoint": path, "status": "error"},
            )
            raise TransientPlatformError(f"{self.platform} unreachable: {exc}") from exc
        except requests.RequestException as exc:
            raise TransientPlatformError(f"{self.platform} request failed: {exc}") from exc
        if observe:
            self.observe(path, str(response.status_code), started)
        return response

    def observe(self, path: str, status: str, started: float) -> None:
        """Count one answered request to ``path`` under ``status`` (an HTTP status or a vendor
        code) and its latency since ``started`` (the clock's monotonic time)."""
        tags = {"platform": self.platform, "endpoint": path, "status": status}
        self.metrics.increment("cdcbridge_platform_requests_total", tags=tags)
        self.metrics.timing(
            "cdcbridge_platform_request_seconds", self.clock.monotonic() - started, tags=tags
        )


def json_body(response: requests.Response) -> dict[str, object]:
    """The response's JSON object, or ``{}`` when the body is empty or not an object."""
    try:
        doc = response.json()
    except requests.JSONDecodeError:
        return {}
    return doc if isinstance(doc, dict) else {}
