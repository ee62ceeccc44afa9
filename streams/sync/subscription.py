"""The topics one ``cdcbridge sync`` consumes: every topic that has a table mapping.

One process (one consumer group) serves every mapped table rather than one process per table:
the vendor's rate budget is per app, and one process holds one limiter for all of its tables,
so a busy table borrows what a quiet one leaves; across instances each takes the share of its
partitions among the partitions of ALL subscribed topics (``total_partitions``). Per table,
what must be separate is: offsets (per partition, hence per topic), ordering and coalescing
(per (table, key)), batches (one table per adapter call), dead letters (``source_table``
header) and lag (the lag gauges are labelled by topic).

arroyo's ``StreamProcessor`` subscribes to one ``Topic``; ``MultiTopicConsumer`` widens that
subscription to the whole list (Kafka assigns the partitions of all of them across the group).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from arroyo.types import Topic

from streams.mapping.table_catalog import load_table_mappings, mapped_topics
from streams.mapping.table_mapping import TableMapping
from streams.sync.settings import SyncSettings


def sync_mappings(settings: SyncSettings) -> tuple[TableMapping, ...]:
    """The table mappings sync runs with: the package's, ``CDCBRIDGE_MAPPINGS_DIR``'s, and
    ``CDCBRIDGE_SYNC_TABLE_MAPPING_FILE`` over them. Raises ``MappingFileError``."""
    replacing = [settings.table_mapping_file] if settings.table_mapping_file else []
    return load_table_mappings(replacing=replacing)


def sync_topics(
    settings: SyncSettings, mappings: Sequence[TableMapping] | None = None
) -> tuple[str, ...]:
    """``CDCBRIDGE_SYNC_TOPIC`` when set (one topic), else every mapped topic."""
    if settings.topic:
        return (settings.topic,)
    return mapped_topics(sync_mappings(settings) if mappings is None else mappings)


class MultiTopicConsumer:
    """An arroyo consumer whose ``subscribe`` takes every topic of ``topics`` (whatever the
    caller names); everything else is the wrapped consumer's."""

    def __init__(self, consumer: Any, topics: Sequence[str]) -> None:
        self.__consumer = consumer
        self.__topics = [Topic(name) for name in topics]

    def subscribe(self, _topics: Sequence[Topic], *args: Any, **kwargs: Any) -> None:
        self.__consumer.subscribe(self.__topics, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__consumer, name)


def total_partitions(count: Callable[[str], int], topics: Sequence[str]) -> int:
    """Partitions of every subscribed topic (a topic not created yet counts 0): the
    denominator of each instance's rate share."""
    return sum(count(topic) for topic in topics)
