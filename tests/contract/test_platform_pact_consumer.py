"""Consumer-driven pacts for our HubSpot and Marketo clients (pact-python, V4).

The adapters run against pact's mock server; the pacts generated must equal the ones committed
under ``tests/contract/pacts/`` (set ``PACT_UPDATE=1`` to rewrite them after a deliberate
change). ``test_platform_pact_provider`` verifies the committed pacts against the sandbox.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from pact import Pact

from tests.contract.pact_interactions import (
    CONSUMER,
    HUBSPOT,
    MARKETO,
    define_hubspot,
    define_marketo,
    exercise_hubspot,
    exercise_marketo,
)

pytestmark = pytest.mark.contract

PACTS = Path(__file__).parent / "pacts"


def comparable(path: Path) -> list[dict[str, object]]:
    doc = json.loads(path.read_text())
    return sorted(
        ({k: i[k] for k in ("description", "providerStates", "request", "response")}
         for i in doc["interactions"]),
        key=lambda i: str(i["description"]),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("provider", "define", "exercise"),
    [(HUBSPOT, define_hubspot, exercise_hubspot), (MARKETO, define_marketo, exercise_marketo)],
)
def test_consumer_pact(
    tmp_path: Path,
    provider: str,
    define: Callable[[Pact], None],
    exercise: Callable[[str], None],
) -> None:
    pact = Pact(CONSUMER, provider).with_specification("V4")
    define(pact)
    with pact.serve(addr="127.0.0.1") as server:
        exercise(str(server.url).rstrip("/"))
    pact.write_file(tmp_path, overwrite=True)
    generated = tmp_path / f"{CONSUMER}-{provider}.json"
    committed = PACTS / generated.name
    if os.environ.get("PACT_UPDATE") == "1":
        committed.write_text(generated.read_text())
    assert committed.exists(), f"missing {committed}: run with PACT_UPDATE=1 and commit it"
    assert comparable(generated) == comparable(committed)
