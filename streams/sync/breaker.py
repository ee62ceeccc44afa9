"""The invalid-ratio breaker: stop when most of a window's records are invalid.

One bad row is data; most rows bad is a bad deploy (a broken mapping, a renamed column), and
dead-lettering the whole stream would only hide it. Pure; time is passed in.
"""

from __future__ import annotations

from collections import deque

from cdcbridge.errors import FatalError


class BreakerTripped(FatalError):
    """Too many invalid records in the window. The service must stop (no commit of them)."""


class InvalidRatioBreaker:
    """Counts records in a sliding time window; trips above ``ratio`` invalid."""

    def __init__(self, window_s: float, min_records: int, ratio: float) -> None:
        self.__window_s = window_s
        self.__min_records = min_records
        self.__ratio = ratio
        self.__events: deque[tuple[float, bool]] = deque()
        self.__invalid = 0

    def record(self, invalid: bool, now: float) -> None:
        """Count one record. Raises ``BreakerTripped`` when the window is mostly invalid."""
        self.__events.append((now, invalid))
        self.__invalid += invalid
        while self.__events and self.__events[0][0] <= now - self.__window_s:
            _, was_invalid = self.__events.popleft()
            self.__invalid -= was_invalid
        total = len(self.__events)
        if invalid and total >= self.__min_records and self.__invalid > self.__ratio * total:
            raise BreakerTripped(
                f"{self.__invalid} of the last {total} records within {self.__window_s:g}s "
                f"were invalid (limit {self.__ratio:.0%}): this looks like a broken mapping "
                "or schema change, not bad data. Stopping without committing them; fix the "
                "cause and restart, then `cdcbridge dlq replay` what was dead-lettered."
            )
