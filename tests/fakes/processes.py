"""Child processes of the integration tests (``cdcbridge`` commands, sandboxes) and the one
deadline-bound poll they all wait with. Every child writes to its own log file, so a failing
test can show what the process said."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from local_stack.layout import PROJECT_ROOT

CDCBRIDGE = [sys.executable, "-m", "cdcbridge.cli"]


def wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.1
) -> None:
    """Poll ``condition`` until true; raise ``AssertionError`` naming ``what`` after
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)  # polling interval of a deadline-bound wait


class Child:
    """A child process (cwd: the project root) with its log file; ``stop`` terminates (SIGKILL
    after a grace period), ``kill9`` sends SIGKILL at once."""

    def __init__(
        self, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(argv), stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                env={**os.environ, **(env or {})},
            )  # fmt: skip

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, grace_s: float = 20) -> int | None:
        """Terminate, wait up to ``grace_s`` (then SIGKILL); returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.process.returncode

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
