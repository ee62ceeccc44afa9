from __future__ import annotations

import random

import pytest

from streams.contracts import (
    CustomerDelete,
    CustomerUpsert,
    FatalPlatformError,
    KafkaPosition,
    SyncMeta,
    TransientPlatformError,
)
from streams.platform.deletes import DeletePlan
from streams.sync.coalesce import PendingChange, SourceRecord
from streams.sync.deliver import BatchDeliverer, DeliveryAbandoned, RetryPolicy
from streams.sync.settings import DeletePolicy
from streams.sync.stopping import StopRequested
from tests.fakes.sync import FakeAdapter, fake_to_vendor
from tests.unit.sync.sync_wiring import vendor_builder

pytestmark = pytest.mark.unit

META = SyncMeta("customers", 1, "meta-trace")


def entry(key: str, change: CustomerUpsert | CustomerDelete | None = None) -> PendingChange:
    # the change carries its record's trace id (the engine makes it so: one source of truth)
    meta = SyncMeta("customers", 1, f"trace-{key}")
    change = change or CustomerUpsert(key, {"email": f"{key}@x"}, meta)
    record = SourceRecord(KafkaPosition("t", 0, 1), None, None, change.meta.trace_id)
    return PendingChange(("customers", key), change, [record], 0.0)


class Waits:
    def __init__(self, stop_after: int | None = None) -> None:
        self.delays: list[float] = []
        self.stop_after = stop_after

    def __call__(self, delay: float) -> bool:
        self.delays.append(delay)
        return self.stop_after is not None and len(self.delays) >= self.stop_after


def deliverer(
    adapter: FakeAdapter, waits: Waits, policy: DeletePolicy = DeletePolicy.ARCHIVE
) -> BatchDeliverer:
    plan = DeletePlan.resolve("fake", policy, {"unsubscribed": True})
    return BatchDeliverer(adapter, vendor_builder(plan), plan, RetryPolicy(0.1, 5.0), waits)


def test_records_carry_the_entry_trace_id_to_the_adapter() -> None:
    adapter = FakeAdapter()
    results = deliverer(adapter, Waits()).deliver([entry("a"), entry("b")])
    assert [r.error_class for r in results] == [None, None]
    assert [r.trace_id for r in adapter.calls[0][1]] == ["trace-a", "trace-b"]
    assert adapter.call_trace_ids == ["trace-a"]  # the request header's trace id


def test_transient_failure_retries_honouring_retry_after() -> None:
    adapter = FakeAdapter()
    adapter.failures = [TransientPlatformError("429", retry_after=2.0)]
    waits = Waits()
    results = deliverer(adapter, waits).deliver([entry("a")])
    assert results[0].error_class is None
    assert len(adapter.calls) == 2
    assert waits.delays[0] >= 2.0


def test_only_records_answered_retry_are_sent_again() -> None:
    adapter = FakeAdapter()
    adapter.retry_once_keys = {"b"}
    deliverer(adapter, Waits()).deliver([entry("a"), entry("b")])
    assert [[r.key for r in records] for _, records in adapter.calls] == [["a", "b"], ["b"]]


def test_vendor_reject_and_mapping_error_are_invalid_results() -> None:
    adapter = FakeAdapter()
    adapter.reject_keys = {"a"}
    bad = entry("c", CustomerUpsert("c", {"email": "unmappable"}, META))
    results = {r.entry.key[1]: r for r in deliverer(adapter, Waits()).deliver([entry("a"), bad])}
    assert results["a"].error_class == "VendorRejected"
    assert "400" in results["a"].error_message
    assert results["c"].error_class == "InvalidRecord"


def test_stop_while_retrying_abandons_the_batch() -> None:
    adapter = FakeAdapter()
    adapter.failures = [TransientPlatformError("503")] * 3
    with pytest.raises(DeliveryAbandoned):
        deliverer(adapter, Waits(stop_after=1)).deliver([entry("a")])


def test_a_stop_that_cut_a_call_short_abandons_the_batch_without_retrying() -> None:
    """Once the service is stopping no platform call starts (``StoppableClock``): a batch
    whose call was refused for that is abandoned at once (re-read after the restart), not
    retried with backoff until the drain deadline (which made every such stop take 10 s)."""
    adapter = FakeAdapter()
    adapter.failures = [StopRequested("the service is stopping: wait abandoned")] * 3
    waits = Waits()
    with pytest.raises(DeliveryAbandoned):
        deliverer(adapter, waits).deliver([entry("a")])
    assert waits.delays == [] and len(adapter.calls) == 1


def test_fatal_error_propagates() -> None:
    adapter = FakeAdapter()
    adapter.failures = [FatalPlatformError("401 with a well-formed token")]
    with pytest.raises(FatalPlatformError):
        deliverer(adapter, Waits()).deliver([entry("a")])


def test_delete_policy_archive_calls_archive() -> None:
    adapter = FakeAdapter()
    deliverer(adapter, Waits()).deliver([entry("a", CustomerDelete("a", "a@x", META))])
    assert adapter.calls[0][0] == "archive"
    assert adapter.archived == {"a"}


def test_delete_policy_unsubscribe_updates_the_unsubscribe_properties() -> None:
    adapter = FakeAdapter()
    waits = Waits()
    deliverer(adapter, waits, DeletePolicy.UNSUBSCRIBE).deliver(
        [entry("a", CustomerDelete("a", "a@x", META))]
    )
    assert adapter.calls[0][0] == "field_update"  # an update of what exists, never an upsert
    assert adapter.contacts["a"] == {"unsubscribed": True}


def test_delete_without_email_is_invalid() -> None:
    results = deliverer(FakeAdapter(), Waits()).deliver(
        [entry("a", CustomerDelete("a", None, META))]
    )
    assert results[0].error_class == "InvalidRecord"


def test_backoff_is_capped_with_jitter() -> None:
    policy = RetryPolicy(base_s=1.0, cap_s=4.0)
    delays = [policy.delay(attempt, None) for attempt in range(10) for _ in range(20)]
    assert max(delays) <= 4.0
    assert policy.delay(0, 100.0) == 4.0


def test_the_same_seed_replays_the_same_backoff() -> None:
    def delays(seed: int) -> list[float]:
        adapter = FakeAdapter()
        adapter.failures = [TransientPlatformError("503") for _ in range(4)]
        waits = Waits()
        plan = DeletePlan.resolve("fake", DeletePolicy.ARCHIVE, {})
        retry = RetryPolicy(0.1, 5.0, random.Random(seed))
        BatchDeliverer(adapter, fake_to_vendor, plan, retry, waits).deliver([entry("a")])
        return waits.delays

    assert len(delays(7)) == 4
    assert delays(7) == delays(7)
    assert delays(7) != delays(8)


def test_a_retry_carries_the_changes_refresh_folded_in() -> None:
    adapter = FakeAdapter()
    adapter.failures = [TransientPlatformError("503")]
    newer = CustomerUpsert("a", {"email": "a@x", "plan": "pro"}, META)

    def refresh(pending: PendingChange) -> int:
        if pending.change == newer:
            return 0
        pending.change, pending.vendor = newer, None
        pending.records.append(SourceRecord(KafkaPosition("t", 0, 2), None, None, "trace-a2"))
        return 1

    (result,) = deliverer(adapter, Waits()).deliver([entry("a")], refresh)
    assert result.error_class is None and len(result.entry.records) == 2
    first, retry = (records for _, records in adapter.calls)
    assert "pro" not in str(first[0].properties) and "pro" in str(retry[0].properties)
