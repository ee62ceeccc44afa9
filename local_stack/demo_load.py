"""``cdcbridge demo --duration S --rate N``: a steady load of customer changes.

Every 100 ms one transaction inserts ``N/10`` new customers of the run (rounded, at least one
per tick), and every second a tenth of the rows already inserted get an update, so the sync
coalesces and the platform sees creates and updates. Stops after ``duration_s``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from local_stack import seed

TICK_S = 0.1


@dataclass
class LoadResult:
    inserted: int = 0
    updated: int = 0

    @property
    def changes(self) -> int:
        return self.inserted + self.updated


def steady_load(
    dsn: str, run: str, rate: float, duration_s: float, progress: Callable[[LoadResult], None]
) -> LoadResult:
    """Write at ``rate`` inserts per second for ``duration_s``; ``progress`` is called each
    second. Raises ``psycopg.Error`` when the database fails."""
    rng = random.Random(17)
    result = LoadResult()
    per_tick = max(round(rate * TICK_S), 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        seed.ensure_companies(conn)
        started = time.monotonic()
        ticks = int(duration_s / TICK_S)
        for tick in range(ticks):
            rows = seed.customer_rows(rng, result.inserted, result.inserted + per_tick, run)
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(seed.INSERT_SQL, rows)
            result.inserted += per_tick
            if tick % 10 == 9:
                result.updated += _update_some(conn, run, max(result.inserted // 10, 1))
                progress(result)
            pause = started + (tick + 1) * TICK_S - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the load, not waiting for a condition
    return result


def _update_some(conn: psycopg.Connection[tuple[object, ...]], run: str, count: int) -> int:
    cursor = conn.execute(
        "UPDATE customers SET mrr = mrr + 1 WHERE id IN (SELECT id FROM customers "
        "WHERE email LIKE %s ORDER BY random() LIMIT %s)", (f"%.{run}@example.com", count))
    return cursor.rowcount
