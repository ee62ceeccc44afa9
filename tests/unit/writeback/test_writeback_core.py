"""Writeback's pure parts: mapping file, record decoding, state planning, consent rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.mapping.mapping_files import MappingFileError
from streams.writeback.consumer import retry_delay
from streams.writeback.events import InboundEvent, Position, RejectedRecord, decode_record
from streams.writeback.plan import (
    AppliedEvent,
    Withdrawal,
    decide_withdrawal,
    plan_state,
    platform_wins,
    resubscribe_allowed,
)
from streams.writeback.spec import ConflictRule, load_writeback_mapping
from webhook_bridge.avro_codec import FINGERPRINT_HEADER, EngagementCodec

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MAPPING = load_writeback_mapping()
POS = Position("marketing.engagement.v1", 0, 7)


def applied(key: str, type_: str, minutes: int, event_id: str = "e") -> AppliedEvent:
    return AppliedEvent(key, type_, T0 + timedelta(minutes=minutes), "sandbox", event_id, "t")


def test_the_shipped_mapping_loads_with_its_rules() -> None:
    assert MAPPING.consent.withdraw_on == ["contact_unsubscribed"]
    assert MAPPING.consent.conflict is ConflictRule.NEWEST_WINS
    assert MAPPING.customers.marker_column == "cdcbridge_writeback_id"


@pytest.mark.parametrize(
    ("find", "replace_with", "says"),
    [
        ("email_opened: opens", "email_eaten: opens", "email_eaten"),
        ("table: customers", "table: customers; DROP TABLE x", "table"),
        ("conflict: newest_wins", "conflict: coin_toss", "conflict"),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_problem(
    tmp_path: Path, find: str, replace_with: str, says: str
) -> None:
    text = (Path(__file__).resolve().parents[3] / "schemas/mappings/writeback.yaml").read_text()
    bad = tmp_path / "wb.yaml"
    bad.write_text(text.replace(find, replace_with))
    with pytest.raises(MappingFileError, match=says):
        load_writeback_mapping(bad)


def test_an_avro_record_decodes_to_an_event() -> None:
    codec = EngagementCodec()
    value = codec.encode(
        {"event_id": "w1", "type": "contact_unsubscribed", "email": "a@x.io", "source_id": "42",
         "occurred_at": T0, "received_at": T0 + timedelta(seconds=1), "source_platform": "sandbox",
         "attributes": {"k": "v"}, "trace_id": "abc", "platform_contact_id": None}
    )  # fmt: skip
    event = decode_record(POS, b"k", value, {FINGERPRINT_HEADER: codec.fingerprint.encode()})
    assert isinstance(event, InboundEvent)
    assert event.identity == ("sandbox", "w1")
    assert event.type == "contact_unsubscribed" and event.source_id == "42"
    assert event.occurred_at == T0 and dict(event.attributes) == {"k": "v"}


def test_an_event_postgres_cannot_store_as_text_is_rejected_whole() -> None:
    codec = EngagementCodec()
    value = codec.encode(
        {"event_id": "w2", "type": "email_opened", "occurred_at": T0, "received_at": T0,
         "source_platform": "sandbox", "attributes": {"subject": "a\x00b"}, "trace_id": "t"}
    )  # fmt: skip
    rejected = decode_record(POS, None, value, {})
    assert isinstance(rejected, RejectedRecord) and "NUL" in rejected.reason
    assert rejected.value == value


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"", {}, "empty"),
        (b"\xff\xff\xff", {}, "not an engagement event"),
        (b"\x02a", {FINGERPRINT_HEADER: b"0000"}, "fingerprint"),
    ],
)
def test_undecodable_records_are_rejected_with_their_bytes(
    value: bytes, headers: dict[str, bytes], reason: str
) -> None:
    rejected = decode_record(POS, b"key", value, headers)
    assert isinstance(rejected, RejectedRecord)
    assert reason in rejected.reason
    assert rejected.value == value and rejected.position == POS


def test_plan_counts_per_mapping_and_keeps_the_newest_times() -> None:
    deltas = plan_state(
        MAPPING,
        [applied("1", "email_opened", 5), applied("1", "email_opened", 3),
         applied("1", "email_clicked", 1), applied("2", "contact_unsubscribed", 9, "u1"),
         applied("2", "contact_unsubscribed", 4, "u0"), applied("2", "email_bounced", 10)],
    )  # fmt: skip
    by_key = {d.customer_key: d for d in deltas}
    assert by_key["1"].counters == {"opens": 2, "clicks": 1}
    assert by_key["1"].last_engaged_at == T0 + timedelta(minutes=5)
    assert by_key["1"].withdrawal is None
    assert by_key["2"].counters == {"unsubscribes": 2}
    assert by_key["2"].last_engaged_at is None  # bounces are not engagement in the mapping
    withdrawal = by_key["2"].withdrawal
    assert withdrawal is not None and withdrawal.event_id == "u1"


@pytest.mark.parametrize(
    ("rule", "consent", "opt_in_minutes", "expected"),
    [
        (ConflictRule.NEWEST_WINS, True, None, Withdrawal.APPLY),
        (ConflictRule.NEWEST_WINS, True, -1, Withdrawal.APPLY),
        (ConflictRule.NEWEST_WINS, True, 0, Withdrawal.DATABASE_NEWER),  # tie -> database
        (ConflictRule.NEWEST_WINS, True, 1, Withdrawal.DATABASE_NEWER),
        (ConflictRule.NEWEST_WINS, False, 1, Withdrawal.ALREADY_WITHDRAWN),
        (ConflictRule.DATABASE_WINS, True, -60, Withdrawal.DATABASE_NEWER),
        (ConflictRule.PLATFORM_WINS, True, 60, Withdrawal.APPLY),
    ],
)
def test_withdrawal_conflict_rule(
    rule: ConflictRule, consent: bool, opt_in_minutes: int | None, expected: Withdrawal
) -> None:
    opt_in = None if opt_in_minutes is None else T0 + timedelta(minutes=opt_in_minutes)
    assert decide_withdrawal(rule, consent, opt_in, T0) is expected


def test_resubscribe_needs_a_strictly_newer_explicit_opt_in() -> None:
    assert resubscribe_allowed(None, None)
    assert resubscribe_allowed(T0, None)
    assert not resubscribe_allowed(None, T0)
    assert not resubscribe_allowed(T0, T0)
    assert not resubscribe_allowed(T0 - timedelta(seconds=1), T0)
    assert resubscribe_allowed(T0 + timedelta(seconds=1), T0)


def update(
    key: str, minutes: int, prop: str, value: str, platform: str = "hubspot"
) -> AppliedEvent:
    return AppliedEvent(
        key, "contact_updated", T0 + timedelta(minutes=minutes), platform, f"u{minutes}", "t",
        {"propertyName": prop, "propertyValue": value},
    )  # fmt: skip


def test_property_changes_become_field_changes_of_both_owned_fields_newest_first() -> None:
    [delta] = plan_state(
        MAPPING,
        [update("1", 2, "phone", "+4930222"), update("1", 1, "phone", "+4930111"),
         update("1", 3, "firstname", ""), update("1", 4, "lifecyclestage", "customer"),
         update("1", 5, "phone", "+4930555", platform="sandbox")],
    )  # fmt: skip
    assert {f: (c.column, c.value) for f, c in delta.field_changes.items()} == {
        "phone": ("phone", "+4930222"),  # the newest hubspot change; the sandbox has no mapping
        "first_name": ("first_name", None),  # an empty HubSpot value clears the property
    }  # lifecycle stage is database-owned: not in field_updates
    assert delta.field_changes["phone"].vendor_property == "phone"


@pytest.mark.parametrize(
    ("rule", "db_minutes", "expected"),
    [
        (ConflictRule.NEWEST_WINS, -1, True),
        (ConflictRule.NEWEST_WINS, 0, False),  # tie -> database
        (ConflictRule.NEWEST_WINS, 1, False),
        (ConflictRule.NEWEST_WINS, None, True),
        (ConflictRule.DATABASE_WINS, -60, False),
        (ConflictRule.DATABASE_WINS, None, False),
        (ConflictRule.PLATFORM_WINS, 60, True),
    ],
)
def test_field_conflict_rule(rule: ConflictRule, db_minutes: int | None, expected: bool) -> None:
    db_at = None if db_minutes is None else T0 + timedelta(minutes=db_minutes)
    assert platform_wins(rule, db_at, T0) is expected


def test_database_retry_delays_replay_from_the_seed() -> None:
    def delays(seed: int) -> list[float]:
        rng = random.Random(seed)
        return [retry_delay(attempt, 10.0, rng) for attempt in range(8)]

    assert delays(3) == delays(3)
    assert delays(3) != delays(4)
    assert all(0 <= d <= min(10.0, 0.2 * 2**a) for a, d in enumerate(delays(3)))
