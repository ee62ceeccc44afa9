"""SQS's receive side and attributes: ``SqsQueue`` implements ``QueueReceiver`` for the
forwarder (ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch) and answers the
depth, visibility timeout and dead-letter queue for gauges and ``cdcbridge doctor``; its
``sender`` is the one send path (``sqs_send.SqsSender``). Every call goes over the SQS JSON
protocol (``sqs_receive.SqsJsonClient``); every failure is ``QueueUnavailable``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from webhook_bridge.queue.protocol import MAX_BATCH_ENTRIES, QueueMessage, QueueUnavailable
from webhook_bridge.queue.sqs_receive import SqsJsonClient
from webhook_bridge.queue.sqs_send import SqsSender
from webhook_bridge.queue.sqs_wire import endpoint_for, entry_results, resolve_credentials

LONG_POLL_MAX_S = 20
"""SQS's longest ReceiveMessage wait."""


def sqs_client(
    endpoint_url: str | None, region: str = "us-east-1", *, timeout_s: float = 5.0,
    queue_url: str | None = None, long_polls: bool = True,
) -> SqsJsonClient:  # fmt: skip
    """A blocking client with short timeouts (with ``long_polls``, reads allow a full long
    poll). With an endpoint (ElasticMQ) and no AWS credentials anywhere, dummy credentials are
    used. Raises ``QueueUnavailable`` when no credentials are found for AWS itself."""
    read_timeout_s = timeout_s + LONG_POLL_MAX_S + 1 if long_polls else timeout_s
    return SqsJsonClient(
        endpoint_for(endpoint_url, queue_url, region), region, resolve_credentials(endpoint_url),
        connect_timeout_s=min(timeout_s, 2.0), read_timeout_s=read_timeout_s,
    )  # fmt: skip


def open_queue(
    endpoint_url: str | None,
    region: str,
    *,
    queue_url: str | None = None,
    queue_name: str = "engagement",
    timeout_s: float = 5.0,
) -> SqsQueue:
    """The queue by URL (else resolved by name). Raises ``QueueUnavailable``."""
    client = sqs_client(endpoint_url, region, timeout_s=timeout_s, queue_url=queue_url)
    if queue_url is None:
        return SqsQueue.by_name(client, queue_name)
    return SqsQueue(client, queue_url)


class SqsQueue:
    """One queue, addressed by URL. Thread-safe (the client holds a connection per thread)."""

    def __init__(self, client: SqsJsonClient, queue_url: str) -> None:
        self.__client = client
        self.queue_url = queue_url

    @classmethod
    def by_name(cls, client: SqsJsonClient, name: str) -> SqsQueue:
        """Resolve ``name`` to its URL. Raises ``QueueUnavailable``."""
        answer = client.call("GetQueueUrl", {"QueueName": name})
        return cls(client, str(answer["QueueUrl"]))

    def sender(self, timeout_s: float = 5.0) -> SqsSender:
        """The one send path to this queue: every call finishes within ``timeout_s``."""
        client = self.__client
        return SqsSender(client.endpoint_url, client.region, client.credentials, self.queue_url,
                         timeout_s=timeout_s)  # fmt: skip

    def receive(self, max_messages: int, wait_s: float) -> list[QueueMessage]:
        answer = self.__call("ReceiveMessage", {
            "MaxNumberOfMessages": max(1, min(max_messages, MAX_BATCH_ENTRIES)),
            "WaitTimeSeconds": int(wait_s),
            "MessageAttributeNames": ["All"],
            "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
        })  # fmt: skip
        return [_message(raw) for raw in answer.get("Messages", [])]

    def delete(self, receipt_handles: Sequence[str]) -> list[str]:
        entries = [{"ReceiptHandle": handle} for handle in receipt_handles]
        return self.__batch("DeleteMessageBatch", receipt_handles, entries)

    def extend(self, receipt_handles: Sequence[str], visibility_timeout_s: int) -> list[str]:
        entries = [
            {"ReceiptHandle": handle, "VisibilityTimeout": visibility_timeout_s}
            for handle in receipt_handles
        ]
        return self.__batch("ChangeMessageVisibilityBatch", receipt_handles, entries)

    def release(self, receipt_handle: str) -> None:
        entry = {"ReceiptHandle": receipt_handle, "VisibilityTimeout": 0}
        self.__batch("ChangeMessageVisibilityBatch", [receipt_handle], [entry])

    def ping(self) -> None:
        """Raises ``QueueUnavailable`` unless the queue answers."""
        self.__attributes("QueueArn")

    def depth(self) -> tuple[int, int]:
        """(visible, in flight) message counts, approximate. Raises ``QueueUnavailable``."""
        values = self.__attributes(
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"
        )
        visible = int(values.get("ApproximateNumberOfMessages", "0"))
        return visible, int(values.get("ApproximateNumberOfMessagesNotVisible", "0"))

    def visibility_timeout_s(self) -> int:
        """The queue's default visibility timeout. Raises ``QueueUnavailable``."""
        return int(self.__attributes("VisibilityTimeout").get("VisibilityTimeout", "30"))

    def dead_letter_queue(self) -> SqsQueue | None:
        """The queue its RedrivePolicy moves messages to (None without a policy). Raises
        ``QueueUnavailable``."""
        policy = self.__attributes("RedrivePolicy").get("RedrivePolicy")
        if not policy:
            return None
        try:
            name = str(json.loads(policy)["deadLetterTargetArn"]).rsplit(":", 1)[-1]
        except (ValueError, KeyError, TypeError) as exc:
            raise QueueUnavailable(f"unreadable RedrivePolicy {policy!r}") from exc
        return SqsQueue.by_name(self.__client, name)

    def __attributes(self, *names: str) -> dict[str, str]:
        answer = self.__call("GetQueueAttributes", {"AttributeNames": list(names)})
        return {str(k): str(v) for k, v in answer.get("Attributes", {}).items()}

    def __batch(self, action: str, handles: Sequence[str],
                entries: Sequence[Mapping[str, Any]]) -> list[str]:  # fmt: skip
        """The handles whose entries failed (batches of up to 10 per call)."""
        failed: list[str] = []
        for start in range(0, len(handles), MAX_BATCH_ENTRIES):
            chunk = entries[start : start + MAX_BATCH_ENTRIES]
            payload = [{"Id": str(i), **entry} for i, entry in enumerate(chunk)]
            answer = self.__call(action, {"Entries": payload})
            results = entry_results(answer, len(chunk))
            failed += [h for h, r in zip(handles[start:], results, strict=False) if r is not None]
        return failed

    def __call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.__client.call(action, {"QueueUrl": self.queue_url, **payload})


def _message(raw: Mapping[str, Any]) -> QueueMessage:
    system = raw.get("Attributes", {})
    return QueueMessage(
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw.get("Body", ""),
        attributes={
            key: value.get("StringValue", "")
            for key, value in raw.get("MessageAttributes", {}).items()
        },
        receive_count=int(system.get("ApproximateReceiveCount", "1")),
        sent_at_ms=_int_or_none(system.get("SentTimestamp")),
    )


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None
