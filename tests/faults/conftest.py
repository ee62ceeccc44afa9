"""Fixtures of the fault suite: the bridge's children on the project's own local stack.

Which tests run: every ``faults`` test carries that marker; the default run (README's test
command, CI) keeps only the trimmed set also marked ``faults_ci``; ``make faults``
(``CDCBRIDGE_FAULTS=all``) or a ``-m`` expression naming ``faults`` keeps them all.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from local_stack import health, jvm
from local_stack.endpoints import StackEndpoints
from local_stack.layout import StackLayout
from local_stack.processes import read_pid
from local_stack.sandbox_launcher import private_sandbox
from local_stack.sqs_admin import delete_queue, ensure_queue
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import Child
from tests.fakes.sync_process import SyncGroup
from tests.faults.harness import Bridge, FaultRun
from tests.integration.webhooks.webhooks_it_support import start_forwarder, start_receiver
from webhook_bridge.kafka_producer import ensure_topic
from webhook_bridge.queue.sqs import SqsQueue, sqs_client

SECRET = "whsec_" + base64.b64encode(b"fault-suite-secret-0123456789").decode()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CDCBRIDGE_FAULTS") == "all" or "faults" in str(config.option.markexpr):
        return
    heavy = [i for i in items if i.get_closest_marker("faults") and
             not i.get_closest_marker("faults_ci")]  # fmt: skip
    if heavy:
        config.hook.pytest_deselected(items=heavy)
        items[:] = [i for i in items if i not in heavy]


def own_layout(stack: StackEndpoints) -> StackLayout:
    layout = StackLayout.default()
    owned = read_pid(jvm.ELASTICMQ.pid_file(layout)) is not None
    if not owned or layout.sqs_endpoint != stack.sqs_endpoint:
        pytest.skip("needs the project's own local stack (faults restart its processes)")
    return layout


@pytest.fixture
def fault_run(
    stack: StackEndpoints, cdc_connector: str, tmp_path: Path
) -> Iterator[Callable[..., FaultRun]]:
    """``fault_run(name, hit, platform="hubspot")``: the bridge running, load not started."""
    layout = own_layout(stack)
    with ExitStack() as cleanup:

        def make(name: str, hit: str, platform: str = "hubspot") -> FaultRun:
            tag = f"flt{uuid.uuid4().hex[:8]}"
            url = cleanup.enter_context(
                private_sandbox(tmp_path / "sandbox.log", platform=platform)
            )
            sandbox = Sandbox(url, platform)
            group = SyncGroup(stack, sandbox, tmp_path)
            cleanup.callback(group.cleanup)
            group.env.update(sandbox.env())  # the platform every sync of this run talks to
            group.spawn()
            client = sqs_client(stack.sqs_endpoint)
            queue = SqsQueue(client, ensure_queue(client, tag, visibility_timeout_s=10))
            dlq = SqsQueue.by_name(client, f"{tag}-dlq")

            def drop_queues() -> None:
                if health.sqs_up(layout):
                    delete_queue(client, queue.queue_url)
                    delete_queue(client, dlq.queue_url)

            cleanup.callback(drop_queues)
            topic = f"faults.engagement.{tag}"
            ensure_topic(stack.bootstrap_servers, topic)
            sources_file = tmp_path / "sources.yaml"
            sources = {"sources": {"sandbox": {"scheme": "standard-webhooks",
                                               "secrets": [SECRET]}}}  # fmt: skip
            sources_file.write_text(json.dumps(sources))
            receiver, receiver_url = start_receiver(
                sources_file, queue.queue_url, stack.sqs_endpoint, tmp_path / "receiver.log"
            )
            children: list[Child] = [receiver]
            cleanup.callback(lambda: [child.stop() for child in children])

            def forwarder() -> Child:
                child = start_forwarder(
                    sources_file, queue.queue_url, stack.sqs_endpoint,
                    stack.bootstrap_servers, topic, tmp_path / f"fwd-{len(children)}.log",
                )  # fmt: skip
                children.append(child)
                return child

            bridge = Bridge(stack, layout, sandbox, group, receiver, receiver_url, forwarder(),
                            topic, lambda: sum(dlq.depth()), forwarder, SECRET)  # fmt: skip
            return FaultRun(name, bridge, tag, hit)

        yield make
