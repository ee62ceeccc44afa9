"""The audit core with fakes: sampling, read back, re-check after the lag, deletes."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence

import pytest

from cdcbridge.clock import MockedClock
from streams.audit.compare import Comparator
from streams.audit.deletes import DeletedRow, DeleteExpectation
from streams.audit.runner import Auditor
from streams.audit.sampling import plan_sample
from streams.contracts import InvalidRecord, VendorRecord

pytestmark = pytest.mark.unit


class FakeSource:
    def __init__(self, rows: dict[str, dict[str, object]]) -> None:
        self.table = rows

    def ids(self) -> list[str]:
        return sorted(self.table, key=int)

    def rows(self, ids: Sequence[str]) -> Iterable[Mapping[str, object]]:
        return [self.table[i] for i in ids if i in self.table]

    def existing(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self.table}

    def emails_present(self, emails: Sequence[str]) -> set[str]:
        held = {str(r["email"]).lower() for r in self.table.values()}
        return {e.lower() for e in emails} & held


class FakePlatform:
    def __init__(self) -> None:
        self.contacts: dict[str, dict[str, str]] = {}
        self.reads: list[int] = []

    def read(self, emails: Sequence[str]) -> dict[str, dict[str, str]]:
        self.reads.append(len(emails))
        return {e: dict(self.contacts[e.lower()]) for e in emails if e.lower() in self.contacts}


class FakeSettler:
    def __init__(self, on_wait: Callable[[], None] = lambda: None) -> None:
        self.calls = 0
        self.on_wait = on_wait

    def wait(self) -> bool:
        self.calls += 1
        self.on_wait()
        return True


def expected(row: Mapping[str, object]) -> VendorRecord:
    if row["first"] == "??":
        raise InvalidRecord("first_name", "text", "??")
    props = {"email": row["email"], "firstname": row["first"], "cdcbridge_plan": row["plan"]}
    return VendorRecord(str(row["id"]), str(row["email"]), props)  # type: ignore[arg-type]


COMPARATOR = Comparator(
    {"email": "email", "firstname": "first_name", "cdcbridge_plan": "plan"},
    frozenset({"email"}),
)


def world(n: int = 250) -> tuple[FakeSource, FakePlatform]:
    source = FakeSource(
        {
            str(i): {"id": i, "email": f"c{i}@example.com", "first": f"Name{i}", "plan": "pro"}
            for i in range(1, n + 1)
        }
    )
    platform = FakePlatform()
    for row in source.table.values():
        platform.contacts[str(row["email"])] = {
            "email": str(row["email"]).upper(),  # the platform's own case
            "firstname": f" {row['first']} ",
            "cdcbridge_plan": "pro",
        }
    return source, platform


def auditor(
    source: FakeSource, platform: FakePlatform, settler: FakeSettler, **kw: object
) -> Auditor:
    return Auditor(
        source=source,
        expected=expected,
        read=platform.read,
        comparator=COMPARATOR,
        settler=settler,
        clock=MockedClock(),
        batch_size=100,
        **kw,  # type: ignore[arg-type]
    )


def test_everything_in_sync_passes_without_waiting_and_in_batches() -> None:
    source, platform = world()
    settler = FakeSettler()
    result = auditor(source, platform, settler).run(
        plan_sample(250, everything=True), random.Random(1)
    )
    assert result.findings == [] and result.checked == 250 and result.match_rate == 1.0
    assert settler.calls == 0
    assert platform.reads == [100, 100, 50]  # the adapter's batch size


def test_one_edited_property_is_reported_by_id_property_and_field() -> None:
    source, platform = world()
    platform.contacts["c7@example.com"]["firstname"] = "Mallory"
    settler = FakeSettler()
    result = auditor(source, platform, settler).run(
        plan_sample(250, everything=True), random.Random(1)
    )
    assert [(f.kind, f.source_id, f.property, f.field) for f in result.findings] == [
        ("value", "7", "firstname", "first_name")
    ]
    assert result.findings[0].expected == "Name7" and result.findings[0].actual == "Mallory"
    assert settler.calls == 1 and result.rechecked == 1
    assert result.match_rate == pytest.approx(249 / 250)


def test_a_row_changed_within_the_sync_lag_is_rechecked_not_reported() -> None:
    source, platform = world()
    source.table["9"]["plan"] = "enterprise"  # changed a moment ago; sync still on its way

    def sync_catches_up() -> None:
        platform.contacts["c9@example.com"]["cdcbridge_plan"] = "enterprise"

    settler = FakeSettler(sync_catches_up)
    result = auditor(source, platform, settler).run(
        plan_sample(250, everything=True), random.Random(1)
    )
    assert result.findings == [] and result.rechecked == 1 and settler.calls == 1


def test_missing_contact_and_unmappable_row_are_findings() -> None:
    source, platform = world(10)
    del platform.contacts["c3@example.com"]
    source.table["4"]["first"] = "??"
    result = auditor(source, platform, FakeSettler()).run(
        plan_sample(10, everything=True), random.Random(1)
    )
    assert sorted((f.kind, f.source_id) for f in result.findings) == [
        ("missing", "3"),
        ("unmappable", "4"),
    ]
    assert result.checked == 10 and result.mismatched_records == 2


def test_sample_checks_only_the_drawn_rows_and_reports_progress() -> None:
    source, platform = world(1000)
    seen: list[tuple[int, int]] = []
    plan = plan_sample(1000, fixed=150)
    result = auditor(
        source, platform, FakeSettler(), progress=lambda d, t: seen.append((d, t))
    ).run(plan, random.Random(3))
    assert result.checked == 150 and sum(platform.reads) == 150
    assert seen[-1] == (150, 150)


def test_deleted_rows_are_checked_against_the_delete_policy() -> None:
    source, platform = world(5)
    platform.contacts["gone1@example.com"] = {"email": "gone1@example.com"}  # not archived
    platform.contacts["gone3@example.com"] = {"email": "gone3@example.com", "unsubscribed": "true"}
    deleted = [
        DeletedRow("101", "gone1@example.com"),
        DeletedRow("102", "gone2@example.com"),
        DeletedRow("103", "gone3@example.com"),
        DeletedRow("2", "c2@example.com"),  # back in the table: not a deleted row
    ]
    archive = auditor(source, platform, FakeSettler()).run(
        plan_sample(5, everything=True), random.Random(1), deleted, DeleteExpectation(None)
    )
    assert sorted((f.kind, f.source_id) for f in archive.findings) == [
        ("not_deleted", "101"),
        ("not_deleted", "103"),
    ]
    assert archive.deletes_checked == 3
    unsubscribe = auditor(source, platform, FakeSettler()).run(
        plan_sample(5, everything=True),
        random.Random(1),
        deleted,
        DeleteExpectation({"unsubscribed": True}),
    )
    # 102 is absent: a delete by field update never creates a contact, so nothing to mark
    assert sorted((f.kind, f.source_id, f.property) for f in unsubscribe.findings) == [
        ("value", "101", "unsubscribed"),
    ]


def test_deleted_rows_come_from_the_last_delete_per_key_of_the_topic() -> None:
    import orjson

    from streams.audit.deletes import deleted_rows
    from streams.mapping.change_decoder import ChangeDecoder
    from streams.mapping.table_mapping import load_table_mapping

    def event(op: str, key: int, email: str) -> tuple[str, bytes | None, bytes | None]:
        row = {"id": key, "email": email, "marketing_opt_in": False}
        doc = {
            "op": op,
            "before": row if op == "d" else None,
            "after": None if op == "d" else row,
            "source": {"schema": "public", "table": "customers", "ts_ms": 1},
            "ts_ms": 1,
        }
        return "cdc.public.customers", orjson.dumps({"id": key}), orjson.dumps(doc)

    records = [
        event("c", 1, "a@example.com"),
        event("d", 1, "a@example.com"),
        event("d", 2, "b@example.com"),
        event("c", 2, "b@example.com"),  # re-inserted after the delete
        ("cdc.public.customers", b'{"id": 1}', None),  # the tombstone
    ]
    rows = deleted_rows(ChangeDecoder([load_table_mapping()]), records)
    assert rows == [DeletedRow("1", "a@example.com")]


@pytest.mark.parametrize(
    ("platform", "policy", "expected"),
    [
        ("hubspot", "archive", DeleteExpectation(None)),
        ("hubspot", "unsubscribe", DeleteExpectation(None)),  # a company has no subscription
        ("hubspot", "ignore", None),
        ("marketo", "hard_delete", DeleteExpectation(None)),
        ("marketo", "archive", None),  # no company archive on Marketo: kept, nothing sent
        ("marketo", "unsubscribe", None),
        ("marketo", "ignore", None),
    ],
)
def test_a_company_delete_is_checked_where_the_policy_sends_one(
    platform: str, policy: str, expected: DeleteExpectation | None
) -> None:
    from streams.audit.deletes import company_expectation
    from streams.platform.deletes import DeletePolicy

    assert company_expectation(platform, DeletePolicy(policy)) == expected
