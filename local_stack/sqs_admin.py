"""Queue administration on the local stack's SQS (ElasticMQ): tests and benchmarks create a
queue of their own with its dead-letter queue and delete it after.
Not used by the services (their queues are provisioned: ``jvm.py``'s ElasticMQ config locally,
``deploy/aws/template.yaml`` on AWS). Every failure is ``QueueUnavailable``.
"""

from __future__ import annotations

import json

from webhook_bridge.queue import QueueUnavailable
from webhook_bridge.queue.sqs_receive import SqsJsonClient


def ensure_queue(client: SqsJsonClient, name: str, *, max_receive_count: int = 5,
                 visibility_timeout_s: int = 30) -> str:  # fmt: skip
    """Create ``name`` and ``name-dlq`` (redrive after ``max_receive_count`` receives) if
    missing; return the main queue's URL."""
    dlq_url = str(client.call("CreateQueue", {"QueueName": f"{name}-dlq"})["QueueUrl"])
    attributes = client.call(
        "GetQueueAttributes", {"QueueUrl": dlq_url, "AttributeNames": ["QueueArn"]}
    )
    try:
        dlq_arn = str(attributes["Attributes"]["QueueArn"])
    except KeyError as exc:
        raise QueueUnavailable(f"{name}-dlq has no QueueArn") from exc
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
    created = client.call("CreateQueue", {"QueueName": name, "Attributes": {
        "RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(visibility_timeout_s),
    }})  # fmt: skip
    return str(created["QueueUrl"])


def delete_queue(client: SqsJsonClient, queue_url: str) -> None:
    """Delete a queue (tests and benchmarks clean up after themselves)."""
    client.call("DeleteQueue", {"QueueUrl": queue_url})
