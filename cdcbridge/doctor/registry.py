"""The checks ``cdcbridge doctor`` runs, in this order. Add a check here: a function
``(DoctorContext) -> list[CheckResult]`` (see ``model``) that answers FAIL with a fix rather
than raising when what it checks is broken."""

from __future__ import annotations

from cdcbridge.doctor.config_checks import check_configuration
from cdcbridge.doctor.kafka_checks import check_kafka
from cdcbridge.doctor.model import Check
from cdcbridge.doctor.postgres_checks import check_postgres
from cdcbridge.doctor.service_checks import (
    check_connector,
    check_platform,
    check_platform_properties,
    check_queues,
)

CHECKS: tuple[Check, ...] = (
    check_configuration,
    check_kafka,
    check_connector,
    check_postgres,
    check_platform,
    check_platform_properties,
    check_queues,
)
