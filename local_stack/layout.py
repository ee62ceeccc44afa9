"""Where the local stack lives: one git-ignored state folder, fixed loopback ports.

Ports sit in a range no common system service uses; every one can be moved with an environment
variable (``CDCBRIDGE_STACK_<NAME>_PORT``), and the state folder with ``CDCBRIDGE_STACK_DIR``
(default ``.stack`` in a checkout, ``$XDG_STATE_HOME/cdcbridge/stack`` from the wheel).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

DEFAULT_PORTS = {
    "postgres": 15432,
    "kafka": 19092,
    "kafka_controller": 19093,
    "connect": 18083,
    "sqs": 19324,
    "sandbox": 18090,
}

PG_USER = "cdcbridge"
PG_PASSWORD = "cdcbridge-local"  # local stack only; loopback, throwaway data  # noqa: S105
PG_DATABASE = "cdcbridge"
SQS_QUEUES = ("engagement", "engagement-dlq")


def _default_state_dir() -> Path:
    """``.stack`` in a checkout; the user's state folder when installed from the wheel."""
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / ".stack"
    state_home = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state_home) / "cdcbridge" / "stack"


def _port(name: str) -> int:
    return int(os.environ.get(f"CDCBRIDGE_STACK_{name.upper()}_PORT", DEFAULT_PORTS[name]))


@dataclass(frozen=True)
class StackLayout:
    """Paths and ports of one local stack."""

    root: Path
    pg_port: int
    kafka_port: int
    controller_port: int
    connect_port: int
    sqs_port: int
    sandbox_port: int

    @classmethod
    def default(cls) -> StackLayout:
        root = Path(os.environ.get("CDCBRIDGE_STACK_DIR", _default_state_dir())).resolve()
        return cls(
            root=root,
            pg_port=_port("postgres"),
            kafka_port=_port("kafka"),
            controller_port=_port("kafka_controller"),
            connect_port=_port("connect"),
            sqs_port=_port("sqs"),
            sandbox_port=_port("sandbox"),
        )

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def plugins(self) -> Path:
        return self.root / "plugins"

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def pg_dsn(self) -> str:
        return f"postgresql://{PG_USER}:{PG_PASSWORD}@{HOST}:{self.pg_port}/{PG_DATABASE}"

    @property
    def connect_url(self) -> str:
        return f"http://{HOST}:{self.connect_port}"

    @property
    def sqs_endpoint(self) -> str:
        return f"http://{HOST}:{self.sqs_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{HOST}:{self.sandbox_port}"

    def ensure_dirs(self) -> None:
        for path in (self.root, self.logs, self.run, self.lib, self.plugins):
            path.mkdir(parents=True, exist_ok=True)
