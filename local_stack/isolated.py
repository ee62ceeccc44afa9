"""A second, throwaway stack (own state folder, own ports) for tests and benchmarks that must
start from cold or stop everything, without touching the main stack. Jars are shared with
the main stack's state folder through symlinks, so nothing is resolved twice."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_stack import jars, pg_home, stack
from local_stack.layout import DEFAULT_PORTS, StackLayout


@contextmanager
def isolated_layout(port_offset: int = 200) -> Iterator[StackLayout]:
    """A stack in a new temporary folder, every port moved by ``port_offset``.

    On exit the stack is stopped and the folder removed, with the PostgreSQL cluster wherever
    ``local_stack.pg_home`` put it.
    """
    with tempfile.TemporaryDirectory(prefix="cdcbridge-stack-") as tmp:
        yield from _isolated(Path(tmp) / "stack", port_offset)


def _isolated(root: Path, port_offset: int) -> Iterator[StackLayout]:
    main = StackLayout.default()
    main.ensure_dirs()
    jars.ensure_jars(main)
    root.mkdir(parents=True, exist_ok=True)
    for name in ("lib", "plugins"):
        link = root / name
        if not link.exists():
            link.symlink_to(main.root / name)
    layout = StackLayout(
        root=root,
        pg_port=DEFAULT_PORTS["postgres"] + port_offset,
        kafka_port=DEFAULT_PORTS["kafka"] + port_offset,
        controller_port=DEFAULT_PORTS["kafka_controller"] + port_offset,
        connect_port=DEFAULT_PORTS["connect"] + port_offset,
        sqs_port=DEFAULT_PORTS["sqs"] + port_offset,
        sandbox_port=DEFAULT_PORTS["sandbox"] + port_offset,
    )
    try:
        yield layout
    finally:
        stack.down(layout)
        pg_home.discard(layout)


def stack_pids(layout: StackLayout) -> dict[str, int]:
    """Pids of every running component, PostgreSQL's postmaster included."""
    pids = {s.name: s.pid for s in stack.status(layout) if s.pid is not None}
    postmaster = layout.root / "postgres" / "data" / "postmaster.pid"
    if postmaster.exists():
        pids["postgres"] = int(postmaster.read_text().split()[0])
    return pids


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
