"""The stack from ``docker-compose.yml`` through testcontainers, for machines with a Docker
engine (our users' laptops). It publishes the same host ports as the local stack, so the same
health checks and endpoints apply. Our own machines and CI have no engine and never use this.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from local_stack import health
from local_stack.endpoints import StackEndpoints, from_layout
from local_stack.layout import PROJECT_ROOT, StackLayout
from local_stack.processes import wait_until

INFRA_SERVICES = ["postgres", "kafka", "connect", "sqs", "sandbox"]


def testcontainers_available() -> bool:
    try:
        import testcontainers.compose  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def container_stack(timeout_s: float = 300) -> Iterator[StackEndpoints]:
    """Start the infrastructure services of docker-compose.yml, wait for health, tear down."""
    from testcontainers.compose import DockerCompose

    compose = DockerCompose(context=str(PROJECT_ROOT), compose_file_name="docker-compose.yml",
                            build=True, wait=False, services=INFRA_SERVICES)
    layout = StackLayout.default()
    compose.start()
    try:
        for name, check in (("postgres", health.postgres_up), ("kafka", health.kafka_up),
                            ("connect", health.connect_up), ("sqs", health.sqs_up),
                            ("sandbox", health.sandbox_up)):
            wait_until(functools.partial(check, layout), timeout_s, f"container {name}")
        yield StackEndpoints(**{**from_layout(layout).__dict__, "origin": "testcontainers"})
    finally:
        compose.stop()
