"""``cdcbridge lag --direction``: which group and topic each direction reads."""

from __future__ import annotations

import argparse

import pytest

from streams.lag.command import add_arguments, lag_target

pytestmark = pytest.mark.unit


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_inbound_reads_the_writeback_group_on_its_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDCBRIDGE_WRITEBACK_BOOTSTRAP_SERVERS", "kafka-in:9092")
    monkeypatch.setenv("CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS", "kafka-out:9092")
    assert lag_target(parse("--direction", "inbound")) == (
        "kafka-in:9092", "cdcbridge-writeback", ["marketing.engagement.v1"]
    )  # fmt: skip


def test_outbound_stays_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS", "kafka-out:9092")
    bootstrap, group, topics = lag_target(parse())
    assert (bootstrap, group) == ("kafka-out:9092", "cdcbridge-sync")
    # every mapped table's topic (the sync consumes them all)
    assert sorted(topics) == ["cdc.public.companies", "cdc.public.customers"]


def test_another_group_lists_only_named_or_committed_topics() -> None:
    _, group, topics = lag_target(parse("--direction", "inbound", "--group", "other"))
    assert (group, topics) == ("other", [])


def test_the_inbound_table_says_which_offsets_it_reports() -> None:
    from streams.lag.command import INBOUND_OFFSETS
    from streams.lag.model import GroupReading, PartitionReading
    from streams.lag.report import lag_document, lag_table

    reading = GroupReading("wb", 100.0, 1, (PartitionReading("t", 0, 4, 0, 4, None),))
    document = lag_document([reading])
    assert "OFFSETS" not in lag_table(document)
    document["offsets"] = INBOUND_OFFSETS
    assert "OFFSETS: Kafka group commits" in lag_table(document)
