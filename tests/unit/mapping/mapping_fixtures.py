"""Helpers for the mapping tests: fixture envelopes and an envelope builder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "debezium"
CAPTURED = FIXTURES / "captured"
TOPIC = "cdc.public.customers"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_doc(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def envelope(
    after: dict[str, object] | None,
    before: dict[str, object] | None = None,
    op: str = "c",
    lsn: int | None = 24023928,
) -> bytes:
    """A plain Debezium envelope around the given rows."""
    source: dict[str, object] = {
        "version": "3.6.1.Final",
        "connector": "postgresql",
        "name": "cdc",
        "ts_ms": 1796011331004,
        "snapshot": "false",
        "db": "cdcbridge",
        "schema": "public",
        "table": "customers",
        "lsn": lsn,
    }
    doc = {"before": before, "after": after, "source": source, "op": op, "ts_ms": 1796011331219}
    return json.dumps(doc, ensure_ascii=False).encode()


def base_row(**overrides: object) -> dict[str, object]:
    """The ``create`` fixture's ``after`` row with overrides."""
    row: dict[str, object] = dict(fixture_doc("create")["after"])
    row.update(overrides)
    return row
