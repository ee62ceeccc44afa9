"""``python -m sandbox_platform`` as the local stack starts it: a subprocess, health polled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local_stack.sandbox_launcher import private_sandbox

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[str]:
    with private_sandbox(tmp_path / "sandbox.log", knobs={"hubspot_limit": 7}) as url:
        yield url


def test_module_serves_with_startup_knobs(sandbox_process: str) -> None:
    assert httpx.get(f"{sandbox_process}/admin/knobs").json()["hubspot_limit"] == 7
    assert httpx.get(f"{sandbox_process}/admin/contacts").json() == {"hubspot": [], "marketo": []}
