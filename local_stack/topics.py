"""Create the topics cdcbridge reads and writes before anything subscribes to them.

Debezium creates a table's topic only when the first change arrives, so on a fresh cluster a
consumer (or a consumer group positioned "at the end") would find no topic. Creating them up
front, with the same partition count the connector would use, removes that race. The
replication factor is the broker's default (-1), so this also suits a real cluster.
"""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from local_stack.processes import StackError

CDC_TOPICS = ("cdc.public.customers", "cdc.public.companies")
PRODUCT_TOPICS = ("cdcbridge.sync.dlq", "marketing.engagement.v1")
PARTITIONS = 3


def ensure_topics(bootstrap_servers: str, names: tuple[str, ...] = CDC_TOPICS + PRODUCT_TOPICS,
                  partitions: int = PARTITIONS, timeout_s: float = 30.0) -> list[str]:
    """Create the missing topics; returns the names created now. Raises StackError."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 3})  # errors only
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [n for n in names if n not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(n, num_partitions=partitions, replication_factor=-1) for n in missing],
        operation_timeout=timeout_s, request_timeout=timeout_s)
    created: list[str] = []
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise StackError(f"could not create topic {name}: {exc}") from exc
        created.append(name)
    return created
