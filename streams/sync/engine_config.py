"""What the sync engine is built with (``EngineConfig``) and what its stop leaves
(``StopReport``): plain frozen values, no behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.sync.settings import DeletePolicy


@dataclass(frozen=True)
class StopReport:
    """What a stop leaves behind. ``re_read``: consumed records whose offsets were not
    committed (the partition's next owner, or a restart, reads them again);
    ``abandoned``: of those, records whose delivery had started and was given up."""

    re_read: int
    abandoned: int


@dataclass(frozen=True)
class EngineConfig:
    max_batch_size: int
    linger_s: float
    concurrency: int
    max_outstanding: int
    delete_policy: DeletePolicy
    platform: str
    # A batch that is not full goes only while fewer batches than this are in flight: the
    # rest accumulate meanwhile, so batches grow as the platform (or its rate limit) slows
    # down, and stay small and fast when it is idle.
    partial_batches_in_flight: int = 1
    # Topic -> mapped table: names the table of a record that cannot be decoded (DLQ header).
    topic_tables: Mapping[str, str] = field(default_factory=dict)
