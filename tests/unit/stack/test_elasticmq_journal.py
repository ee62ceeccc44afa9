"""ElasticMQ's message journal (H2): every commit written before ElasticMQ answers, the
database never closed under the running server, old chunks reused at once (the file stays
near its live size) and a large file compacted before start."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_stack import jvm
from local_stack.layout import StackLayout

pytestmark = pytest.mark.unit


def layout(root: Path) -> StackLayout:
    return StackLayout(root=root, pg_port=1, kafka_port=2, controller_port=3, connect_port=4,
                       sqs_port=5, sandbox_port=6)  # fmt: skip


def test_the_journal_uri_writes_each_commit_stays_open_and_reuses_old_chunks(
    tmp_path: Path,
) -> None:
    conf = jvm.elasticmq_conf(layout(tmp_path))
    journal = tmp_path / "elasticmq" / "data" / "messages"
    settings = ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;RETENTION_TIME=0"
    assert f'uri = "jdbc:h2:{journal}{settings}"' in conf
    assert "prune-data-on-init = false" in conf


def test_a_small_or_missing_journal_is_not_compacted(tmp_path: Path) -> None:
    stack = layout(tmp_path)
    assert jvm.compact_elasticmq_journal(stack) is False  # no file yet
    data = tmp_path / "elasticmq" / "data"
    data.mkdir(parents=True)
    (data / "messages.mv.db").write_bytes(b"\0" * 1024)
    assert jvm.compact_elasticmq_journal(stack) is False  # no JVM started for 1 KiB
