"""Kafka Connect (connector and tasks RUNNING), the marketing platform (reachable, credentials
accepted by a harmless read) and SQS (queue and its dead-letter queue reachable)."""

from __future__ import annotations

from pydantic import ValidationError

from cdcbridge.connect_api import ConnectClient, ConnectError, ConnectorFile
from cdcbridge.doctor.model import CheckResult, DoctorContext, fail, ok, warn

PROBE_EMAIL = "doctor-preflight@example.invalid"


def check_connector(ctx: DoctorContext) -> list[CheckResult]:
    try:
        name = ConnectorFile.load(ctx.connector_file).name
    except (OSError, ValueError, KeyError):
        return []  # reported by config.connector
    try:
        state = ConnectClient(ctx.connect_url, ctx.timeout_s).status(name)
    except ConnectError as exc:
        return [
            fail(
                "connect.connector",
                f"{name}: {exc}",
                "start Connect, then `cdcbridge connectors apply`",
            )
        ]
    not_running = [f"task {t.task_id} {t.state}" for t in state.tasks if t.state != "RUNNING"]
    if state.state == "RUNNING" and state.tasks and not not_running:
        return [ok("connect.connector", f"{name} RUNNING, {len(state.tasks)} task(s) RUNNING")]
    detail = f"{name} {state.state}" + (f"; {', '.join(not_running)}" if not_running else "")
    if not state.tasks:
        detail += "; no task"
    return [
        fail(
            "connect.connector",
            detail,
            "`cdcbridge connectors status` shows the task's trace; then "
            "`cdcbridge connectors restart`",
        )
    ]


def check_platform(ctx: DoctorContext) -> list[CheckResult]:
    from streams.contracts import FatalPlatformError, TransientPlatformError
    from streams.platform import PlatformSettings, build_adapter

    try:
        settings = PlatformSettings().model_copy(
            update={
                "read_timeout_s": ctx.timeout_s,
                "connect_timeout_s": ctx.timeout_s,
                "backoff_max_s": 1.0,
            }
        )
    except ValidationError:
        return []  # reported by config.platform
    try:
        adapter = build_adapter(settings)
        adapter.read_batch([PROBE_EMAIL])
    except FatalPlatformError as exc:
        return [
            fail(
                "platform.credentials",
                f"{settings.platform}: {exc}",
                "the platform rejects our credentials: check the token / client id and "
                "secret and their scopes",
            )
        ]
    except TransientPlatformError as exc:
        return [
            fail(
                "platform.reachable",
                f"{settings.platform}: {exc}",
                "check the base URL, the network path and the vendor's status page",
            )
        ]
    return [
        ok(
            "platform.credentials",
            f"{settings.platform}: reachable, credentials accepted "
            "(token obtained, a read answered)",
        )
    ]


def check_queues(ctx: DoctorContext) -> list[CheckResult]:
    from webhook_bridge.config import BridgeSettings
    from webhook_bridge.queue import QueueUnavailable
    from webhook_bridge.queue.sqs import open_queue

    try:
        settings = BridgeSettings()
    except ValidationError:
        return []  # reported by config.webhooks
    endpoint = settings.sqs_endpoint or ctx.sqs_endpoint
    try:
        queue = open_queue(
            endpoint,
            settings.region,
            queue_url=settings.queue_url,
            queue_name=settings.queue_name,
            timeout_s=ctx.timeout_s,
        )
        visible, in_flight = queue.depth()
        dead_letters = queue.dead_letter_queue()
        dlq_depth = dead_letters.depth()[0] if dead_letters is not None else None
    except QueueUnavailable as exc:
        return [
            fail(
                "sqs.queue",
                f"{settings.queue_name}: {exc}",
                "check CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT / QUEUE_URL and the AWS credentials",
            )
        ]
    results = [ok("sqs.queue", f"{settings.queue_name}: {visible} visible, {in_flight} in flight")]
    if dlq_depth is None:
        results.append(
            warn(
                "sqs.dlq",
                f"{settings.queue_name} has no redrive policy",
                "give the queue a dead-letter queue (maxReceiveCount 5)",
            )
        )
    elif dlq_depth:
        results.append(
            warn(
                "sqs.dlq",
                f"{dlq_depth} messages in the dead-letter queue",
                "read one: its source's mapping cannot normalise it; fix, then move them back",
            )
        )
    else:
        results.append(ok("sqs.dlq", "reachable, empty"))
    return results


def check_platform_properties(ctx: DoctorContext) -> list[CheckResult]:
    """Every property the mappings write exists on the platform (``cdcbridge platform check``)."""
    from streams.sync.service import missing_properties_problem

    try:
        problem = missing_properties_problem()
    except ValidationError:
        return []  # reported by config.platform
    if problem is None:
        return [ok("platform.properties", "every property the mappings write exists")]
    return [fail("platform.properties", problem, "run `cdcbridge platform setup`")]
