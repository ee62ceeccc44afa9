"""The audit's outputs: a table for people, JSON for machines, metrics for alerting.

Without ``show_values`` a report names source ids, properties and canonical fields only: no
email, no value (personal data appears only when the user asks for it).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, TextIO

from cdcbridge.metrics import Metrics
from streams.audit.compare import Finding
from streams.audit.runner import AuditResult


def _finding(finding: Finding, show_values: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": finding.kind,
        "source_id": finding.source_id,
        "property": finding.property,
        "field": finding.field,
    }
    if show_values:
        doc |= {"email": finding.email, "expected": finding.expected, "actual": finding.actual}
    return doc


def _sample(result: AuditResult) -> dict[str, Any]:
    plan = result.plan
    return {
        "mode": plan.mode,
        "population": plan.population,
        "size": plan.size,
        "confidence": plan.confidence,
        "margin": plan.margin,
    }


def as_document(
    result: AuditResult, platform: str, *, show_values: bool = False, repaired: int | None = None
) -> dict[str, Any]:
    """The JSON report (``--json``)."""
    doc: dict[str, Any] = {
        "platform": platform,
        "sample": _sample(result),
        "checked": result.checked,
        "deletes_checked": result.deletes_checked,
        "mismatched_records": result.mismatched_records,
        "match_rate": round(result.match_rate, 6),
        "mismatches_by_field": dict(Counter(f.field or f.property for f in result.findings)),
        "rechecked_after_lag": result.rechecked,
        "sync_caught_up": result.settled,
        "duration_s": round(result.duration_s, 3),
        "findings": [_finding(f, show_values) for f in result.findings],
        "passed": not result.findings,
    }
    if repaired is not None:
        doc["repair_sent"] = repaired
    return doc


def write_table(doc: dict[str, Any], out: TextIO) -> None:
    """The human report: a summary, then one line per finding."""
    sample = doc["sample"]
    lagging = "writeback" if doc.get("direction") == "inbound" else "sync"
    how = (
        f"{sample['confidence']:.0%} confidence, ±{sample['margin']:.1%} margin"
        if sample["mode"] == "statistical"
        else sample["mode"]
    )
    out.write(
        f"audit {doc['platform']}: sample {sample['size']} of {sample['population']} rows ({how})\n"
        f"checked {doc['checked']} rows + {doc['deletes_checked']} deletes in "
        f"{doc['duration_s']:.1f}s; match rate {doc['match_rate']:.4%}; "
        f"{doc['mismatched_records']} mismatched, {doc['rechecked_after_lag']} re-checked after "
        f"the {lagging} lag{'' if doc['sync_caught_up'] else f' ({lagging} did not catch up)'}\n"
    )
    if not doc["findings"]:
        out.write("PASS: every checked field matches\n")
        return
    columns = ["kind", "source_id", "property", "field"]
    if "email" in doc["findings"][0]:
        columns += ["email", "expected", "actual"]
    rows = [[str(f.get(c, "")) for c in columns] for f in doc["findings"]]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + "\n")
    for row in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + "\n")
    out.write(f"FAIL: {doc['mismatched_records']} record(s) differ\n")


def record_metrics(
    result: AuditResult, platform: str, metrics: Metrics, direction: str = "outbound"
) -> None:
    """Gauges of the last run (a batch job: pushed or written to a textfile by the caller),
    tagged with the platform and the direction (``outbound``: database -> platform;
    ``inbound``: engagement topic -> database, platform ``all``)."""
    tags = {"platform": platform, "direction": direction}
    metrics.gauge("cdcbridge_audit_mismatches", float(result.mismatched_records), tags)
    metrics.gauge("cdcbridge_audit_match_ratio", result.match_rate, tags)
    metrics.gauge("cdcbridge_audit_records_checked", float(result.checked), tags)
    metrics.timing("cdcbridge_audit_duration_seconds", result.duration_s, tags)
    by_field = Counter(f.field or f.property for f in result.findings)
    for name, count in by_field.items():
        metrics.gauge("cdcbridge_audit_field_mismatches", float(count), {**tags, "field": name})
