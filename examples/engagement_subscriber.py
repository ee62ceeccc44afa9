"""Example subscriber: consume ``marketing.engagement.v1`` and decode the Avro values.

Run it (the local stack's Kafka listens on 127.0.0.1:19092):

    .venv/bin/python examples/engagement_subscriber.py --bootstrap-servers 127.0.0.1:19092 \
        --group my-service --from-beginning

Each record's value is schemaless Avro (``schemas/engagement_event.avsc``). There is no Schema
Registry: the writer schema is named by the ``schema_fingerprint`` header, the CRC-64-AVRO
fingerprint of its Parsing Canonical Form (hex). Keep the schema files you know in a dict by
fingerprint and refuse a record written with one you do not know. Delivery is at-least-once:
remove duplicates by the ``event_id`` header. Headers ``trace_id`` and ``source`` come with
every record; the key is the contact identifier (email, else the platform's contact id).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
from confluent_kafka import Consumer, KafkaError
from fastavro.schema import fingerprint, to_parsing_canonical_form

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "engagement_event.avsc"
TOPIC = "marketing.engagement.v1"


@dataclass(frozen=True)
class Engagement:
    key: str
    event: dict[str, Any]
    headers: dict[str, str]


class Decoder:
    """Known writer schemas by fingerprint; decodes record values."""

    def __init__(self, schema_files: list[Path]) -> None:
        self.schemas: dict[str, Any] = {}
        for path in schema_files:
            parsed = fastavro.parse_schema(json.loads(path.read_text()))
            self.schemas[fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO")] = parsed

    def decode(self, value: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """Raises ``KeyError`` for an unknown writer schema."""
        schema = self.schemas[headers["schema_fingerprint"]]
        record = fastavro.schemaless_reader(io.BytesIO(value), schema, schema)
        assert isinstance(record, dict)
        return record


def _headers(raw: object) -> dict[str, str]:
    pairs = raw.items() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    return {str(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in pairs}


def engagements(
    bootstrap_servers: str,
    group_id: str,
    *,
    topic: str = TOPIC,
    from_beginning: bool = False,
    idle_timeout_s: float | None = None,
) -> Iterator[Engagement]:
    """Decoded, de-duplicated events; stops after ``idle_timeout_s`` without records (or never).

    Offsets are committed by the consumer's auto-commit after the event was yielded.
    """
    decoder = Decoder([SCHEMA_FILE])
    consumer = Consumer({
        "bootstrap.servers": bootstrap_servers,
        "group.id": group_id,
        "auto.offset.reset": "earliest" if from_beginning else "latest",
        "enable.auto.offset.store": False,
    })  # fmt: skip
    consumer.subscribe([topic])
    seen: set[str] = set()
    try:
        while True:
            message = consumer.poll(idle_timeout_s if idle_timeout_s is not None else 1.0)
            if message is None:
                if idle_timeout_s is not None:
                    return
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(str(error))
            headers = _headers(message.headers())
            event_id = headers["event_id"]
            if event_id not in seen:  # at-least-once delivery: drop repeats
                seen.add(event_id)
                event = decoder.decode(bytes(message.value() or b""), headers)
                yield Engagement(bytes(message.key() or b"").decode(), event, headers)
            consumer.store_offsets(message)
    finally:
        consumer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:19092")
    parser.add_argument("--group", default="engagement-subscriber-example")
    parser.add_argument("--topic", default=TOPIC)
    parser.add_argument("--from-beginning", action="store_true")
    args = parser.parse_args()
    for item in engagements(
        args.bootstrap_servers, args.group, topic=args.topic, from_beginning=args.from_beginning
    ):
        print(json.dumps({"key": item.key, "headers": item.headers, **item.event}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
