"""The fault suite's report: each test appends its row (one JSON object a line) to
``CDCBRIDGE_FAULTS_REPORT`` (default ``.stack/faults-report.jsonl``); ``python -m
tests.faults.report`` writes the markdown table next to it (``.md``) and prints it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from local_stack.layout import PROJECT_ROOT

COLUMNS = (
    ("fault", "fault"),
    ("result", "result"),
    ("recovery_s", "recovery s"),
    ("resent", "re-sent"),
    ("duplicates_dropped", "duplicates dropped"),
    ("peak_lag_s", "peak lag s (out / in)"),
    ("api_success_after_retries", "API success after retries"),
    ("audit_match_rate", "audit"),
    ("webhooks_accepted", "webhooks 202"),
)


def report_path() -> Path:
    configured = os.environ.get("CDCBRIDGE_FAULTS_REPORT")
    return Path(configured) if configured else PROJECT_ROOT / ".stack" / "faults-report.jsonl"


def append_row(row: dict[str, object]) -> None:
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(row) + "\n")


def _cell(row: dict[str, object], key: str) -> str:
    if key == "result":
        return "pass" if row.get("passed") else "FAIL"
    if key == "peak_lag_s":
        return f"{row.get('peak_outbound_lag_s')} / {row.get('peak_inbound_lag_s')}"
    value = row.get(key)
    return "-" if value is None else str(value)


def markdown(rows: list[dict[str, object]]) -> str:
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]  # fmt: skip
    lines += ["| " + " | ".join(_cell(row, key) for key, _ in COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    path = report_path()
    if not path.exists():
        print(f"no fault report at {path}")
        return 1
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    table = markdown(rows)
    path.with_suffix(".md").write_text(table)
    print(table, end="")
    failed = [row for row in rows if not row.get("passed")]
    for row in failed:
        print(f"\n{row['fault']}: " + "; ".join(map(str, row.get("failures", []))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
