"""What both SQS clients share: the batch-result parser, answer decoding, the endpoint and the
credentials they sign with."""

from __future__ import annotations

import pytest

from webhook_bridge.queue import QueueUnavailable
from webhook_bridge.queue.sqs_wire import (
    NO_ANSWER,
    decode_answer,
    endpoint_for,
    entry_results,
    resolve_credentials,
)

pytestmark = pytest.mark.unit


def test_entry_results_per_entry_in_order() -> None:
    failed = {"Id": "1", "Code": "InvalidMessageContents", "SenderFault": True}
    answer = {"Successful": [{"Id": "2"}, {"Id": "0"}], "Failed": [failed]}
    assert entry_results(answer, 4) == [None, "InvalidMessageContents", None, NO_ANSWER]
    assert entry_results({}, 2) == [NO_ANSWER, NO_ANSWER]


@pytest.mark.parametrize("answer", [
    {"Successful": [{"Id": "5"}]},
    {"Successful": [{"Id": "x"}]},
    {"Failed": [{"Code": "X"}]},
    {"Successful": [None]},
])  # fmt: skip
def test_entry_results_refuses_ids_it_did_not_send(answer: dict[str, object]) -> None:
    with pytest.raises(QueueUnavailable, match="malformed batch answer"):
        entry_results(answer, 2)


def test_decode_answer() -> None:
    assert decode_answer("ReceiveMessage", 200, b'{"Messages": []}') == {"Messages": []}
    assert decode_answer("DeleteQueue", 200, b"") == {}
    error = b'{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "gone"}'
    with pytest.raises(QueueUnavailable, match="GetQueueUrl answered 400 QueueDoesNotExist: gone"):
        decode_answer("GetQueueUrl", 400, error)
    with pytest.raises(QueueUnavailable, match="non-JSON"):
        decode_answer("SendMessageBatch", 502, b"<html>bad gateway</html>")


def test_endpoint_for() -> None:
    assert endpoint_for("http://127.0.0.1:9324", "https://x/1/q", "eu-west-1") == (
        "http://127.0.0.1:9324"
    )
    assert endpoint_for(None, "https://sqs.eu-west-1.amazonaws.com/1/q", "us-east-1") == (
        "https://sqs.eu-west-1.amazonaws.com"
    )
    assert endpoint_for(None, None, "eu-west-1") == "https://sqs.eu-west-1.amazonaws.com"


def test_credentials_dummy_only_for_an_endpoint_of_our_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert resolve_credentials("http://127.0.0.1:9324").access_key == "x"
    with pytest.raises(QueueUnavailable, match="no AWS credentials"):
        resolve_credentials(None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert resolve_credentials(None).access_key == "AKIDEXAMPLE"
