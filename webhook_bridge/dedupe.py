"""A bounded, time-windowed set of ids already handled (clock injected, not thread-safe)."""

from __future__ import annotations

from collections import OrderedDict

from cdcbridge.clock import Clock


class DedupeWindow:
    """Remembers ids for ``window_s`` seconds, at most ``max_entries`` of them (oldest evicted).

    Deduplication is best effort: it narrows duplicates, the event id carried downstream lets
    consumers remove the rest.
    """

    def __init__(self, clock: Clock, window_s: float, max_entries: int) -> None:
        self.__clock = clock
        self.__window_s = window_s
        self.__max_entries = max_entries
        self.__expiry: OrderedDict[str, float] = OrderedDict()

    def __evict(self, now: float) -> None:
        while self.__expiry:
            key, expires = next(iter(self.__expiry.items()))
            if expires > now and len(self.__expiry) <= self.__max_entries:
                return
            del self.__expiry[key]

    def seen(self, key: str) -> bool:
        """True if ``key`` was added within the window."""
        now = self.__clock.monotonic()
        self.__evict(now)
        expires = self.__expiry.get(key)
        return expires is not None and expires > now

    def add(self, key: str) -> None:
        """Remember ``key`` from now on for the window."""
        if self.__window_s <= 0 or self.__max_entries <= 0:
            return
        now = self.__clock.monotonic()
        self.__expiry.pop(key, None)
        self.__expiry[key] = now + self.__window_s
        self.__evict(now)

    def __len__(self) -> int:
        return len(self.__expiry)
