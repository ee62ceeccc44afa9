"""SqsJsonClient (the forwarder's SQS path) against a scripted loopback HTTP server: each call
signed with the credentials current at that moment, stale keep-alive connections replaced,
error answers raised as QueueUnavailable."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from botocore.credentials import Credentials, ReadOnlyCredentials

from webhook_bridge.queue import QueueUnavailable
from webhook_bridge.queue.sqs_receive import SqsJsonClient

pytestmark = pytest.mark.unit
Reply = Callable[[bytes], bytes]


def ok_reply(_: bytes) -> bytes:
    body = json.dumps({"Messages": []}).encode()
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


@contextmanager
def server(replies: list[Reply], close_after_each: bool) -> Iterator[tuple[int, list[bytes]]]:
    """Serves ``replies`` in order; records each request head. ``close_after_each`` closes the
    connection after every answer without saying so (a server's idle timeout)."""
    listener = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def serve() -> None:
        while replies:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while replies:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    if b"\r\n\r\n" not in data:
                        break
                    head, _, rest = data.partition(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                    while len(rest) < length:
                        rest += conn.recv(65536)
                    data = rest[length:]
                    heads.append(head)
                    conn.sendall(replies.pop(0)(head))
                    if close_after_each:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1]), heads
    finally:
        listener.close()
        thread.join(5)


class RotatingCredentials(Credentials):
    """Hands out a new access key each time (a refreshable provider after a refresh)."""

    def __init__(self) -> None:
        super().__init__("AKIA0", "secret")
        self.calls = 0

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        self.calls += 1
        return ReadOnlyCredentials(f"AKIA{self.calls}", "secret", None)


def test_every_call_is_signed_with_the_current_credentials() -> None:
    with server([ok_reply, ok_reply], close_after_each=False) as (port, heads):
        client = SqsJsonClient(f"http://127.0.0.1:{port}", "us-east-1", RotatingCredentials())
        assert client.call("ReceiveMessage", {"QueueUrl": "q"}) == {"Messages": []}
        assert client.call("ReceiveMessage", {"QueueUrl": "q"}) == {"Messages": []}
        client.close()
    assert b"Credential=AKIA1/" in heads[0] and b"Credential=AKIA2/" in heads[1]
    assert b"x-amz-target: amazonsqs.receivemessage" in heads[0].lower()


def test_connection_closed_by_the_server_is_replaced_without_an_error() -> None:
    with server([ok_reply, ok_reply], close_after_each=True) as (port, heads):
        client = SqsJsonClient(f"http://127.0.0.1:{port}", "us-east-1", Credentials("a", "b"))
        client.call("DeleteMessageBatch", {"QueueUrl": "q", "Entries": []})
        client.call("DeleteMessageBatch", {"QueueUrl": "q", "Entries": []})
        client.close()
    assert len(heads) == 2


def test_error_answer_is_queue_unavailable_naming_the_error() -> None:
    def error(_: bytes) -> bytes:
        body = b'{"__type": "com.amazonaws.sqs#ExpiredToken", "message": "token expired"}'
        return b"HTTP/1.1 400 Bad\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    with server([error], close_after_each=False) as (port, _):
        client = SqsJsonClient(f"http://127.0.0.1:{port}", "us-east-1", Credentials("a", "b"))
        with pytest.raises(QueueUnavailable, match="400 ExpiredToken: token expired"):
            client.call("ReceiveMessage", {"QueueUrl": "q"})
        client.close()


def test_unreachable_endpoint_is_queue_unavailable() -> None:
    client = SqsJsonClient("http://127.0.0.1:9", "us-east-1", Credentials("a", "b"))
    with pytest.raises(QueueUnavailable, match="ReceiveMessage"):
        client.call("ReceiveMessage", {"QueueUrl": "q"})
