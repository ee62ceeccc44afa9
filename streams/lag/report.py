"""What ``cdcbridge lag`` prints: a JSON document or a terminal table per group reading."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from streams.lag.evaluate import group_status
from streams.lag.model import GroupReading


def lag_document(window: Sequence[GroupReading]) -> dict[str, object]:
    """The latest reading of ``window`` (oldest first, non-empty) with its statuses."""
    latest = window[-1]
    status, per_partition = group_status(window)
    rows = [
        {
            "topic": p.topic,
            "partition": p.partition,
            "committed": p.committed,
            "log_start": p.log_start,
            "log_end": p.log_end,
            "lag": p.lag,
            "lag_seconds": round(p.lag_seconds(latest.taken_at), 3),
            "status": per_partition[(p.topic, p.partition)],
        }
        for p in latest.partitions
    ]
    return {
        "group": latest.group,
        "status": status.name,
        "taken_at": dt.datetime.fromtimestamp(latest.taken_at, dt.UTC).isoformat(),
        "window_readings": len(window),
        "active_members": latest.active_members,
        "total_lag": sum(int(str(row["lag"])) for row in rows),
        "max_lag_seconds": max((float(str(row["lag_seconds"])) for row in rows), default=0.0),
        "partitions": rows,
    }


def lag_table(document: dict[str, object]) -> str:
    """A fixed-width table of ``lag_document``'s output."""
    head = (
        f"GROUP {document['group']}  STATUS {document['status']}  "
        f"MEMBERS {document['active_members']}  TOTAL LAG {document['total_lag']}  "
        f"MAX LAG {document['max_lag_seconds']}s  ({document['taken_at']}, "
        f"{document['window_readings']} readings)"
    )
    columns = ("topic", "partition", "committed", "log_end", "lag", "lag_seconds", "status")
    rows = document["partitions"]
    assert isinstance(rows, list)
    cells = [[str(c).upper() for c in columns]] + [
        ["-" if row[c] is None else str(row[c]) for c in columns] for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in cells
    ]
    notes = [f"OFFSETS: {document['offsets']}"] if "offsets" in document else []
    return "\n".join([head, *notes, *lines])
