"""Provider verification: the committed vendor pacts replayed against the sandbox platform.

The sandbox stands in for HubSpot and Marketo, so it must honour every interaction our client
relies on. Provider states are set through its admin API before each interaction.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pact import Verifier

from sandbox_platform.app import build_app
from sandbox_platform.knobs import Knobs
from tests.contract.pact_interactions import CONSUMER, HUBSPOT, MARKETO, MARKETO_TOKEN

pytestmark = pytest.mark.contract

PACTS = Path(__file__).parent / "pacts"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(build_app(), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "sandbox did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def state_setter(url: str) -> Callable[..., None]:
    """Puts the sandbox into a named provider state (fresh store, default knobs)."""
    knobs_for = {
        "the ten-secondly limit is used up": {"burst_429": 1},
        "the daily limit is used up": {"burst_429": 1, "burst_429_policy": "DAILY"},
        "the Marketo rate limit is used up": {
            "marketo_error_code": "606", "marketo_error_count": 1},
        "the Marketo daily quota is used up": {
            "marketo_error_code": "607", "marketo_error_count": 1},
    }  # fmt: skip

    def set_state(state: str, action: str = "setup", parameters: Any = None) -> None:
        if action != "setup":
            return
        with httpx.Client(base_url=url, timeout=10) as admin:
            admin.post("/admin/reset").raise_for_status()
            defaults = Knobs(marketo_fixed_token=MARKETO_TOKEN).model_dump()
            admin.patch("/admin/knobs", json=defaults).raise_for_status()
            admin.get("/identity/oauth/token", params={
                "grant_type": "client_credentials", "client_id": "sandbox-client",
                "client_secret": "sandbox-secret"}).raise_for_status()  # fmt: skip
            if state == "contact dan@example.com exists":
                admin.post(
                    "/crm/v3/objects/contacts/batch/upsert",
                    headers={"Authorization": "Bearer sandbox-token"},
                    json={"inputs": [{"id": "dan@example.com", "idProperty": "email",
                                      "properties": {"firstname": "Dan"}}]},
                ).raise_for_status()  # fmt: skip
            changes = knobs_for.get(state)
            if changes:
                admin.patch("/admin/knobs", json=changes).raise_for_status()

    return set_state


@pytest.mark.parametrize("provider", [HUBSPOT, MARKETO])
def test_sandbox_honours_the_pact(sandbox_url: str, provider: str) -> None:
    verifier = (
        Verifier(provider, host="127.0.0.1")
        .add_transport(url=sandbox_url)
        .add_source(PACTS / f"{CONSUMER}-{provider}.json")
        .state_handler(state_setter(sandbox_url), teardown=False)
    )
    verifier.verify()
    assert verifier.results["result"] is True
