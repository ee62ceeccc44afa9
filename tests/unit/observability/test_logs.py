"""JSON log lines carry the trace id; secrets never reach a line."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import SecretStr

from cdcbridge.logs import JsonFormatter, current_trace_id, trace_context

pytestmark = pytest.mark.unit


def _line(message: str, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("cdcbridge.test", logging.INFO, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    doc: dict[str, object] = json.loads(JsonFormatter().format(record))
    return doc


def test_trace_id_of_the_context_is_on_every_line() -> None:
    assert _line("outside")["trace_id"] == "-"
    with trace_context("4bf92f3577b34da6a3ce929d0e0e4736"):
        assert current_trace_id() == "4bf92f3577b34da6a3ce929d0e0e4736"
        doc = _line("inside", batch=3)
    assert doc["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert doc["batch"] == 3 and doc["level"] == "info" and doc["message"] == "inside"
    assert current_trace_id() == "-"


def test_secret_str_is_masked_in_a_line() -> None:
    doc = _line("token refreshed", token=SecretStr("s3cr3t-value"))
    assert "s3cr3t-value" not in json.dumps(doc)
    assert doc["token"] == "**********"
