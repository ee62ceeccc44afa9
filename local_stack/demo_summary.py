"""The table ``cdcbridge demo`` ends with: what happened, in both directions, and the audit.

Pure: ``DemoSummary`` holds the numbers the demo measured, ``summary_rows`` words them and
``render_table`` draws them; nothing here does I/O.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["DemoSummary", "Percentiles", "percentiles", "render_table", "summary_rows"]


@dataclass(frozen=True)
class Percentiles:
    """p50/p95/p99 in milliseconds over ``count`` samples."""

    p50_ms: float
    p95_ms: float
    p99_ms: float
    count: int


def percentiles(values_ms: Sequence[float]) -> Percentiles | None:
    """Percentiles of ``values_ms`` (inclusive method; one value is every percentile), or None
    when there is none."""
    if not values_ms:
        return None
    if len(values_ms) == 1:
        only = float(values_ms[0])
        return Percentiles(only, only, only, 1)
    cuts = statistics.quantiles(values_ms, n=100, method="inclusive")
    return Percentiles(cuts[49], cuts[94], cuts[98], len(values_ms))


@dataclass
class DemoSummary:
    """What one demo run measured. ``None`` means "not measured in this run" (shown as such)."""

    rows_changed: int = 0
    contacts_upserted: int | None = None
    api_calls: int | None = None
    api_records: int | None = None
    rate_limited: Mapping[str, int] = field(default_factory=dict)
    dlq_records: int | None = None
    webhooks_sent: int | None = None
    webhooks_accepted: int | None = None
    webhooks_forwarded: int | None = None
    written_back: int | None = None
    outbound: Percentiles | None = None
    inbound: Percentiles | None = None
    audit_checked: int | None = None
    audit_mismatched: int | None = None
    audit_match_rate: float | None = None
    duration_s: float | None = None


def _count(value: int | None) -> str:
    return "not measured" if value is None else f"{value:,}"


def _latency(p: Percentiles | None, what: str) -> str:
    if p is None:
        return "not measured"
    return (f"p50 {p.p50_ms:,.0f} ms · p95 {p.p95_ms:,.0f} ms · p99 {p.p99_ms:,.0f} ms"
            f"  ({p.count:,} {what})")


def summary_rows(s: DemoSummary) -> list[tuple[str, str]]:
    """The table's (label, value) rows, in the order shown."""
    calls = _count(s.api_calls)
    if s.api_calls and s.api_records is not None:
        calls += f"  ({s.api_records / s.api_calls:.1f} records per call)"
    limited = ", ".join(f"{code} {n:,}" for code, n in sorted(s.rate_limited.items())) or "0"
    webhooks = f"{_count(s.webhooks_accepted)} accepted (202)"
    if s.webhooks_sent is not None:
        webhooks += f" of {s.webhooks_sent:,} sent"
    audit = "not run"
    if s.audit_match_rate is not None:
        audit = (f"{s.audit_match_rate:.2%} match  ({_count(s.audit_checked)} rows checked, "
                 f"{_count(s.audit_mismatched)} mismatched)")
    rows = [
        ("rows changed (insert/update/delete)", _count(s.rows_changed)),
        ("contacts upserted (platform holds)", _count(s.contacts_upserted)),
        ("API calls", calls),
        ("429s by policy", limited),
        ("DLQ records", _count(s.dlq_records)),
        ("webhooks", webhooks),
        ("webhooks forwarded to Kafka", _count(s.webhooks_forwarded)),
        ("written back to PostgreSQL",
         "writeback not run in the demo" if s.written_back is None else _count(s.written_back)),
        ("outbound: commit -> platform", _latency(s.outbound, "contacts")),
        ("inbound: webhook -> Kafka", _latency(s.inbound, "events")),
        ("final audit (--all, this run)", audit),
    ]
    if s.duration_s is not None:
        rows.insert(0, ("steady load", f"{s.duration_s:,.0f} s"))
    return rows


def render_table(rows: Sequence[tuple[str, str]], title: str = "demo summary") -> str:
    """A two-column text table with a title row; every line the same width."""
    left = max([len(label) for label, _ in rows] + [len(title)])
    right = max([len(value) for _, value in rows] + [1])
    rule = f"+{'-' * (left + 2)}+{'-' * (right + 2)}+"
    lines = [rule, f"| {title:<{left}} | {'':<{right}} |", rule]
    lines += [f"| {label:<{left}} | {value:<{right}} |" for label, value in rows]
    lines.append(rule)
    return "\n".join(lines)
