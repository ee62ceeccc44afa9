"""``kafka_guard``: librdkafka errors become ``KafkaUnavailable`` (transient) or
``KafkaRefused`` (fatal), whichever way arroyo hands them over."""

from __future__ import annotations

from typing import Any

import pytest
from arroyo.errors import ConsumerError, TransportError
from arroyo.utils.retries import BasicRetryPolicy, RetryException
from confluent_kafka import KafkaError, KafkaException

from cdcbridge.errors import FatalError, TransientError
from streams.sync.kafka_guard import (
    ConsumerStalled,
    GuardedConsumer,
    KafkaRefused,
    KafkaUnavailable,
    failure_for,
    translated,
)

pytestmark = pytest.mark.unit

K = KafkaError
UNAVAILABLE = [K._TRANSPORT, K._ALL_BROKERS_DOWN, K._WAIT_COORD, K.COORDINATOR_NOT_AVAILABLE,
               K.NOT_COORDINATOR, K.REQUEST_TIMED_OUT, K.UNKNOWN_MEMBER_ID,
               K.ILLEGAL_GENERATION, K.REBALANCE_IN_PROGRESS, K._MAX_POLL_EXCEEDED]  # fmt: skip
REFUSED = [K.TOPIC_AUTHORIZATION_FAILED, K.GROUP_AUTHORIZATION_FAILED,
           K.SASL_AUTHENTICATION_FAILED, K.UNKNOWN_TOPIC_OR_PART, K._UNKNOWN_TOPIC,
           K._INVALID_ARG, K.INVALID_CONFIG, K._FATAL]  # fmt: skip


def test_the_failure_roots() -> None:
    assert issubclass(KafkaUnavailable, TransientError)
    assert issubclass(ConsumerStalled, KafkaUnavailable)
    assert issubclass(KafkaRefused, FatalError)
    reasons = (KafkaUnavailable.reason, ConsumerStalled.reason)
    assert reasons == ("kafka_unavailable", "poll_stalled")


@pytest.mark.parametrize("code", UNAVAILABLE)
def test_broker_coordinator_and_membership_errors_are_unavailable(code: int) -> None:
    assert type(failure_for(KafkaError(code))) is KafkaUnavailable


@pytest.mark.parametrize("code", REFUSED)
def test_authorization_topic_and_config_errors_are_refused(code: int) -> None:
    assert type(failure_for(KafkaError(code))) is KafkaRefused


def test_an_error_librdkafka_marks_fatal_is_refused_whatever_its_code() -> None:
    assert type(failure_for(KafkaError(K._TRANSPORT, "x", fatal=True))) is KafkaRefused


def test_a_commit_that_failed_arroyos_retries_is_unavailable() -> None:
    def commit() -> None:
        raise KafkaException(KafkaError(K._WAIT_COORD))

    with pytest.raises(KafkaUnavailable) as caught, translated():
        BasicRetryPolicy(3, None, lambda _e: True).call(commit)
    assert isinstance(caught.value.__cause__, RetryException)
    assert "_WAIT_COORD" in str(caught.value)


def test_a_poll_error_arroyo_kept_only_as_text_is_mapped_by_its_code() -> None:
    for code, expected in ((K._ALL_BROKERS_DOWN, KafkaUnavailable),
                           (K.TOPIC_AUTHORIZATION_FAILED, KafkaRefused)):  # fmt: skip
        with pytest.raises(expected), translated():
            raise ConsumerError(str(KafkaError(code)))


def test_recoverable_and_codeless_errors_pass_through_unchanged() -> None:
    with pytest.raises(TransportError), translated():
        raise TransportError(str(KafkaError(K._TRANSPORT)))  # arroyo's processor skips it
    with pytest.raises(ConsumerError) as caught, translated():
        raise ConsumerError("cannot stage offsets for unassigned partitions")
    assert type(caught.value) is ConsumerError
    with pytest.raises(ValueError), translated():
        raise ValueError("not Kafka's")


class FakeConsumer:
    member_id = "m-1"

    def __init__(self) -> None:
        self.polls: list[Any] = [None, KafkaException(KafkaError(K.UNKNOWN_MEMBER_ID))]

    def poll(self, timeout: float | None = None) -> Any:
        answer = self.polls.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def commit_offsets(self) -> None:
        raise KafkaException(KafkaError(K.GROUP_AUTHORIZATION_FAILED))


def test_the_guarded_consumer_translates_every_call_and_beats_on_every_poll() -> None:
    beats: list[int] = []
    consumer = GuardedConsumer(FakeConsumer(), lambda: beats.append(1))
    assert consumer.poll(1.0) is None
    with pytest.raises(KafkaUnavailable):
        consumer.poll(1.0)
    assert len(beats) == 2  # a poll that raised still returned: not stuck
    with pytest.raises(KafkaRefused):
        consumer.commit_offsets()
    assert consumer.member_id == "m-1"
