"""Doctor's vocabulary: a check's result, the context checks read, the exit code.

A check is a function ``(DoctorContext) -> list[CheckResult]``. It never raises for the thing
it checks being broken: it answers FAIL with the fix. (A bug in a check does raise.)
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path


class Status(enum.IntEnum):
    OK = 0
    WARN = 1
    FAIL = 2


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {**asdict(self), "status": self.status.name}


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.OK, detail)


def warn(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.WARN, detail, fix)


def fail(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, fix)


@dataclass(frozen=True)
class DoctorContext:
    """Where the dependencies are and what doctor expects of them."""

    bootstrap_servers: str
    pg_dsn: str
    connect_url: str
    connector_file: Path
    sqs_endpoint: str | None
    expected_partitions: int = 3
    max_retained_wal_bytes: int = 1024 * 1024 * 1024
    max_lag_seconds: float = 60.0
    timeout_s: float = 5.0


Check = Callable[[DoctorContext], list[CheckResult]]


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when everything is OK, 1 when the worst is a WARN, 2 on any FAIL."""
    return int(max((r.status for r in results), default=Status.OK))


def render_text(results: Sequence[CheckResult]) -> str:
    width = max((len(r.name) for r in results), default=0)
    lines = []
    for result in results:
        lines.append(f"{result.status.name:<4}  {result.name:<{width}}  {result.detail}")
        if result.fix:
            lines.append(f"{'':<4}  {'':<{width}}  fix: {result.fix}")
    counts = {s.name: sum(r.status is s for r in results) for s in Status}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    return "\n".join(lines)


def render_json(results: Sequence[CheckResult]) -> str:
    worst = Status(exit_code(results))
    return json.dumps({"status": worst.name, "checks": [r.as_json() for r in results]})
