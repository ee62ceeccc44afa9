"""One webhook followed by its trace id, with grep, through every component's log: the
receiver's, the forwarder's, and the Kafka record's headers."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.fakes.processes import wait_for
from tests.integration.webhooks.test_wb_bridge_flow import Bridge, bridge, post_all, signed  # noqa: F401 - the fixture
from tests.integration.webhooks.webhooks_it_support import collect, start_forwarder, start_receiver

pytestmark = pytest.mark.integration


def grep(trace: str, log: Path) -> list[dict[str, object]]:
    """The JSON log lines of ``log`` that mention ``trace`` (``grep -F``)."""
    found = subprocess.run(["grep", "-F", trace, str(log)], capture_output=True, text=True,
                           check=False)  # fmt: skip
    return [json.loads(line) for line in found.stdout.splitlines()]


def test_one_webhook_is_followed_by_its_trace_id(bridge: Bridge) -> None:  # noqa: F811
    receiver, url = start_receiver(bridge.sources_file, bridge.queue.queue_url,
                                   bridge.stack.sqs_endpoint, bridge.tmp / "receiver.log", "INFO")
    bridge.children.append(receiver)
    forwarder = start_forwarder(bridge.sources_file, bridge.queue.queue_url,
                                bridge.stack.sqs_endpoint, bridge.stack.bootstrap_servers,
                                bridge.topic, bridge.tmp / "forwarder.log", "INFO")
    bridge.children.append(forwarder)
    trace = uuid.uuid4().hex
    assert asyncio.run(post_all(url, [signed("msg_follow", "follow@example.com", trace)])) == [202]
    found = collect(bridge.stack.bootstrap_servers, bridge.topic, 1, 60)
    record = found["msg_follow"]
    assert record.headers["trace_id"] == trace  # type: ignore[attr-defined]
    wait_for(lambda: bool(grep(trace, forwarder.log_path)), 30, "the forwarder's line")

    [accepted] = grep(trace, receiver.log_path)
    assert (accepted["message"], accepted["trace_id"]) == ("webhook accepted", trace)
    assert accepted["webhook_id"] == "msg_follow"
    [forwarded] = grep(trace, forwarder.log_path)
    assert (forwarded["message"], forwarded["trace_id"]) == ("webhook forwarded", trace)
    assert forwarded["topic"] == bridge.topic and forwarded["events"] == 1
