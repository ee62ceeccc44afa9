"""JSON logs carrying a trace id.

Every log line is one JSON object with ``ts``, ``level``, ``logger``, ``message`` and
``trace_id`` (from the ``trace_context`` context manager, or ``-`` outside one). Extra fields
passed with ``extra={...}`` are included. Secrets must be ``SecretStr``; their ``str`` is masked,
so they never reach a line even when passed by mistake.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any, TextIO

_TRACE_ID: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="-")
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__.keys() | {"message", "asctime"}
)


def current_trace_id() -> str:
    """The trace id of the current context, ``-`` when none is set."""
    return _TRACE_ID.get()


@contextlib.contextmanager
def trace_context(trace_id: str) -> Iterator[str]:
    """Set the trace id for every log line emitted inside the block."""
    token = _TRACE_ID.set(trace_id)
    try:
        yield trace_id
    finally:
        _TRACE_ID.reset(token)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 6),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", None) or current_trace_id(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key != "trace_id":
                doc[key] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class _JsonStderrHandler(logging.StreamHandler[TextIO]):
    """Our handler, told apart from others so reconfiguring replaces only it."""


def configure_logging(level: str = "INFO") -> None:
    """Route the root logger to stderr as JSON lines. Safe to call more than once."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _JsonStderrHandler):
            root.removeHandler(handler)
    handler = _JsonStderrHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
