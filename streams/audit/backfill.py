"""Wait for an incremental snapshot to finish, following the topic. I/O behind callables.

The snapshot is done when every wanted key has had an event on the topic since the signal
(its read, or a live change that superseded it) or has been deleted meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from cdcbridge.clock import Clock
from streams.audit.snapshot_signal import SnapshotProgress


@dataclass(frozen=True)
class BackfillOutcome:
    signal_id: str
    wanted: int
    written: int
    deleted_meanwhile: int
    complete: bool
    duration_s: float


def follow_snapshot(
    signal_id: str,
    wanted: set[str],
    poll_keys: Callable[[float], Sequence[str]],
    existing: Callable[[Iterable[str]], set[str]],
    clock: Clock,
    timeout_s: float,
    progress: Callable[[int, int], None] | None = None,
    check_every_s: float = 5.0,
) -> BackfillOutcome:
    """Poll ``poll_keys`` until every wanted key is seen (or gone) or ``timeout_s`` passes."""
    state = SnapshotProgress(wanted)
    total = len(wanted)
    started = clock.monotonic()
    next_check = started + check_every_s
    while not state.done:
        state.observe(poll_keys(1.0))
        now = clock.monotonic()
        if progress is not None:
            progress(len(state.seen), len(state.wanted))
        if now >= next_check and not state.done:
            missing = state.missing
            state.forget(missing - existing(missing))
            next_check = now + check_every_s
        if now - started > timeout_s:
            break
    return BackfillOutcome(
        signal_id,
        total,
        len(state.seen),
        total - len(state.wanted),
        state.done,
        clock.monotonic() - started,
    )
