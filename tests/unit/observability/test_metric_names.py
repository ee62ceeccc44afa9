"""The declared list: every name has its spec, Datadog names are valid and unambiguous."""

from __future__ import annotations

import re

import pytest

from cdcbridge.metric_names import METRIC_NAMES, METRICS, Kind, derived_spec

pytestmark = pytest.mark.unit


def test_every_name_has_an_explicit_spec() -> None:
    assert set(METRICS) == set(METRIC_NAMES)


def test_datadog_names_are_valid_and_one_kind_each() -> None:
    kinds: dict[str, Kind] = {}
    for name, spec in METRICS.items():
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", spec.datadog), spec.datadog
        assert kinds.setdefault(spec.datadog, spec.kind) is spec.kind, name
        suffix_kind = (Kind.COUNTER if name.endswith("_total") else Kind.HISTOGRAM
                       if name.endswith(("_seconds", "_records")) else None)  # fmt: skip
        if suffix_kind is not None and spec.kind is not Kind.GAUGE:
            assert spec.kind is suffix_kind, name


def test_a_shared_datadog_name_is_told_apart_by_its_tags() -> None:
    by_name: dict[str, set[tuple[str, ...]]] = {}
    for spec in METRICS.values():
        tags = by_name.setdefault(spec.datadog, set())
        assert spec.datadog_tags not in tags, spec.datadog
        tags.add(spec.datadog_tags)


def test_the_guide_names_exist() -> None:
    names = {spec.datadog for spec in METRICS.values()}
    assert {"api.client.requests.total", "webhook.handler.invocations.success",
            "sqs.queue.depth", "integration.latency.p95"} <= names  # fmt: skip


def test_an_undeclared_spec_is_derived_from_the_name() -> None:
    counter = derived_spec("cdcbridge_platform_retries_total")
    assert (counter.kind, counter.datadog) == (Kind.COUNTER, "cdcbridge.platform.retries")
    assert derived_spec("cdcbridge_retry_wait_seconds").kind is Kind.HISTOGRAM
    assert derived_spec("cdcbridge_breaker_open").kind is Kind.GAUGE
