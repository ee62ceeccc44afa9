"""Serialise writes that share a lookup key across the threads of one process.

Marketo warns that "concurrent or closely timed upsert requests can create duplicate records":
two batches carrying the same email must not be in flight together (live sync and backfill may
overlap). ``KeyLocks.holding(keys)`` waits until none of ``keys`` is in flight, then claims all
of them at once (all-or-nothing, so two batches can never deadlock).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator


class KeyLocks:
    def __init__(self) -> None:
        self.__in_flight: set[str] = set()
        self.__changed = threading.Condition()

    @contextlib.contextmanager
    def holding(self, keys: Iterable[str]) -> Iterator[None]:
        wanted = set(keys)
        with self.__changed:
            self.__changed.wait_for(lambda: not (wanted & self.__in_flight))
            self.__in_flight |= wanted
        try:
            yield
        finally:
            with self.__changed:
                self.__in_flight -= wanted
                self.__changed.notify_all()
