"""The SQS boundary (boto3/botocore): the only module that talks to SQS.

``SqsQueue`` implements ``QueueSender`` and ``QueueReceiver``. Every botocore/HTTP error
becomes ``QueueUnavailable`` (the caller answers 503 or retries later); nothing else escapes.

The receiver's hot path, SendMessageBatch, bypasses the boto3 client: ``_JsonBatchSender`` posts
the SQS JSON-protocol request itself (``http.client``), signed with botocore's ``SigV4Auth``.
Measured here it costs ~0.5 ms of CPU per call against ~2.2 ms through ``client.send_message_batch``
(parameter validation, event hooks and response parsing), which is what lets one receiver
process enqueue at close to its verify-only rate.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

from webhook_bridge.envelope import WebhookEnvelope
from webhook_bridge.queue import QueueMessage, QueueUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeFilterType
    from mypy_boto3_sqs.type_defs import (
        DeleteMessageBatchRequestEntryTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

_ERRORS = (BotoCoreError, ClientError)


def _session(endpoint_url: str | None) -> boto3.session.Session:
    session = boto3.session.Session()
    if endpoint_url and session.get_credentials() is None:
        session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x")  # noqa: S106
    return session


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
    fast_send: bool = True,
) -> SqsQueue:
    """The queue by URL (else resolved by name), with the fast SendMessageBatch path unless
    ``fast_send`` is False. Raises ``QueueUnavailable``."""
    client = sqs_client(endpoint_url, region, timeout_s=timeout_s)
    if queue_url is None:
        try:
            queue_url = client.get_queue_url(QueueName=queue_name)["QueueUrl"]
        except _ERRORS as exc:
            raise QueueUnavailable(f"resolving queue {queue_name}: {exc}") from exc
    sender = None
    credentials = _session(endpoint_url).get_credentials()
    if fast_send and credentials is not None:
        sender = _JsonBatchSender(
            client.meta.endpoint_url, region, credentials, queue_url, timeout_s=timeout_s
        )
    return SqsQueue(client, queue_url, sender)


class _JsonBatchSender:
    """SendMessageBatch as one signed HTTP POST (SQS JSON protocol) on a keep-alive connection
    per thread (``http.client``: ~0.25 ms of CPU per call where urllib3 took ~0.55 ms).
    A failed call is retried once on a fresh connection (the old one may have gone stale), so a
    message can be sent twice; duplicates are removed downstream by event id."""

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials, queue_url: str,
                 *, timeout_s: float) -> None:  # fmt: skip
        parts = urlsplit(endpoint_url)
        self.__url = f"{parts.scheme}://{parts.netloc}/"
        self.__secure = parts.scheme == "https"
        self.__host = parts.hostname or "localhost"
        self.__port = parts.port
        self.__timeout_s = timeout_s
        self.__auth = SigV4Auth(credentials, "sqs", region)
        self.__queue_url = queue_url
        self.__local = threading.local()

    def __connection(self, fresh: bool) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self.__local, "conn", None)
        if conn is not None and fresh:
            conn.close()
            conn = None
        if conn is None:
            kind = http.client.HTTPSConnection if self.__secure else http.client.HTTPConnection
            conn = kind(self.__host, self.__port, timeout=self.__timeout_s)
            self.__local.conn = conn
        return conn

    def __post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in (1, 2):
            conn = self.__connection(fresh=attempt > 1)
            try:
                conn.request("POST", "/", body=body, headers=headers)
                answer = conn.getresponse()
                return answer.status, answer.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if attempt == 2:
                    raise QueueUnavailable(f"SendMessageBatch: {exc}") from exc
        raise AssertionError("unreachable")

    def send_batch(self, envelopes: Sequence[WebhookEnvelope]) -> list[str | None]:
        entries = [
            {"Id": str(index), "MessageBody": envelope.encode()}
            for index, envelope in enumerate(envelopes)
        ]
        body = json.dumps({"QueueUrl": self.__queue_url, "Entries": entries}).encode()
        request = AWSRequest("POST", self.__url, data=body, headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.SendMessageBatch",
        })  # fmt: skip
        try:
            self.__auth.add_auth(request)
        except BotoCoreError as exc:
            raise QueueUnavailable(f"signing SendMessageBatch: {exc}") from exc
        status, data = self.__post(body, dict(request.headers.items()))
        if status != 200:
            raise QueueUnavailable(f"SendMessageBatch answered {status}")
        try:
            doc: dict[str, Any] = json.loads(data)
        except ValueError as exc:
            raise QueueUnavailable("SendMessageBatch answered non-JSON") from exc
        results: list[str | None] = ["no_answer"] * len(envelopes)
        for ok in doc.get("Successful", []):
            results[int(ok["Id"])] = None
        for failed in doc.get("Failed", []):
            results[int(failed["Id"])] = str(failed.get("Code", "failed"))
        return results


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
        self, client: SQSClient, queue_url: str, fast_sender: _JsonBatchSender | None = None
    ) -> None:
        self.__client = client
        self.queue_url = queue_url
        self.__fast_sender = fast_sender

    @classmethod
    def by_name(cls, client: SQSClient, name: str) -> SqsQueue:
        """Resolve ``name`` to its URL. Raises ``QueueUnavailable``."""
        try:
            return cls(client, client.get_queue_url(QueueName=name)["QueueUrl"])
        except _ERRORS as exc:
            raise QueueUnavailable(f"resolving queue {name}: {exc}") from exc

    def send_batch(self, envelopes: Sequence[WebhookEnvelope]) -> list[str | None]:
        if self.__fast_sender is not None:
            return self.__fast_sender.send_batch(envelopes)
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

    def receive(self, max_messages: int, wait_s: float) -> list[QueueMessage]:
        try:
            answer = self.__client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(max_messages, 10)),
                WaitTimeSeconds=int(wait_s),
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
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
            )
            for raw in answer.get("Messages", [])
        ]

    def delete(self, receipt_handles: Sequence[str]) -> list[str]:
        if not receipt_handles:
            return []
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(receipt_handles)
        ]
        try:
            answer = self.__client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc
        return [receipt_handles[int(failed["Id"])] for failed in answer.get("Failed", [])]

    def release(self, receipt_handle: str) -> None:
        try:
            self.__client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=0
            )
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc

    def send_one(self, envelope: WebhookEnvelope) -> None:
        """One SendMessage call (the naive path, and Lambda). Raises ``QueueUnavailable``."""
        try:
            self.__client.send_message(QueueUrl=self.queue_url, MessageBody=envelope.encode())
        except _ERRORS as exc:
            raise QueueUnavailable(str(exc)) from exc


def delete_queue(client: SQSClient, queue_url: str) -> None:
    """Delete a queue (benchmarks and tests clean up after themselves). Raises
    ``QueueUnavailable``."""
    try:
        client.delete_queue(QueueUrl=queue_url)
    except _ERRORS as exc:
        raise QueueUnavailable(str(exc)) from exc
