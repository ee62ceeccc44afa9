"""The sync consumer's Kafka failures in the project's vocabulary (``cdcbridge.errors``).

``GuardedConsumer`` wraps the arroyo consumer (``kafka_boundary.build_sync_consumer``, itself
over confluent-kafka's ``Consumer``): every call goes through, and what it raises is translated
by the librdkafka error code (``KafkaError``) it carries. The mapping:

- ``KafkaUnavailable`` (transient: the supervisor rebuilds the consumer after a backoff and
  re-reads from the committed offsets): a failed commit (arroyo's ``RetryException`` after its
  3 tries, or a commit refused because the member lost its generation), a broker or
  coordinator that cannot be reached (``_TRANSPORT``, ``_ALL_BROKERS_DOWN``, ``_WAIT_COORD``,
  ``COORDINATOR_NOT_AVAILABLE``, ``NOT_COORDINATOR``, ``COORDINATOR_LOAD_IN_PROGRESS``,
  ``NETWORK_EXCEPTION``, ``_TIMED_OUT``, ``REQUEST_TIMED_OUT``, ``_RESOLVE``), a lost group
  membership (``UNKNOWN_MEMBER_ID``, ``ILLEGAL_GENERATION``, ``REBALANCE_IN_PROGRESS``,
  ``_MAX_POLL_EXCEEDED``, ``_STATE``), and any other code librdkafka calls retriable or this
  table does not name (a rebuild is cheap and loses nothing).
- ``KafkaRefused`` (fatal: the service stops with exit code 2): authorization and
  authentication (``TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED``,
  ``SASL_AUTHENTICATION_FAILED``, ``_AUTHENTICATION``, ``_SSL``), a topic or partition that does
  not exist (``UNKNOWN_TOPIC_OR_PART``, ``_UNKNOWN_TOPIC``, ``_UNKNOWN_PARTITION``), a
  configuration librdkafka refuses (``_INVALID_ARG``, ``INVALID_CONFIG``, ``INVALID_GROUP_ID``,
  ``_NOT_IMPLEMENTED``, ``_UNSUPPORTED_FEATURE``), and every error librdkafka marks fatal
  (``_FATAL``, ``_FENCED``, ``FENCED_INSTANCE_ID``).

arroyo's ``RecoverableError`` (a ``_TRANSPORT`` error on poll, which its processor skips while
librdkafka reconnects) passes through unchanged, as does an arroyo ``ConsumerError`` that
carries no Kafka error code (a programming error). Below the domain, like ``kafka_boundary``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from arroyo.errors import ConsumerError, RecoverableError
from arroyo.utils.retries import RetryException
from confluent_kafka import KafkaError, KafkaException

from cdcbridge.errors import FatalError, TransientError

__all__ = ["GuardedConsumer", "KafkaRefused", "KafkaUnavailable", "failure_for", "translated"]

_K = KafkaError
REFUSED_CODES: frozenset[int] = frozenset({
    _K.TOPIC_AUTHORIZATION_FAILED, _K.GROUP_AUTHORIZATION_FAILED,
    _K.CLUSTER_AUTHORIZATION_FAILED, _K.SASL_AUTHENTICATION_FAILED, _K._AUTHENTICATION, _K._SSL,
    _K.UNKNOWN_TOPIC_OR_PART, _K._UNKNOWN_TOPIC, _K._UNKNOWN_PARTITION,
    _K._INVALID_ARG, _K.INVALID_CONFIG, _K.INVALID_GROUP_ID, _K._NOT_IMPLEMENTED,
    _K._UNSUPPORTED_FEATURE, _K._FATAL, _K._FENCED, _K.FENCED_INSTANCE_ID,
})  # fmt: skip
_CODE_IN_TEXT = re.compile(r"code=(-?\w+)")


class KafkaUnavailable(TransientError):
    """Kafka cannot serve the consumer now (broker or coordinator away, commit failed,
    membership lost): rebuild the consumer after a backoff; uncommitted records are re-read."""

    reason = "kafka_unavailable"
    """The ``reason`` label of ``cdcbridge_sync_consumer_restarts_total``."""


class ConsumerStalled(KafkaUnavailable):
    """The consumer made no progress (no poll returned) for the watchdog's limit."""

    reason = "poll_stalled"


class KafkaRefused(FatalError):
    """Kafka refuses the consumer for good (authorization, unknown topic, bad configuration)."""


def failure_for(error: KafkaError) -> KafkaUnavailable | KafkaRefused:
    """The project failure for one librdkafka error (the mapping in the module docstring)."""
    text = f"{error.name()}: {error.str()}"
    if error.code() in REFUSED_CODES or error.fatal():
        return KafkaRefused(text)
    return KafkaUnavailable(text)


def _code_of(text: str) -> int | None:
    """The error code in the text of a ``KafkaError`` (arroyo keeps only ``str(error)``)."""
    found = _CODE_IN_TEXT.search(text)
    if found is None:
        return None
    name = found.group(1)
    if name.lstrip("-").isdigit():
        return int(name)
    code = getattr(KafkaError, name, None)
    return code if isinstance(code, int) else None


def _translate(exc: Exception) -> KafkaUnavailable | KafkaRefused | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return failure_for(exc.args[0])
    if isinstance(exc, RetryException):
        cause = exc.__cause__
        found = _translate(cause) if isinstance(cause, Exception) else None
        return found or KafkaUnavailable(f"commit failed after retries: {cause!r}")
    if isinstance(exc, ConsumerError) and not isinstance(exc, RecoverableError):
        code = _code_of(str(exc))
        return None if code is None else failure_for(KafkaError(code, str(exc)))
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Raise ``KafkaUnavailable`` / ``KafkaRefused`` for a Kafka error raised inside; anything
    else (including arroyo's ``RecoverableError``) goes through unchanged."""
    try:
        yield
    except (KafkaException, RetryException, ConsumerError) as exc:
        failure = _translate(exc)
        if failure is None:
            raise
        raise failure from exc


class GuardedConsumer:
    """An arroyo consumer whose every method raises the project's failures (``translated``);
    ``on_progress`` runs each time ``poll`` returns or raises (the stall watchdog's beat)."""

    def __init__(self, consumer: Any, on_progress: Callable[[], None] = lambda: None) -> None:
        self.__consumer = consumer
        self.__on_progress = on_progress

    def poll(self, timeout: float | None = None) -> Any:
        try:
            with translated():
                return self.__consumer.poll(timeout)
        finally:
            self.__on_progress()  # returned, with a record, nothing or an error: not stuck

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.__consumer, name)
        if not callable(attribute):
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            with translated():
                return attribute(*args, **kwargs)

        return guarded
