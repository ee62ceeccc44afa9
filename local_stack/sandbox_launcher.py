"""Start the sandbox marketing platform as a child process: the one place that knows its
command line. The local stack runs one on a fixed port; tests and benchmarks run private ones
(own port, own knobs) with ``private_sandbox``."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from local_stack.health import sandbox_answers
from local_stack.layout import HOST
from local_stack.processes import StackError, wait_until
from local_stack.sandbox_setup import provision_sandbox

PLATFORMS = {"both": ("hubspot", "marketo"), "hubspot": ("hubspot",), "marketo": ("marketo",)}


def sandbox_argv(
    port: int, *, platform: str | None = None, knobs: Mapping[str, object] | None = None
) -> list[str]:
    """``python -m sandbox_platform`` on loopback ``port`` with startup knobs."""
    argv = [sys.executable, "-m", "sandbox_platform", "--host", HOST, "--port", str(port)]
    if platform is not None:
        argv += ["--platform", platform]
    for name, value in (knobs or {}).items():
        argv += ["--knob", f"{name}={value}"]
    return argv


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def private_sandbox(
    log_path: Path,
    *,
    platform: str | None = None,
    knobs: Mapping[str, object] | None = None,
    timeout_s: float = 30.0,
) -> Iterator[str]:
    """Run a sandbox on a free port until the block ends; yields its base URL.

    The custom properties our mappings write are created first (``platform setup``), as an
    admin would in a real portal. Output goes to ``log_path``. Raises StackError (naming the
    log) when the process exits or does not answer ``/admin/health`` within ``timeout_s``; the
    process is stopped either way.
    """
    port = free_port()
    url = f"http://{HOST}:{port}"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            sandbox_argv(port, platform=platform, knobs=knobs),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )

    def healthy() -> bool:
        if process.poll() is not None:
            raise StackError(f"the sandbox exited with {process.returncode}; see {log_path}")
        return sandbox_answers(url)

    try:
        wait_until(healthy, timeout_s, f"the sandbox at {url}; see {log_path}", interval_s=0.05)
        provision_sandbox(url, PLATFORMS.get(platform or "both", PLATFORMS["both"]))
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
