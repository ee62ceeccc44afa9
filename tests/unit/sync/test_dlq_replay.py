from __future__ import annotations

import pytest

from streams.contracts import KafkaPosition
from streams.sync.coalesce import SourceRecord
from streams.sync.dlq import DeadLetter
from streams.sync.dlq.replay import LetterFilter, parse_since, replay_record

pytestmark = pytest.mark.unit

HEADERS = {
    "source": b"pg",
    "trace_id": b"trace-7",
    "error_class": b"InvalidRecord",
    "error_message": b"email: must be an email (value 'x')",
    "original_topic": b"cdc.public.customers",
    "original_partition": b"1",
    "original_offset": b"42",
}


def test_since_accepts_durations_and_zoned_iso_times() -> None:
    assert parse_since("15m", now_s=10_000.0) == 9_100_000
    assert parse_since("2026-11-30T04:00:00+00:00", 0.0) == 1_796_011_200_000
    with pytest.raises(ValueError):
        parse_since("2026-11-30T04:00:00", 0.0)


def test_filter_matches_header_terms_and_text() -> None:
    assert LetterFilter.parse(["error_class=InvalidRecord"]).matches(HEADERS, b"{}")
    assert not LetterFilter.parse(["error_class=VendorRejected"]).matches(HEADERS, b"{}")
    assert LetterFilter.parse(["must be an email"]).matches(HEADERS, b"{}")
    assert LetterFilter.parse(["alice"]).matches(HEADERS, b'{"email": "alice"}')
    assert not LetterFilter.parse(["bob"]).matches(HEADERS, b'{"email": "alice"}')


def test_replay_goes_to_the_original_topic_keeping_the_trace_id() -> None:
    replay = replay_record(HEADERS, b"k", b"v", "cdcbridge.sync.dlq:0:3")
    assert replay.topic == "cdc.public.customers"
    assert (replay.key, replay.value) == (b"k", b"v")
    assert dict(replay.headers) == {
        "source": b"pg",
        "trace_id": b"trace-7",
        "replayed_from": b"cdcbridge.sync.dlq:0:3",
    }


def test_replay_needs_the_original_topic() -> None:
    with pytest.raises(ValueError, match="original_topic"):
        replay_record({}, None, b"v", "dlq:0:1")


def test_replay_puts_back_only_the_event_id_and_source_the_original_carried() -> None:
    """The DLQ derives ``event_id``/``source`` for a record without them; replay drops those
    and keeps an original's own."""
    position = KafkaPosition("cdc.public.customers", 1, 7, {"source": b"pg"})
    letter = DeadLetter(SourceRecord(position, b"k", b"v", "t-1"), "InvalidRecord", "bad")
    replayed = dict(replay_record(dict(letter.headers()), b"k", b"v", "dlq:0:5").headers)
    assert replayed["source"] == b"pg"
    assert "event_id" not in replayed
