"""The three failure classes (DESIGN.md, "Failure classes"): every exception class the project
defines derives from exactly one of ``InvalidError``, ``TransientError`` and ``FatalError``.

What the system does with each, wherever it is raised:

- ``InvalidError``: this input can never succeed (a schema violation, a vendor refusing a
  record, a bad signature, a malformed queue message). Never retried. The record is
  dead-lettered with its payload and the reason (sync: the DLQ topic; forwarder: released for
  SQS redrive), an HTTP request gets a 4xx, and the service keeps going. Only the breaker stops
  a service that sees mostly invalid records (a bad deploy, not bad data).
- ``TransientError``: the same call may succeed later (5xx, timeouts, 429, a queue or broker
  that cannot be reached, a full local buffer). Retried with capped exponential backoff and
  jitter by the layer named in ``streams/README.md`` ("Who retries what"), never shorter than
  ``retry_after`` (seconds, when the other side said); while it lasts the consumers pause
  (backpressure) and the receiver answers 503 with ``Retry-After``. A retry that gives up
  raises a ``TransientError`` again, or leaves the input where it is re-read (nothing is
  acknowledged).
- ``FatalError``: configuration or programming error, or a refusal no retry can cure
  (credentials rejected, daily quota exhausted, breaker tripped, the dead-letter queue refusing
  a record, a component that cannot start). Stop loudly: one error log with the class name and
  an alert-worthy metric where one is declared; a service (sync, writeback, forwarder) exits
  with code 2, a command-line tool exits non-zero, a Lambda invocation fails.

A class that existing callers also catch as a builtin (``ValueError``, ``RuntimeError``) keeps
that builtin as a second base, e.g. ``class MappingFileError(FatalError, ValueError)``.

This module is the bottom layer: it imports nothing of the project.
"""

from __future__ import annotations

__all__ = ["FailureClass", "FatalError", "InvalidError", "TransientError", "failure_class"]

from typing import Literal

FailureClass = Literal["invalid", "transient", "fatal"]


class InvalidError(Exception):
    """Can never succeed: dead-letter it (or answer 4xx) with the reason, never retry it."""


class TransientError(Exception):
    """May succeed later: retry with capped, jittered backoff; pause intake meanwhile.

    ``retry_after`` (seconds, None when unknown) is the earliest useful retry the other side
    asked for; a retrying layer never waits less (up to its own cap)."""

    def __init__(self, *args: object, retry_after: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after = retry_after


class FatalError(Exception):
    """Retrying cannot help: stop loudly (error log, alert metric; a service exits with 2)."""


_ROOTS: tuple[tuple[type[Exception], FailureClass], ...] = (
    (InvalidError, "invalid"),
    (TransientError, "transient"),
    (FatalError, "fatal"),
)


def failure_class(error_type: type[BaseException]) -> FailureClass | None:
    """The failure class of an exception type, None for one outside the three roots (a
    builtin or third-party exception: the layer that catches it translates it)."""
    for root, name in _ROOTS:
        if issubclass(error_type, root):
            return name
    return None
