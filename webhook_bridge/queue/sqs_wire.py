"""What both SQS clients speak: the JSON protocol's request signing, answer decoding, and the
one parser of batch results (SendMessageBatch, DeleteMessageBatch,
ChangeMessageVisibilityBatch all answer ``Successful`` and ``Failed`` lists of entry ids).

Every request is signed with botocore's SigV4 signer and the credentials current at that
moment (a refreshable provider rotates them underneath). Everything that goes wrong here is
``QueueUnavailable``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError
from botocore.session import get_session

from cdcbridge.errors import TransientError
from webhook_bridge.queue.protocol import QueueUnavailable

CONTENT_TYPE = "application/x-amz-json-1.0"
class StaleConnection(TransientError):
    """A reused keep-alive connection failed before any byte of an answer arrived: the server
    had closed it. Both clients retry once on a fresh connection; never seen by callers."""


NO_ANSWER = "no_answer"
"""The failure code of an entry the batch answer names in neither list."""


def resolve_credentials(endpoint_url: str | None) -> Credentials:
    """botocore's credential chain (environment, profile, container or instance role). With an
    endpoint of our own (ElasticMQ) and no credentials anywhere, dummy ones (it ignores them).
    Raises ``QueueUnavailable`` when AWS itself is meant and no credentials are found."""
    try:
        credentials = get_session().get_credentials()
    except BotoCoreError as exc:
        raise QueueUnavailable(f"resolving AWS credentials: {exc}") from exc
    if credentials is not None:
        return credentials
    if endpoint_url:
        return Credentials("x", "x")
    raise QueueUnavailable("no AWS credentials found")


def endpoint_for(endpoint_url: str | None, queue_url: str | None, region: str) -> str:
    """The endpoint to POST to: the configured one, else the queue URL's host, else the
    region's public SQS endpoint."""
    if endpoint_url:
        return endpoint_url
    if queue_url:
        parts = urlsplit(queue_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"https://sqs.{region}.amazonaws.com"


class RequestSigner:
    """Signs JSON-protocol requests to one endpoint. Thread-safe (no state but config)."""

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials) -> None:
        parts = urlsplit(endpoint_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.https else 80)
        self.netloc = parts.netloc
        self.endpoint_url = endpoint_url
        self.region = region
        self.credentials = credentials
        self.__url = f"{parts.scheme}://{parts.netloc}/"

    def headers(self, action: str, body: bytes) -> dict[str, str]:
        """The signed headers of one POST of ``body`` for ``action`` (no Content-Length)."""
        request = AWSRequest("POST", self.__url, data=body, headers={
            "Content-Type": CONTENT_TYPE, "X-Amz-Target": f"AmazonSQS.{action}",
            "Host": self.netloc,
        })  # fmt: skip
        try:
            frozen = self.credentials.get_frozen_credentials()
            SigV4Auth(frozen, "sqs", self.region).add_auth(request)
        except BotoCoreError as exc:
            raise QueueUnavailable(f"signing {action}: {exc}") from exc
        return dict(request.headers.items())


def decode_answer(action: str, status: int, data: bytes) -> dict[str, Any]:
    """The answer's JSON document. Raises ``QueueUnavailable`` for a non-200 status (naming
    the SQS error type) or a body that is not JSON."""
    try:
        doc: dict[str, Any] = json.loads(data) if data else {}
    except ValueError as exc:
        raise QueueUnavailable(f"{action} answered non-JSON ({status})") from exc
    if status != 200:
        kind = str(doc.get("__type", "")).rpartition("#")[2] or str(status)
        raise QueueUnavailable(f"{action} answered {status} {kind}: {doc.get('message', '')}")
    return doc


def entry_results(answer: Mapping[str, Any], count: int) -> list[str | None]:
    """Per entry of a batch call whose entry ids were ``"0"`` .. ``str(count - 1)``: ``None``
    when it succeeded, else its failure code (``NO_ANSWER`` when the answer omits it).
    Raises ``QueueUnavailable`` when an entry id is not one of those."""
    results: list[str | None] = [NO_ANSWER] * count
    try:
        for ok in answer.get("Successful", []):
            results[_index(ok["Id"], count)] = None
        for failed in answer.get("Failed", []):
            results[_index(failed["Id"], count)] = str(failed.get("Code", "failed"))
    except (KeyError, TypeError, ValueError) as exc:
        raise QueueUnavailable(f"malformed batch answer: {exc!r}") from exc
    return results


def _index(entry_id: object, count: int) -> int:
    index = int(str(entry_id))
    if not 0 <= index < count:
        raise ValueError(f"entry id {entry_id!r} out of range")
    return index
