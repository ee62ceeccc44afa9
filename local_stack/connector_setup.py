"""Apply the Debezium connector and wait until it and its task run."""

from __future__ import annotations

from pathlib import Path

from cdcbridge.connect_api import ConnectClient, ConnectError, ConnectorFile
from local_stack.processes import StackError, wait_until
from local_stack.topics import ensure_topics


def ensure_connector_running(
    connect_url: str, path: Path, timeout_s: float = 90.0, bootstrap_servers: str | None = None
) -> str:
    """Create our topics (when ``bootstrap_servers`` is given), PUT the config (a no-op when
    unchanged), then poll until connector and tasks are RUNNING.

    Raises StackError with the failed task's trace when it does not come up.
    """
    if bootstrap_servers is not None:
        ensure_topics(bootstrap_servers)
    client = ConnectClient(connect_url)
    connector = ConnectorFile.load(path)
    client.apply(connector)
    last: list[str] = []

    def running() -> bool:
        try:
            state = client.status(connector.name)
        except ConnectError as exc:  # a 404 right after creation is normal
            last[:] = [str(exc)]
            return False
        last[:] = [t.trace or t.state for t in state.tasks if t.state != "RUNNING"]
        return state.state == "RUNNING" and bool(state.tasks) and not last

    try:
        wait_until(running, timeout_s, f"connector {connector.name} to run")
    except StackError as exc:
        raise StackError(f"{exc}: {' '.join(last)[:2000]}") from exc
    return connector.name
