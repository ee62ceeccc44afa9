"""Start, find and stop the stack's own processes, by pid file, never by name.

A pid file holds the pid and the process start time (from /proc), so a pid reused by an
unrelated process is never signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.errors import FatalError


class StackError(FatalError, RuntimeError):
    """A component failed to start or to become healthy; the message says where to look."""


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime) counted after the ")" that closes the command name.
    return stat.rsplit(")", 1)[1].split()[19]


def read_pid(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file`` if that very process is still alive, else None."""
    try:
        pid_text, started = pid_file.read_text().split()
    except (OSError, ValueError):
        return None
    pid = int(pid_text)
    if _start_time(pid) != started:
        return None
    return pid


def write_pid(pid_file: Path, pid: int) -> None:
    started = _start_time(pid)
    if started is None:
        raise StackError(f"process {pid} exited right after start; see its log")
    pid_file.write_text(f"{pid} {started}\n")


def spawn(
    argv: Sequence[str],
    *,
    pid_file: Path,
    log_file: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start ``argv`` detached (own session), output appended to ``log_file``; record its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    write_pid(pid_file, proc.pid)
    return proc.pid


def stop_pid(pid_file: Path, *, timeout_s: float = 30.0, clock: Clock = SYSTEM_CLOCK) -> bool:
    """SIGTERM the recorded process group, SIGKILL after ``timeout_s``. True if one was running."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = clock.monotonic() + timeout_s
    while read_pid(pid_file) is not None and clock.monotonic() < deadline:
        _reap(pid)
        clock.sleep(0.1)
    if read_pid(pid_file) is not None:
        _signal_group(pid, signal.SIGKILL)
        wait_until(lambda: read_pid(pid_file) is None, 10.0, f"pid {pid} to die", clock=clock)
    pid_file.unlink(missing_ok=True)
    return True


def kill_pid(pid_file: Path, *, clock: Clock = SYSTEM_CLOCK) -> bool:
    """SIGKILL the recorded process group at once (a crash: no shutdown hook runs) and wait for
    it to die. True if one was running. Raises StackError if it outlives 10 s."""
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGKILL)

    def gone() -> bool:
        _reap(pid)
        return read_pid(pid_file) is None

    wait_until(gone, 10.0, f"pid {pid} to die", clock=clock)
    pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return


def wait_until(
    check: Callable[[], bool],
    timeout_s: float,
    what: str,
    *,
    clock: Clock = SYSTEM_CLOCK,
    interval_s: float = 0.2,
) -> None:
    """Poll ``check`` until it returns True; raise StackError naming ``what`` at the deadline."""
    deadline = clock.monotonic() + timeout_s
    while True:
        if check():
            return
        if clock.monotonic() >= deadline:
            raise StackError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        clock.sleep(interval_s)
