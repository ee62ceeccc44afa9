"""Snapshot signals, following a snapshot to its end, and the report's redaction."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.audit.backfill import follow_snapshot
from streams.audit.compare import Finding
from streams.audit.report import as_document, record_metrics, write_table
from streams.audit.runner import AuditResult
from streams.audit.sampling import plan_sample
from streams.audit.snapshot_signal import keys_filter, keys_of, signal_document

pytestmark = pytest.mark.unit


def test_signal_document_is_debeziums_execute_snapshot_data() -> None:
    doc = json.loads(signal_document("public.customers", "id IN (1,2)"))
    assert doc == {
        "data-collections": ["public.customers"],
        "type": "incremental",
        "additional-conditions": [{"data-collection": "public.customers", "filter": "id IN (1,2)"}],
    }
    assert "additional-conditions" not in json.loads(signal_document("public.customers"))


def test_keys_filter_only_takes_integer_keys() -> None:
    assert keys_filter("id", ["10", "2", "2"]) == "id IN (2,10)"
    with pytest.raises(ValueError, match="integer keys"):
        keys_filter("id", ["1); DROP TABLE customers; --"])
    with pytest.raises(ValueError, match="column"):
        keys_filter("id; x", ["1"])


def test_keys_of_reads_plain_and_schema_wrapped_keys() -> None:
    keys = [b'{"id": 1}', b'{"schema": {}, "payload": {"id": 2}}', None, b'{"other": 3}']
    assert keys_of(keys, "id") == ["1", "2"]


def test_follow_snapshot_ends_when_every_key_is_seen_or_deleted() -> None:
    clock = MockedClock()
    batches = [["1", "2"], [], ["3"], [], [], [], [], [], []]
    polled: list[int] = []

    def poll(timeout: float) -> Sequence[str]:
        clock.advance(timeout)
        polled.append(1)
        return batches.pop(0) if batches else []

    def existing(keys: Iterable[str]) -> set[str]:
        return set(keys) - {"4"}  # row 4 was deleted during the backfill

    progress: list[tuple[int, int]] = []
    outcome = follow_snapshot(
        "sig",
        {"1", "2", "3", "4"},
        poll,
        existing,
        clock,
        60,
        lambda d, t: progress.append((d, t)),
        check_every_s=2,
    )
    assert outcome.complete and outcome.written == 3 and outcome.deleted_meanwhile == 1
    assert progress[-1] == (3, 3)


def test_follow_snapshot_times_out() -> None:
    clock = MockedClock()

    def poll(timeout: float) -> Sequence[str]:
        clock.advance(timeout)
        return []

    outcome = follow_snapshot("sig", {"1"}, poll, lambda keys: set(keys), clock, 5)
    assert not outcome.complete and outcome.written == 0


def result_with_one_finding() -> AuditResult:
    result = AuditResult(plan_sample(10_000), checked=6240, duration_s=12.5)
    result.findings = [Finding("value", "7", "c7@example.com", "firstname", "first_name", "A", "B")]
    return result


def test_report_hides_personal_data_unless_asked() -> None:
    result = result_with_one_finding()
    hidden = as_document(result, "hubspot")
    assert hidden["findings"] == [
        {"kind": "value", "source_id": "7", "property": "firstname", "field": "first_name"}
    ]
    assert "c7@example.com" not in json.dumps(hidden)
    assert hidden["sample"]["size"] == 6240 and hidden["sample"]["confidence"] == 0.99
    assert not hidden["passed"] and hidden["mismatches_by_field"] == {"first_name": 1}
    shown = as_document(result, "hubspot", show_values=True)
    assert shown["findings"][0]["email"] == "c7@example.com"
    assert shown["findings"][0]["expected"] == "A"
    table = io.StringIO()
    write_table(hidden, table)
    text = table.getvalue()
    assert "99% confidence" in text and "first_name" in text and "FAIL" in text
    assert "c7@example.com" not in text


def test_metrics_of_a_run() -> None:
    metrics = RecordingMetrics()
    record_metrics(result_with_one_finding(), "hubspot", metrics)
    tags = (("direction", "outbound"), ("platform", "hubspot"))
    assert metrics.gauges[("cdcbridge_audit_mismatches", tags)] == 1
    assert metrics.gauges[("cdcbridge_audit_records_checked", tags)] == 6240
    field = (("direction", "outbound"), ("field", "first_name"), ("platform", "hubspot"))
    assert metrics.gauges[("cdcbridge_audit_field_mismatches", field)] == 1
    assert metrics.timings["cdcbridge_audit_duration_seconds"] == [12.5]


def test_sync_catch_up_waits_for_the_ends_seen_when_asked() -> None:
    from streams.audit.settle import SyncCatchUp
    from streams.sync.kafka_boundary import KafkaIOError, PartitionLag

    clock = MockedClock()
    committed = {"value": 5}

    def rows() -> list[PartitionLag]:
        committed["value"] += 1  # the sync commits one more record per look
        return [PartitionLag("t", 0, committed["value"], 8)]

    assert SyncCatchUp(rows, clock, timeout_s=60, interval_s=1).wait()
    assert committed["value"] >= 8
    assert not SyncCatchUp(lambda: [PartitionLag("t", 0, 0, 8)], clock, timeout_s=3).wait()

    def broken() -> list[PartitionLag]:
        raise KafkaIOError("no broker")

    assert not SyncCatchUp(broken, clock, timeout_s=3).wait()


def test_audit_without_a_source_database_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cdcbridge.cli import main

    monkeypatch.delenv("CDCBRIDGE_PG_DSN", raising=False)
    assert main(["audit", "--sample", "10"]) == 2
    assert "CDCBRIDGE_PG_DSN" in capsys.readouterr().err
