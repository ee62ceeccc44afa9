"""Pure batch helpers and HubSpot result parsing."""

from __future__ import annotations

import pytest

from streams.contracts import RecordOutcome, RecordResult, VendorRecord
from streams.platform.hubspot_results import parse_batch, upsert_input
from streams.platform.records import as_vendor_string, collapse_duplicates, fan_out

pytestmark = pytest.mark.unit


def rec(email: str, key: str = "", **props: object) -> VendorRecord:
    return VendorRecord(key=key or email, id_value=email, properties=props)  # type: ignore[arg-type]


def test_collapse_keeps_last_write_per_email_case_insensitively() -> None:
    out = collapse_duplicates([rec("a@x.io", v=1), rec("b@x.io"), rec("A@X.io", v=2)])
    assert [(r.id_value, r.properties.get("v")) for r in out] == [("b@x.io", None), ("A@X.io", 2)]


def test_fan_out_marks_unanswered_records_retry() -> None:
    results = fan_out(
        [rec("a@x.io", "k1"), rec("b@x.io", "k2")],
        {"a@x.io": RecordResult("k1", RecordOutcome.OK, platform_id="1")},
    )
    assert [(r.key, r.outcome) for r in results] == [
        ("k1", RecordOutcome.OK), ("k2", RecordOutcome.RETRY),
    ]  # fmt: skip


def test_values_become_strings() -> None:
    assert [as_vendor_string(v) for v in (True, None, 3, 1.5)] == ["true", "", "3", "1.5"]
    item = upsert_input(VendorRecord("k", "a@x.io", {"n": 3}, trace_id="t1"))
    assert item == {
        "id": "a@x.io", "idProperty": "email", "objectWriteTraceId": "t1",
        "properties": {"n": "3", "email": "a@x.io"},
    }  # fmt: skip


def test_207_errors_map_to_their_inputs() -> None:
    batch = [(None, rec("ok@x.io")), (None, rec("bad@x")), ("77", rec("moved@x.io"))]
    doc = {
        "results": [{"id": "1", "new": True, "properties": {"email": "ok@x.io"}}],
        "errors": [
            {"category": "VALIDATION_ERROR", "message": "bad", "context": {"ids": ["bad@x"]}},
            {"category": "CONFLICT", "message": "Contact already exists. Existing ID: 5",
             "context": {"ids": ["77"]}},
        ],
    }  # fmt: skip
    parsed = parse_batch(doc, batch)
    assert parsed["ok@x.io"].outcome is RecordOutcome.OK and parsed["ok@x.io"].created is True
    assert parsed["bad@x"].outcome is RecordOutcome.INVALID
    assert parsed["moved@x.io"].error_code == "CONFLICT"


def test_key_locks_serialise_overlapping_keys_only() -> None:
    import threading

    from streams.platform.key_locks import KeyLocks

    locks, order = KeyLocks(), []
    first_in = threading.Event()
    release = threading.Event()

    def first() -> None:
        with locks.holding(["a@x.io", "b@x.io"]):
            first_in.set()
            release.wait(5)
            order.append("first")

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with locks.holding(["c@x.io"]):  # disjoint: not blocked
        order.append("disjoint")
    release.set()
    with locks.holding(["b@x.io"]):  # overlapping: waits for the first batch
        order.append("overlap")
    thread.join(5)
    assert order == ["disjoint", "first", "overlap"]
