"""The Lambda bundle `sam build` makes (scripts/build-lambda.sh) is what AWS runs: import its
handler from the bundle alone, in a clean interpreter, and answer signed API Gateway events
(REST v1 and HTTP API v2, plain and base64 bodies) with ElasticMQ as the queue and the webhook
secrets read from a Secrets Manager endpoint (moto's server) at cold start."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from local_stack.endpoints import StackEndpoints
from local_stack.processes import wait_until
from local_stack.sqs_admin import delete_queue, ensure_queue
from webhook_bridge.queue.sqs import SqsQueue, sqs_client
from webhook_bridge.signatures import sign

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "build" / "lambda" / "ReceiverFunction"
PROBE = Path(__file__).resolve().parent / "lambda_probe.py"
SECRET = "whsec_" + base64.b64encode(b"lambda-bundle-test-secret-01").decode()
REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}

pytestmark = [pytest.mark.artifact, pytest.mark.integration]


@pytest.fixture(scope="module")
def bundle() -> Path:
    subprocess.run(["bash", str(ROOT / "scripts" / "build-lambda.sh")], check=True, cwd=ROOT)
    assert (BUNDLE / "webhook_bridge" / "lambda_handler.py").is_file()
    return BUNDLE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def secrets_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's server on loopback, answering the Secrets Manager API."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H",
                               "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return requests.get(f"{url}/moto-api/", timeout=1).status_code < 500
        except requests.RequestException:
            return False

    try:
        wait_until(answers, 60, "moto's server")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _event(version: int, source: str, body: bytes, headers: dict[str, str],
           base64_body: bool) -> dict[str, Any]:
    payload = base64.b64encode(body).decode() if base64_body else body.decode()
    if version == 1:
        return {
            "resource": "/webhooks/{source}", "path": f"/webhooks/{source}",
            "httpMethod": "POST", "headers": headers, "queryStringParameters": None,
            "pathParameters": {"source": source},
            "requestContext": {"path": f"/v1/webhooks/{source}", "stage": "v1",
                               "domainName": "abc123.execute-api.us-east-1.amazonaws.com"},
            "body": payload, "isBase64Encoded": base64_body,
        }  # fmt: skip
    return {
        "version": "2.0", "routeKey": "POST /webhooks/{source}",
        "rawPath": f"/webhooks/{source}", "rawQueryString": "", "headers": headers,
        "pathParameters": {"source": source},
        "requestContext": {"http": {"method": "POST", "path": f"/webhooks/{source}"},
                           "domainName": "abc123.execute-api.us-east-1.amazonaws.com"},
        "body": payload, "isBase64Encoded": base64_body,
    }  # fmt: skip


def test_bundle_answers_signed_api_gateway_events_and_enqueues_them(
    bundle: Path, stack: StackEndpoints, secrets_endpoint: str
) -> None:
    secrets = boto3.client("secretsmanager", endpoint_url=secrets_endpoint, region_name=REGION,
                           aws_access_key_id="test", aws_secret_access_key="test")
    sources = {"sources": {"sandbox": {"scheme": "standard-webhooks", "secrets": [SECRET]}}}
    arn = secrets.create_secret(Name=f"cdcbridge-sources-{uuid.uuid4().hex[:8]}",
                                SecretString=json.dumps(sources))["ARN"]
    client = sqs_client(stack.sqs_endpoint)
    name = f"lambda-it-{uuid.uuid4().hex[:10]}"
    queue = SqsQueue(client, ensure_queue(client, name))
    cases = [(1, False), (1, True), (2, False), (2, True)]
    ids = [f"msg_{uuid.uuid4().hex}" for _ in cases]
    events = []
    for msg_id, (version, b64) in zip(ids, cases, strict=True):
        body = json.dumps({"type": "contact.email_opened", "timestamp": "2026-01-02T03:04:05Z",
                           "data": {"email": f"{msg_id}@example.com"}}).encode()
        headers = sign("standard-webhooks", secret=SECRET, body=body, msg_id=msg_id)
        events.append(_event(version, "sandbox", body, headers, b64))
    unsigned = _event(2, "sandbox", b"{}", {"content-type": "application/json"}, False)
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": REGION,
           **FAKE_CREDENTIALS,
           "CDCBRIDGE_WEBHOOKS_QUEUE_URL": queue.queue_url,
           "CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT": stack.sqs_endpoint,
           "CDCBRIDGE_WEBHOOKS_SOURCES_SECRET_ID": arn,
           "CDCBRIDGE_WEBHOOKS_SECRETS_ENDPOINT": secrets_endpoint}
    try:
        result = subprocess.run([sys.executable, "-B", "-I", "-S", str(PROBE), str(bundle)],
                                input=json.dumps([*events, unsigned]), capture_output=True,
                                text=True, env=env, cwd=bundle.parent, check=False, timeout=120)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout.splitlines()[-1])
        statuses = [answer["statusCode"] for answer in report["answers"]]
        assert statuses == [202, 202, 202, 202, 401]
        accepted = [json.loads(answer["body"])["webhook_id"] for answer in report["answers"][:4]]
        assert accepted == ids
        assert report["sync_or_kafka_imported"] == []
        assert {"pydantic", "boto3", "webhook_bridge"} <= set(report["modules_from_bundle"])
        seen: list[str] = []

        def all_enqueued() -> bool:
            seen.extend(message.body for message in queue.receive(10, 1))
            return all(any(i in body for body in seen) for i in ids)

        wait_until(all_enqueued, 30, "the four webhooks on the queue")
        print(json.dumps({"lambda_cold_import_s": round(report["import_s"], 3),
                          "lambda_first_calls_s": round(report["calls_s"], 3)}))
    finally:
        delete_queue(client, queue.queue_url)
        delete_queue(client, f"{queue.queue_url}-dlq")
