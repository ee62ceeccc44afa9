"""The sandbox emits signed engagement webhooks that our verifier accepts (both schemes)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest

from tests.fakes.platform_sandbox import Sandbox
from webhook_bridge.signatures import verify

pytestmark = pytest.mark.integration

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver(http.server.ThreadingHTTPServer):
    received: list[tuple[dict[str, str], bytes]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers.items()), body))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    server = Receiver(("127.0.0.1", 0), _Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/sandbox", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("scheme", ["standard-webhooks", "hubspot-v3"])
def test_emitted_webhooks_are_signed(
    sandbox: Sandbox, receiver: tuple[str, Receiver], scheme: str
) -> None:
    url, server = receiver
    sandbox.knobs(webhook_url=url, webhook_scheme=scheme, webhook_secret=SECRET)

    answer = sandbox.admin.post("/admin/webhooks/emit", json={"count": 3, "type": "email_clicked"})

    assert answer.json() == {"sent": 3, "statuses": [202, 202, 202]}
    assert len(server.received) == 3
    for headers, body in server.received:
        verify(scheme, secrets=[SECRET], headers=headers, body=body, method="POST", url=url)
        assert "email_clicked" in json.dumps(json.loads(body))
    assert sandbox.requests()["webhooks_sent"] == {"2xx": 3}


def test_background_emission_at_a_configured_rate(
    sandbox: Sandbox, receiver: tuple[str, Receiver]
) -> None:
    url, server = receiver
    sandbox.knobs(webhook_url=url, webhook_secret=SECRET, webhook_rate_per_s=20)
    deadline = time.monotonic() + 10
    while len(server.received) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    sandbox.knobs(webhook_rate_per_s=0)

    assert len(server.received) >= 5
    headers, body = server.received[0]
    verify("standard-webhooks", secrets=[SECRET], headers=headers, body=body)
