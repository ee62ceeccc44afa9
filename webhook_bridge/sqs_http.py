"""Blocking SQS calls on the JSON protocol over keep-alive HTTP/1.1: the forwarder's hot path
(ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch).

Why not boto3 here: a boto3 call costs ~2 ms of CPU (measured for SendMessageBatch, see
``sqs_send``), so a forwarder spending two calls per 10 messages is capped near 2,000 messages/s
by one core; this path signs with botocore's SigV4 signer and costs a fraction of that. Every
call is signed with the credentials current at that moment (a refreshable provider rotates
them underneath). One connection per thread, with the same keep-alive hygiene as ``sqs_send``:
a connection idle longer than ``max_idle_s`` is not reused, and a reused one that fails before
any answer is retried once on a fresh connection. Any other failure is ``QueueUnavailable``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError

from cdcbridge.errors import TransientError
from webhook_bridge.queue import QueueUnavailable

_WIRE_ERRORS = (OSError, http.client.HTTPException, ValueError)


class _Stale(TransientError):
    """A reused connection failed before any answer."""


class SqsJsonClient:
    """Thread-safe (one connection per thread). ``call`` raises ``QueueUnavailable``."""

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials, *,
                 connect_timeout_s: float = 2.0, read_timeout_s: float = 25.0,
                 max_idle_s: float = 20.0) -> None:  # fmt: skip
        parts = urlsplit(endpoint_url)
        self.__https = parts.scheme == "https"
        self.__host = parts.hostname or "localhost"
        self.__port = parts.port or (443 if self.__https else 80)
        self.__netloc = parts.netloc
        self.__url = f"{parts.scheme}://{parts.netloc}/"
        self.__region = region
        self.__credentials = credentials
        self.__connect_timeout_s = connect_timeout_s
        self.__read_timeout_s = read_timeout_s
        self.__max_idle_s = max_idle_s
        self.__local = threading.local()

    def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One action; returns the decoded answer. Raises ``QueueUnavailable`` on any failure
        (transport, timeout, non-200 answer: the caller retries later)."""
        body = json.dumps(payload).encode()
        headers = self.__signed_headers(action, body)
        for reuse in (True, False):
            try:
                status, data = self.__exchange(headers, body, reuse)
                break
            except _Stale:
                continue
            except _WIRE_ERRORS as exc:
                self.__drop()
                raise QueueUnavailable(f"{action}: {exc!r}") from exc
        else:
            raise QueueUnavailable(f"{action}: connection closed")
        try:
            doc: dict[str, Any] = json.loads(data) if data else {}
        except ValueError as exc:
            raise QueueUnavailable(f"{action} answered non-JSON ({status})") from exc
        if status != 200:
            kind = str(doc.get("__type", "")).rpartition("#")[2] or str(status)
            raise QueueUnavailable(f"{action} answered {status} {kind}: {doc.get('message', '')}")
        return doc

    def close(self) -> None:
        """Close this thread's connection."""
        self.__drop()

    def __signed_headers(self, action: str, body: bytes) -> dict[str, str]:
        request = AWSRequest("POST", self.__url, data=body, headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"AmazonSQS.{action}",
            "Host": self.__netloc,
        })  # fmt: skip
        try:
            frozen = self.__credentials.get_frozen_credentials()
            SigV4Auth(frozen, "sqs", self.__region).add_auth(request)
        except BotoCoreError as exc:
            raise QueueUnavailable(f"signing {action}: {exc}") from exc
        return dict(request.headers.items())

    def __connection(self, reuse: bool) -> tuple[http.client.HTTPConnection, bool]:
        held: tuple[http.client.HTTPConnection, float] | None = getattr(self.__local, "conn", None)
        if held is not None:
            conn, since = held
            if reuse and time.monotonic() - since <= self.__max_idle_s:
                return conn, True
            conn.close()
        kind = http.client.HTTPSConnection if self.__https else http.client.HTTPConnection
        conn = kind(self.__host, self.__port, timeout=self.__connect_timeout_s)
        conn.connect()
        if conn.sock is not None:
            conn.sock.settimeout(self.__read_timeout_s)
        self.__local.conn = (conn, time.monotonic())
        return conn, False

    def __exchange(self, headers: dict[str, str], body: bytes, reuse: bool) -> tuple[int, bytes]:
        conn, reused = self.__connection(reuse)
        try:
            conn.request("POST", "/", body=body, headers=headers)
            answer = conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine) as exc:
            if reused:
                self.__drop()
                raise _Stale from exc
            raise
        data = answer.read()
        if answer.will_close:
            self.__drop()
        else:
            self.__local.conn = (conn, time.monotonic())
        return answer.status, data

    def __drop(self) -> None:
        held = getattr(self.__local, "conn", None)
        if held is not None:
            held[0].close()
            self.__local.conn = None
