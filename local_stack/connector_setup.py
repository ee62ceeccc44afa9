"""Apply the Debezium connector and wait until it and its task run.

The connector's ``table.include.list`` is the file's list plus every table that has a mapping
file (the package's and those in ``CDCBRIDGE_MAPPINGS_DIR``), so adding a table is a mapping
file and ``cdcbridge connectors apply``; tables captured but not synced (e.g. the heartbeat)
stay in the file. Debezium's ``publication.autocreate.mode: filtered`` updates the publication
to the new list when the task restarts with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from cdcbridge.connect_api import ConnectClient, ConnectError, ConnectorFile
from local_stack.processes import StackError, wait_until
from local_stack.topics import CDC_TOPICS, PRODUCT_TOPICS, ensure_topics

INCLUDE_LIST = "table.include.list"
SETTLED_POLLS = 3  # consecutive RUNNING polls, 0.2 s apart, before a connector counts as up


def mapped_tables() -> list[str]:
    """Every table that has a mapping file. Raises ``MappingFileError``."""
    from streams.mapping.table_catalog import load_table_mappings

    return [mapping.table for mapping in load_table_mappings()]


def mapped_topics() -> tuple[str, ...]:
    """Every mapped table's topic. Raises ``MappingFileError``."""
    from streams.mapping.table_catalog import load_table_mappings
    from streams.mapping.table_catalog import mapped_topics as topics_of

    return topics_of(load_table_mappings())


def with_tables(connector: ConnectorFile, tables: Sequence[str]) -> ConnectorFile:
    """The connector with ``tables`` added to its include list (those not already in it, in
    order). A connector without an include list captures every table: left as it is."""
    listed = connector.config.get(INCLUDE_LIST)
    if listed is None:
        return connector
    current = [t.strip() for t in listed.split(",") if t.strip()]
    wanted = current + [t for t in dict.fromkeys(tables) if t not in current]
    if wanted == current:
        return connector
    config = {**connector.config, INCLUDE_LIST: ",".join(wanted)}
    return dataclasses.replace(connector, config=config)


def ensure_connector_running(
    connect_url: str,
    path: Path,
    timeout_s: float = 90.0,
    bootstrap_servers: str | None = None,
    tables: Sequence[str] | None = None,
) -> str:
    """Create our topics and the mapped tables' (when ``bootstrap_servers`` is given, with the
    connector's partition count: Debezium would create them only on the first change, after
    sync subscribed), PUT the config with the mapped
    tables (``tables``, default ``mapped_tables()``) in its include list (a no-op when
    unchanged), then poll until connector and tasks are RUNNING.

    Raises StackError with the failed task's trace when it does not come up, and
    ``MappingFileError`` for a broken mapping file.
    """
    if bootstrap_servers is not None:  # a mapped table's topic too, before sync subscribes
        ensure_topics(bootstrap_servers, tuple(dict.fromkeys(
            (*CDC_TOPICS, *PRODUCT_TOPICS, *(mapped_topics() if tables is None else ())))))
    client = ConnectClient(connect_url)
    connector = with_tables(
        ConnectorFile.load(path), mapped_tables() if tables is None else tables
    )
    client.apply(connector)
    wanted = connector.config.get(INCLUDE_LIST)
    last: list[str] = []
    streak = 0

    def running() -> bool:
        """RUNNING on ``SETTLED_POLLS`` polls in a row, with the tasks reconfigured to the new
        include list: Connect restarts a connector asynchronously after a config update, so
        the first RUNNING may be the old instance's, about to turn UNASSIGNED."""
        nonlocal streak
        try:
            state = client.status(connector.name)
            configs = client.task_configs(connector.name) if wanted is not None else []
        except ConnectError as exc:  # a 404 right after creation is normal
            last[:] = [str(exc)]
            streak = 0
            return False
        last[:] = [t.trace or t.state for t in state.tasks if t.state != "RUNNING"]
        if state.state != "RUNNING":
            last.insert(0, f"connector {state.state}")
        stale = any(c.get(INCLUDE_LIST, wanted) != wanted for c in configs)
        if stale:
            last.append("tasks not yet reconfigured with the new include list")
        healthy = bool(state.tasks) and not last
        streak = streak + 1 if healthy else 0
        return streak >= SETTLED_POLLS

    try:
        wait_until(running, timeout_s, f"connector {connector.name} to run")
    except StackError as exc:
        raise StackError(f"{exc}: {' '.join(last)[:2000]}") from exc
    return connector.name
