"""``ensure_connector_running`` returns only once the connector has settled: Connect restarts a
connector asynchronously after a config update, so a first RUNNING can be the old instance's
(CI once saw RUNNING, then UNASSIGNED a moment later)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdcbridge.connect_api import ConnectorFile, ConnectorState, TaskState
from local_stack import connector_setup
from local_stack.connector_setup import INCLUDE_LIST, ensure_connector_running
from local_stack.processes import StackError

CONNECTOR = ConnectorFile(name="src", config={"connector.class": "x.Y", INCLUDE_LIST: "public.a"})


class ScriptedConnect:
    """Answers status and task configs from scripts; the last answer repeats."""

    def __init__(self, states: list[str], include_lists: list[str]) -> None:
        self.states = states
        self.include_lists = include_lists
        self.status_calls = 0

    def __call__(self, url: str) -> ScriptedConnect:
        return self

    def apply(self, connector: ConnectorFile) -> bool:
        return False

    def status(self, name: str) -> ConnectorState:
        state = self.states[min(self.status_calls, len(self.states) - 1)]
        self.status_calls += 1
        return ConnectorState(name, state, [TaskState(0, "RUNNING", None)])

    def task_configs(self, name: str) -> list[dict[str, str]]:
        listed = self.include_lists[min(self.status_calls - 1, len(self.include_lists) - 1)]
        return [{INCLUDE_LIST: listed}]


@pytest.fixture
def connector_file(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(ConnectorFile, "load", staticmethod(lambda _: CONNECTOR))
    return Path("connector.json")


@pytest.mark.parametrize(
    ("states", "include_lists"),
    [
        # the old instance's RUNNING, about to be replaced by the new config's
        (["RUNNING", "UNASSIGNED", "RUNNING"], ["public.a"]),
        # tasks still running with the old include list
        (["RUNNING"], ["public.old", "public.old", "public.a"]),
    ],
    ids=["running-then-unassigned", "tasks-on-the-old-include-list"],
)
def test_a_connector_is_up_only_once_settled_on_the_new_config(
    monkeypatch: pytest.MonkeyPatch, connector_file: Path, states: list[str],
    include_lists: list[str],
) -> None:  # fmt: skip
    connect = ScriptedConnect(states, include_lists)
    monkeypatch.setattr(connector_setup, "ConnectClient", connect)
    ensure_connector_running("http://connect", connector_file, tables=[], timeout_s=10)
    assert connect.status_calls == 2 + connector_setup.SETTLED_POLLS


def test_a_connector_that_never_settles_times_out_with_what_it_saw(
    monkeypatch: pytest.MonkeyPatch, connector_file: Path
) -> None:
    connect = ScriptedConnect(["RUNNING", "UNASSIGNED"] * 50, ["public.a"])
    monkeypatch.setattr(connector_setup, "ConnectClient", connect)
    with pytest.raises(StackError, match="src to run: connector UNASSIGNED"):
        ensure_connector_running("http://connect", connector_file, tables=[], timeout_s=1)
