"""The SQS boundary (boto3): the only module that imports it.

``SqsQueue`` implements ``QueueSender`` and ``QueueReceiver``. Every botocore error becomes
``QueueUnavailable`` (the caller answers 503 or retries later); nothing else escapes. The
receiver's hot path, SendMessageBatch on the event loop, is ``sqs_send.AsyncBatchSender``
(``SqsQueue.async_batch_sender``); the forwarder's (receive, delete, change visibility) is
``sqs_http.SqsJsonClient`` whenever credentials are known (boto3 otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.queue import QueueMessage, QueueUnavailable
from webhook_bridge.sqs_http import SqsJsonClient
from webhook_bridge.sqs_send import AsyncBatchSender

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeFilterType
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

_ERRORS = (BotoCoreError, ClientError)


def _session(endpoint_url: str | None) -> boto3.session.Session:
    session = boto3.session.Session()
    if endpoint_url and session.get_credentials() is None:
        session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x")  # noqa: S106
    return session


BOTOCORE_FIRST_RETRY_BACKOFF_S = 1.0
"""botocore's standard retry mode waits up to 1 s (random) before the second attempt."""


@dataclass(frozen=True)
class SendBudget:
    """Timeouts for one enqueue that must answer within a deadline (the Lambda's timeout).

    ``worst_case_s`` = attempts x (connect + read) + the retry backoff: what a hung endpoint
    (accepts TCP, never answers) or a black-holed one costs before ``QueueUnavailable``."""

    connect_timeout_s: float
    read_timeout_s: float
    attempts: int

    @property
    def worst_case_s(self) -> float:
        per_attempt = self.connect_timeout_s + self.read_timeout_s
        backoff = BOTOCORE_FIRST_RETRY_BACKOFF_S * (self.attempts - 1)
        return self.attempts * per_attempt + backoff

    @classmethod
    def within(cls, limit_s: float, *, reserve_s: float = 2.0, attempts: int = 2) -> SendBudget:
        """The budget that leaves ``reserve_s`` of ``limit_s`` for everything else (verify,
        answer, cold start work). Raises ``ValueError`` when ``limit_s`` is too short."""
        spend = limit_s - reserve_s - BOTOCORE_FIRST_RETRY_BACKOFF_S * (attempts - 1)
        if spend < 0.5 * attempts:
            raise ValueError(f"a {limit_s} s limit leaves no time to enqueue")
        per_attempt = spend / attempts
        connect = min(1.0, per_attempt / 3)
        return cls(connect, per_attempt - connect, attempts)


def send_client(endpoint_url: str | None, region: str, budget: SendBudget) -> SQSClient:
    """A client for SendMessage only, bounded by ``budget`` (no long-poll read timeout)."""
    config = Config(
        region_name=region,
        connect_timeout=budget.connect_timeout_s,
        read_timeout=budget.read_timeout_s,
        retries={"total_max_attempts": budget.attempts, "mode": "standard"},
        max_pool_connections=4,
    )
    return _session(endpoint_url).client("sqs", endpoint_url=endpoint_url, config=config)


def sqs_client(
    endpoint_url: str | None, region: str = "us-east-1", *, timeout_s: float = 5.0
) -> SQSClient:
    """A client with short timeouts and one retry. With an endpoint (ElasticMQ) and no AWS
    credentials in the environment, dummy credentials are used."""
    config = Config(
        region_name=region,
        connect_timeout=min(timeout_s, 2.0),
        read_timeout=timeout_s + 21.0,  # long polls take up to 20 s
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=32,
    )
    return _session(endpoint_url).client("sqs", endpoint_url=endpoint_url, config=config)


def open_queue(
    endpoint_url: str | None,
    region: str,
    *,
    queue_url: str | None = None,
    queue_name: str = "engagement",
    timeout_s: float = 5.0,
) -> SqsQueue:
    """The queue by URL (else resolved by name). Raises ``QueueUnavailable``."""
    client = sqs_client(endpoint_url, region, timeout_s=timeout_s)
    if queue_url is None:
        try:
            queue_url = client.get_queue_url(QueueName=queue_name)["QueueUrl"]
        except _ERRORS as exc:
            raise QueueUnavailable(f"resolving queue {queue_name}: {exc}") from exc
    credentials = _session(endpoint_url).get_credentials()
    return SqsQueue(client, queue_url, credentials)


def ensure_queue(client: SQSClient, name: str, *, max_receive_count: int = 5,
                 visibility_timeout_s: int = 30) -> str:  # fmt: skip
    """Create ``name`` and ``name-dlq`` (redrive after ``max_receive_count`` receives) if
    missing; return the main queue's URL. For the local stack and tests."""
    try:
        dlq_url = client.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
        redrive = {
            "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
            "maxReceiveCount": str(max_receive_count),
        }
        created = client.create_queue(
            QueueName=name,
            Attributes={
                "RedrivePolicy": json.dumps(redrive),
                "VisibilityTimeout": str(visibility_timeout_s),
            },
        )
        return created["QueueUrl"]
    except _ERRORS as exc:
        raise QueueUnavailable(f"creating queue {name}: {exc}") from exc


class SqsQueue:
    """One queue, addressed by URL."""

    def __init__(
        self, client: SQSClient, queue_url: str, credentials: Credentials | None = None
    ) -> None:
        self.__client = client
        self.queue_url = queue_url
        self.__credentials = credentials
        self.__json = (
            None if credentials is None
            else SqsJsonClient(client.meta.endpoint_url, client.meta.region_name, credentials)
        )  # fmt: skip

    def async_batch_sender(self, timeout_s: float = 5.0) -> AsyncBatchSender | None:
        """The event-loop SendMessageBatch path for this queue (None without credentials)."""
        if self.__credentials is None:
            return None
        return AsyncBatchSender(
            self.__client.meta.endpoint_url, self.__client.meta.region_name,
            self.__credentials, self.queue_url, timeout_s=timeout_s,
        )  # fmt: skip

    @classmethod
    def by_name(cls, client: SQSClient, name: str) -> SqsQueue:
        """Resolve ``name`` to its URL. Raises ``QueueUnavailable``."""
        try:
            return cls(client, client.get_queue_url(QueueName=name)["QueueUrl"])
        except _ERRORS as exc:
            raise QueueUnavailable(f"resolving queue {name}: {exc}") from exc

    def send_batch(self, envelopes: Sequence[WebhookEnvelope]) -> list[str | None]:
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "MessageBody": envelope.encode()}
            for index, envelope in enumerate(envelopes)
        ]
        try:
            answer = self.__client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc
        results: list[str | None] = ["no_answer"] * len(envelopes)
        for ok in answer.get("Successful", []):
            results[int(ok["Id"])] = None
        for failed in answer.get("Failed", []):
            results[int(failed["Id"])] = failed.get("Code", "failed")
        return results

    def ping(self) -> None:
        try:
            self.__client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc

    def depth(self) -> tuple[int, int]:
        """(visible, in flight) message counts, approximate. Raises ``QueueUnavailable``."""
        names: list[QueueAttributeFilterType] = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ]
        try:
            attrs = self.__client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=names
            )
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc
        values = attrs.get("Attributes", {})
        visible = values.get("ApproximateNumberOfMessages", "0")
        return int(visible), int(values.get("ApproximateNumberOfMessagesNotVisible", "0"))

    def dead_letter_queue(self) -> SqsQueue | None:
        """The queue its RedrivePolicy moves messages to (None without a policy). Raises
        ``QueueUnavailable``."""
        try:
            attrs = self.__client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"]
            ).get("Attributes", {})
            policy = attrs.get("RedrivePolicy")
            if not policy:
                return None
            name = str(json.loads(policy)["deadLetterTargetArn"]).rsplit(":", 1)[-1]
            url = self.__client.get_queue_url(QueueName=name)["QueueUrl"]
        except _ERRORS as exc:
            raise QueueUnavailable(f"finding the dead-letter queue: {exc}") from exc
        return SqsQueue(self.__client, url, self.__credentials)

    def purge(self) -> None:
        """Drop every message (benchmarks keep the queue small). Raises ``QueueUnavailable``."""
        try:
            self.__client.purge_queue(QueueUrl=self.queue_url)
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc

    def receive(self, max_messages: int, wait_s: float) -> list[QueueMessage]:
        payload: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": max(1, min(max_messages, 10)),
            "WaitTimeSeconds": int(wait_s),
            "MessageAttributeNames": ["All"],
            "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
        }
        if self.__json is not None:
            answer: Mapping[str, Any] = self.__json.call("ReceiveMessage", payload)
        else:
            try:
                answer = self.__client.receive_message(**payload)
            except _ERRORS as exc:
                raise QueueUnavailable(str(exc)) from exc
        return [
            QueueMessage(
                message_id=raw["MessageId"],
                receipt_handle=raw["ReceiptHandle"],
                body=raw.get("Body", ""),
                attributes={
                    key: value.get("StringValue", "")
                    for key, value in raw.get("MessageAttributes", {}).items()
                },
                receive_count=int(raw.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
                sent_at_ms=_int_or_none(raw.get("Attributes", {}).get("SentTimestamp")),
            )
            for raw in answer.get("Messages", [])
        ]

    def delete(self, receipt_handles: Sequence[str]) -> list[str]:
        if not receipt_handles:
            return []
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(receipt_handles)
        ]
        answer = self.__batch("DeleteMessageBatch", entries)
        return [receipt_handles[int(failed["Id"])] for failed in answer.get("Failed", [])]

    def extend(self, receipt_handles: Sequence[str], visibility_timeout_s: int) -> list[str]:
        """Keep messages invisible for ``visibility_timeout_s`` more seconds (the forwarder still
        works on them). Returns the handles that failed. Raises ``QueueUnavailable``."""
        if not receipt_handles:
            return []
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": visibility_timeout_s}
            for i, h in enumerate(receipt_handles)
        ]
        answer = self.__batch("ChangeMessageVisibilityBatch", entries)
        return [receipt_handles[int(failed["Id"])] for failed in answer.get("Failed", [])]

    def release(self, receipt_handle: str) -> None:
        entry: ChangeMessageVisibilityBatchRequestEntryTypeDef = {
            "Id": "0", "ReceiptHandle": receipt_handle, "VisibilityTimeout": 0
        }  # fmt: skip
        self.__batch("ChangeMessageVisibilityBatch", [entry])

    def visibility_timeout_s(self) -> int:
        """The queue's default visibility timeout. Raises ``QueueUnavailable``."""
        try:
            attrs = self.__client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"]
            )
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc
        return int(attrs.get("Attributes", {}).get("VisibilityTimeout", "30"))

    def __batch(self, action: str, entries: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
        if self.__json is not None:
            return self.__json.call(action, {"QueueUrl": self.queue_url, "Entries": list(entries)})
        try:
            if action == "DeleteMessageBatch":
                return self.__client.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=list(entries),  # type: ignore[arg-type]
                )
            return self.__client.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=list(entries),  # type: ignore[arg-type]
            )
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc

    def send_one(self, envelope: WebhookEnvelope) -> None:
        """One SendMessage call (the naive path, and Lambda). Raises ``QueueUnavailable``."""
        try:
            self.__client.send_message(QueueUrl=self.queue_url, MessageBody=envelope.encode())
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def delete_queue(client: SQSClient, queue_url: str) -> None:
    """Delete a queue (benchmarks and tests clean up after themselves). Raises
    ``QueueUnavailable``."""
    try:
        client.delete_queue(QueueUrl=queue_url)
    except _ERRORS as exc:
        raise QueueUnavailable(str(exc)) from exc
