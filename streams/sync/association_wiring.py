"""Wiring of the associating deliverer: the resolver, the offset holds and the timer thread
that sends pending and partial association batches and expires holds once a second.

Invariant: the timer runs until ``stop`` is set; a fatal platform error stops the timer only
(the next batch meets the same error and stops the engine)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from cdcbridge.clock import Clock
from cdcbridge.errors import FatalError
from cdcbridge.metrics import Metrics
from streams.contracts import PlatformAdapter
from streams.platform.deletes import DeletePlan
from streams.sync.association_delivery import AssociatingDeliverer
from streams.sync.association_holds import AssociationHolds
from streams.sync.associations import AssociationResolver
from streams.sync.deliver import RetryPolicy, VendorMapper
from streams.sync.settings import SyncSettings

log = logging.getLogger(__name__)


def associating_deliverer(
    settings: SyncSettings,
    adapter: PlatformAdapter,
    to_vendor: VendorMapper,
    *,
    company_tables: frozenset[str],
    spare_in: Callable[[], float],
    deletes: DeletePlan,
    retry: RetryPolicy,
    stop: threading.Event,
    clock: Clock,
    metrics: Metrics,
) -> AssociatingDeliverer:
    """A deliverer that also keeps contact → company associations; partial association batches
    wait for ``spare_in`` (a token to spare), holds expire after the configured cap."""
    resolver = AssociationResolver(
        clock,
        max_pending=settings.associations_max_pending,
        retry_s=settings.associations_retry_s,
        retry_cap_s=settings.associations_retry_cap_s,
        unknown_company_wait_s=settings.associations_unknown_company_wait_s,
    )
    holds = AssociationHolds(clock, settings.associations_hold_max_s)
    deliverer = AssociatingDeliverer(
        adapter, to_vendor, deletes, retry, stop.wait, metrics,
        resolver=resolver, company_tables=company_tables, holds=holds, ready_in=spare_in,
    )  # fmt: skip

    def tick_until_stopped() -> None:
        while not stop.wait(1.0):
            try:
                deliverer.tick()
                deliverer.expire()
            except FatalError as exc:  # the next batch meets it too and stops the engine
                log.error("association timer stopped: %s", exc)
                return

    threading.Thread(target=tick_until_stopped, name="associations", daemon=True).start()
    return deliverer
