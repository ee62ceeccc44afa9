"""The inbound audit core with fakes: presence, the consent withdrawal, re-check after the
writeback lag, and the shared report and metrics (direction inbound)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from cdcbridge.clock import MockedClock
from cdcbridge.metrics import RecordingMetrics
from streams.audit.inbound import Consent, Identity, InboundAuditor
from streams.audit.report import as_document, record_metrics, write_table
from streams.audit.sampling import plan_sample
from streams.writeback.events import InboundEvent, Position
from streams.writeback.spec import ConflictRule

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def event(n: int, type_: str = "email_opened") -> InboundEvent:
    return InboundEvent(Position("t", 0, n), f"e{n}", type_, "hubspot", AT, AT, "trace",
                        email=f"c{n}@x.io")  # fmt: skip


class FakeStore:
    def __init__(self) -> None:
        self.rows: dict[Identity, str | None] = {}
        self.customers: dict[str, Consent] = {}

    def stored(self, identities: Sequence[Identity]) -> Mapping[Identity, str | None]:
        return {i: self.rows[i] for i in identities if i in self.rows}

    def consent(self, customer_keys: Sequence[str]) -> Mapping[str, Consent]:
        return {k: self.customers[k] for k in customer_keys if k in self.customers}


class FakeSettler:
    def __init__(self, on_wait: Callable[[], None] = lambda: None) -> None:
        self.calls = 0
        self.on_wait = on_wait

    def wait(self) -> bool:
        self.calls += 1
        self.on_wait()
        return True


def auditor(store: FakeStore, settler: FakeSettler,
            rule: ConflictRule = ConflictRule.NEWEST_WINS) -> InboundAuditor:  # fmt: skip
    return InboundAuditor(store, settler, MockedClock(), frozenset({"contact_unsubscribed"}),
                          rule, "marketing_opt_in")  # fmt: skip


def test_every_event_stored_passes_without_waiting() -> None:
    events = [event(n) for n in range(20)]
    store = FakeStore()
    store.rows = {e.identity: None for e in events}
    settler = FakeSettler()
    result = auditor(store, settler).run(plan_sample(20, everything=True), events,
                                         random.Random(1))  # fmt: skip
    assert (result.checked, result.findings, settler.calls) == (20, [], 0)
    assert result.match_rate == 1.0


def test_a_missing_event_is_reported_after_the_lag_and_a_late_one_is_not() -> None:
    events = [event(n) for n in range(10)]
    store = FakeStore()
    store.rows = {e.identity: None for e in events[:8]}  # e8 late, e9 lost
    settler = FakeSettler(lambda: store.rows.update({events[8].identity: None}))
    result = auditor(store, settler).run(plan_sample(10, everything=True), events,
                                         random.Random(1))  # fmt: skip
    assert [(f.kind, f.source_id) for f in result.findings] == [("missing", "hubspot:e9")]
    assert (settler.calls, result.rechecked, result.match_rate) == (1, 2, 0.9)


def test_an_unsubscribe_must_show_in_the_known_customers_consent() -> None:
    kept, withdrawn, later_opt_in, unknown = (event(n, "contact_unsubscribed") for n in range(4))
    store = FakeStore()
    store.rows = {kept.identity: "1", withdrawn.identity: "2", later_opt_in.identity: "3",
                  unknown.identity: None}  # fmt: skip
    store.customers = {"1": Consent(True, AT - timedelta(days=1)), "2": Consent(False, None),
                       "3": Consent(True, AT + timedelta(hours=1))}  # fmt: skip
    events = [kept, withdrawn, later_opt_in, unknown]
    result = auditor(store, FakeSettler()).run(plan_sample(4, everything=True), events,
                                               random.Random(1))  # fmt: skip
    assert [(f.kind, f.source_id, f.property, f.field) for f in result.findings] == [
        ("value", "hubspot:e0", "marketing_opt_in", "consent")
    ]
    rule = ConflictRule.DATABASE_WINS  # a recorded opt-in is never withdrawn: not a finding
    again = auditor(store, FakeSettler(), rule).run(plan_sample(4, everything=True), events,
                                                    random.Random(1))  # fmt: skip
    assert again.findings == []


def test_sampling_is_seeded_and_bounded_by_the_plan() -> None:
    events = [event(n) for n in range(100)]
    store = FakeStore()
    store.rows = {e.identity: None for e in events}
    plan = plan_sample(100, fixed=7)
    first = auditor(store, FakeSettler()).run(plan, events, random.Random(3))
    assert first.checked == 7


def test_report_and_metrics_name_the_inbound_direction() -> None:
    events = [event(0), event(1)]
    store = FakeStore()
    store.rows = {events[0].identity: None}
    result = auditor(store, FakeSettler()).run(plan_sample(2, everything=True), events,
                                               random.Random(1))  # fmt: skip
    doc = as_document(result, "inbound") | {"direction": "inbound"}
    assert doc["passed"] is False and doc["findings"][0]["source_id"] == "hubspot:e1"
    assert "email" not in doc["findings"][0]  # personal data only with --show-values
    table = io.StringIO()
    write_table(doc, table)
    assert "writeback lag" in table.getvalue() and "c1@x.io" not in table.getvalue()
    metrics = RecordingMetrics()
    record_metrics(result, "all", metrics, direction="inbound")
    tags = (("direction", "inbound"), ("platform", "all"))
    assert metrics.gauges[("cdcbridge_audit_mismatches", tags)] == 1
    assert metrics.gauges[("cdcbridge_audit_match_ratio", tags)] == 0.5
