"""The services' top levels turn a ``FatalError`` into exit code 2 with one error log, and
leave what they never handled before (a malformed mapping file) as it was."""

from __future__ import annotations

import argparse
import signal
from typing import Any

import pytest

import streams.writeback.consumer as writeback_consumer
import webhook_bridge.service as bridge_service
from streams.mapping.mapping_files import MappingFileError
from streams.writeback import cli as writeback_cli
from streams.writeback.consumer import WritebackFatal
from webhook_bridge import commands as bridge_commands
from webhook_bridge.queue import QueueUnavailable

pytestmark = pytest.mark.unit


class _Raising:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def run(self, *_args: Any, **_kwargs: Any) -> Any:
        raise self.error


@pytest.fixture(autouse=True)
def _no_signal_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal, "signal", lambda *_args: None)


def test_the_forwarder_exits_2_on_a_fatal_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fatal = WritebackFatal("broker says no")  # any FatalError
    monkeypatch.setattr(bridge_service, "build_forwarder", lambda *_: _Raising(fatal))
    assert bridge_commands.forward(argparse.Namespace()) == 2
    assert "forwarder stopped: broker says no" in caplog.text


def test_the_forwarder_leaves_a_transient_error_to_its_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        bridge_service, "build_forwarder", lambda *_: _Raising(QueueUnavailable("down"))
    )
    with pytest.raises(QueueUnavailable):
        bridge_commands.forward(argparse.Namespace())


def _writeback_args() -> argparse.Namespace:
    return argparse.Namespace(from_beginning=False, metrics_port=None)


def test_writeback_exits_2_on_a_fatal_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        writeback_consumer, "WritebackLoop", lambda *_a, **_k: _Raising(WritebackFatal("acl"))
    )
    assert writeback_cli.run(_writeback_args()) == 2
    assert "writeback stopped: acl" in caplog.text


def test_writeback_still_raises_a_malformed_mapping_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def malformed(*_args: Any, **_kwargs: Any) -> Any:
        raise MappingFileError("writeback.yaml: not a mapping")

    monkeypatch.setattr(writeback_consumer, "WritebackLoop", malformed)
    with pytest.raises(MappingFileError):
        writeback_cli.run(_writeback_args())
