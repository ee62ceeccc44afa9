"""Health probes of each stack component. Each returns True/False and never raises."""

from __future__ import annotations

import requests
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from local_stack import postgres
from local_stack.layout import StackLayout

DEBEZIUM_CLASS = "io.debezium.connector.postgresql.PostgresConnector"


def http_ok(url: str) -> bool:
    """True when a GET of ``url`` answers 200 within 2 s."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def postgres_up(layout: StackLayout) -> bool:
    return postgres.is_up(layout)


def kafka_up(layout: StackLayout) -> bool:
    admin = AdminClient({"bootstrap.servers": layout.bootstrap_servers, "log_level": 0})
    try:
        metadata = admin.list_topics(timeout=2)
    except KafkaException:
        return False
    return len(metadata.brokers) > 0


def connect_up(layout: StackLayout) -> bool:
    """Connect answers and has loaded the Debezium PostgreSQL plugin."""
    try:
        response = requests.get(f"{layout.connect_url}/connector-plugins", timeout=2)
    except requests.RequestException:
        return False
    if response.status_code != 200:
        return False
    return any(p.get("class") == DEBEZIUM_CLASS for p in response.json())


def sqs_up(layout: StackLayout) -> bool:
    return http_ok(f"{layout.sqs_endpoint}/?Action=ListQueues")


def sandbox_up(layout: StackLayout) -> bool:
    return sandbox_answers(layout.sandbox_url)


def sandbox_answers(url: str) -> bool:
    """The sandbox platform at ``url`` reports itself healthy."""
    return http_ok(f"{url}/admin/health")
