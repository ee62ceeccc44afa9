"""Starting a component whose queue may not answer yet.

Invariant: ``until_queue_answers`` returns what ``build`` built, or ``None`` once ``stop`` is set;
it never gives up on ``QueueUnavailable`` (the queue restarting is an outage, not a
configuration error: the forwarder waits as its receive loop does), and it re-raises anything
else. Waits double from ``first_s`` to ``cap_s`` and are cut short by ``stop``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from webhook_bridge.queue import QueueUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


def until_queue_answers(
    build: Callable[[], T],
    stop: threading.Event,
    *,
    first_s: float = 0.5,
    cap_s: float = 10.0,
) -> T | None:
    """``build()`` until it does not raise ``QueueUnavailable``; ``None`` if ``stop`` is set
    first. Raises what ``build`` raises otherwise."""
    delay_s = first_s
    while not stop.is_set():
        try:
            return build()
        except QueueUnavailable as exc:
            log.warning(
                "queue unavailable at start; retrying in %.1f s: %s",
                delay_s,
                exc,
                extra={"error_class": type(exc).__name__},
            )
        if stop.wait(delay_s):
            break
        delay_s = min(delay_s * 2, cap_s)
    return None
