"""``python -m sandbox_platform`` as the local stack starts it: a subprocess, health polled."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox_process() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "sandbox_platform", "--host", "127.0.0.1",
               "--port", str(port), "--knob", "hubspot_limit=7"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "sandbox not healthy in 20 s"
            try:
                if httpx.get(f"{url}/admin/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_module_serves_with_startup_knobs(sandbox_process: str) -> None:
    assert httpx.get(f"{sandbox_process}/admin/knobs").json()["hubspot_limit"] == 7
    assert httpx.get(f"{sandbox_process}/admin/contacts").json() == {"hubspot": [], "marketo": []}
