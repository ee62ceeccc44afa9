"""Blocking SQS calls on the JSON protocol over keep-alive HTTP/1.1: the forwarder's hot path
(ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch) and the queue's attributes.

Why not boto3 here: a boto3 call costs ~2 ms of CPU (measured for SendMessageBatch, see
``sqs_send``), so a forwarder spending two calls per 10 messages is capped near 2,000 messages/s
by one core; this path signs with botocore's SigV4 signer (``sqs_wire``) and costs a fraction
of that. One connection per thread, with the same keep-alive hygiene as ``sqs_send``:
a connection idle longer than ``max_idle_s`` is not reused, and a reused one that fails before
any answer is retried once on a fresh connection. Any other failure is ``QueueUnavailable``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any

from botocore.credentials import Credentials

from webhook_bridge.queue.protocol import QueueUnavailable
from webhook_bridge.queue.sqs_wire import RequestSigner, StaleConnection, decode_answer

_WIRE_ERRORS = (OSError, http.client.HTTPException, ValueError)


class SqsJsonClient:
    """Thread-safe (one connection per thread). ``call`` raises ``QueueUnavailable``."""

    def __init__(self, endpoint_url: str, region: str, credentials: Credentials, *,
                 connect_timeout_s: float = 2.0, read_timeout_s: float = 25.0,
                 max_idle_s: float = 20.0) -> None:  # fmt: skip
        self.__signer = RequestSigner(endpoint_url, region, credentials)
        self.__connect_timeout_s = connect_timeout_s
        self.__read_timeout_s = read_timeout_s
        self.__max_idle_s = max_idle_s
        self.__local = threading.local()

    def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One action; returns the decoded answer. Raises ``QueueUnavailable`` on any failure
        (transport, timeout, non-200 answer: the caller retries later)."""
        body = json.dumps(payload).encode()
        headers = self.__signer.headers(action, body)
        for reuse in (True, False):
            try:
                status, data = self.__exchange(headers, body, reuse)
                break
            except StaleConnection:
                continue
            except _WIRE_ERRORS as exc:
                self.__drop()
                raise QueueUnavailable(f"{action}: {exc!r}") from exc
        else:
            raise QueueUnavailable(f"{action}: connection closed")
        return decode_answer(action, status, data)

    @property
    def endpoint_url(self) -> str:
        return self.__signer.endpoint_url

    @property
    def region(self) -> str:
        return self.__signer.region

    @property
    def credentials(self) -> Credentials:
        return self.__signer.credentials

    def close(self) -> None:
        """Close this thread's connection."""
        self.__drop()

    def __connection(self, reuse: bool) -> tuple[http.client.HTTPConnection, bool]:
        held: tuple[http.client.HTTPConnection, float] | None = getattr(self.__local, "conn", None)
        if held is not None:
            conn, since = held
            if reuse and time.monotonic() - since <= self.__max_idle_s:
                return conn, True
            conn.close()
        kind = http.client.HTTPSConnection if self.__signer.https else http.client.HTTPConnection
        conn = kind(self.__signer.host, self.__signer.port, timeout=self.__connect_timeout_s)
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
                raise StaleConnection from exc
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
