"""The rate-limit share of one instance: proportional to the partitions it owns.

The vendor's limit is per app. With N instances in the group, each takes
``assigned / total`` of the budget, recomputed on every rebalance, so the group as a whole
stays under the limit with no coordination beyond Kafka's own assignment.
"""

from __future__ import annotations


def partition_share(assigned: int, total: int) -> float:
    """Fraction of the rate budget for ``assigned`` of ``total`` partitions (0..1)."""
    if total <= 0:
        return 1.0
    return min(max(assigned / total, 0.0), 1.0)
