"""``cdcbridge sync``: wiring of the sync service (Kafka consumer, engine, adapter, DLQ).

Lifecycle: SIGTERM/SIGINT ask arroyo's ``StreamProcessor`` to stop and cut short every wait
inside a platform call (``stopping``: no call leaves after a stop); the strategy finishes the
batches in flight within ``drain_timeout_s``, commits what is done and the process exits 0
(records consumed but not yet sent are re-read on restart; a rebalance does the same). A
crash (or ``kill -9``) loses nothing: uncommitted records are re-read and re-sent, and the
upserts are idempotent. Several instances in one group share the partitions; each takes a
share of the vendor's per-app rate budget proportional to its partitions.

Exit codes: 0 after a clean stop (records consumed but never sent are re-read on restart: the
message says how many); 2 when stopped by the breaker, a fatal platform error or a failed DLQ
write, or when it cannot start: the vendor lacks properties the mapping writes (``cdcbridge
platform setup`` creates them) or the delete policy has no mechanism there (the message says
which and what to do); 3 when the stop gave up deliveries already under way (their records are
re-read on restart; the message says how many), or when Kafka was unavailable as it stopped.

Kafka outages (a broker restart, a failed commit, a consumer stuck in poll) do not end the
process: ``supervisor.supervise`` rebuilds the consumer and processor (``consumer_attempt``)
after a backoff, and the new consumer re-reads what was not committed.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from random import Random
from types import FrameType

from arroyo.backends.kafka import KafkaPayload
from arroyo.processing import StreamProcessor

from cdcbridge.clock import SYSTEM_CLOCK, Clock
from cdcbridge.errors import FatalError
from cdcbridge.metrics import Metrics, NoOpMetrics
from streams.contracts import (
    COMPANIES,
    FatalPlatformError,
    PlatformAdapter,
    TransientPlatformError,
)
from streams.platform.deletes import DeletePlan
from streams.sync import kafka_boundary
from streams.sync.association_wiring import associating_deliverer
from streams.sync.breaker import InvalidRatioBreaker
from streams.sync.consumer_attempt import Progress, build_processor, run_watched
from streams.sync.deliver import BatchDeliverer, RetryPolicy, VendorMapper
from streams.sync.dlq import DeadLetterSink
from streams.sync.dlq.kafka_sink import KafkaDeadLetterSink
from streams.sync.engine import Decoder, SyncEngine
from streams.sync.engine_config import EngineConfig
from streams.sync.health import SyncHealth
from streams.sync.kafka_guard import KafkaUnavailable
from streams.sync.settings import SyncSettings
from streams.sync.share import partition_share
from streams.sync.stopping import StoppableClock
from streams.sync.strategy import SyncStrategyFactory
from streams.sync.subscription import sync_mappings, sync_topics, total_partitions
from streams.sync.supervisor import RestartBackoff, supervise

log = logging.getLogger(__name__)
DEFAULT_TOPIC = "cdc.public.customers"


@dataclass(frozen=True)
class SyncParts:
    """What the service needs from the rest of the project (real ones from ``default_parts``)."""

    adapter: PlatformAdapter
    decode: Decoder
    to_vendor: VendorMapper  # the one vendor-record builder, with the delete plan's properties
    on_share: Callable[[float], None]
    topics: tuple[str, ...] = ()  # what to consume (empty: CDCBRIDGE_SYNC_TOPIC or customers)
    topic_tables: Mapping[str, str] = field(default_factory=dict)  # topic -> mapped table
    # seconds until the platform's limiter has a token (0.0: now); partial batches wait for it
    ready_in: Callable[[], float] = lambda: 0.0
    # ... until it has a token to spare (two calls could start): partial association batches
    spare_in: Callable[[], float] = lambda: 0.0
    # the consumed tables that write companies (associations default on when there is one)
    company_tables: frozenset[str] = frozenset()


def default_parts(
    settings: SyncSettings, metrics: Metrics, clock: Clock = SYSTEM_CLOCK
) -> SyncParts:
    """The real decoder, vendor-record builder and adapter (imported here, so tests can use
    fakes). ``clock`` is the adapter's: every wait inside a platform call sleeps on it.
    Raises ``UnsupportedDeletePolicy`` when the delete policy has no mechanism there."""
    from streams.mapping.change_decoder import ChangeDecoder
    from streams.mapping.vendor_record import VendorRecordBuilder, record_targets
    from streams.platform import PlatformSettings, build_adapter
    from streams.writeback.outbound import guard_outbound

    platform_settings = PlatformSettings()
    adapter = build_adapter(platform_settings, metrics=metrics, clock=clock)
    limiter = getattr(adapter, "limiter", None)
    on_share: Callable[[float], None] = (
        limiter.set_share if limiter is not None else (lambda _fraction: None)
    )
    mappings = sync_mappings(settings)
    decode: Decoder = ChangeDecoder(mappings).decode
    # The inbound loop's guards: writeback's own changes are not echoed, consent not re-granted.
    adapter, decode = guard_outbound(adapter, decode, platform_settings.platform, metrics)
    deletes = delete_plan(settings, adapter)
    platform = platform_settings.platform
    builder = VendorRecordBuilder(platform, deletes.properties, record_targets(platform, mappings))
    topic_tables = {topic: m.table for m in mappings for topic in m.topics}
    topics = sync_topics(settings, mappings)
    ready_in: Callable[[], float] = limiter.available_in if limiter is not None else (lambda: 0.0)
    spare_in: Callable[[], float] = (
        partial(limiter.available_in, 2.0) if limiter is not None else (lambda: 0.0)
    )
    return SyncParts(
        adapter, decode, builder, on_share,
        topics=topics, topic_tables=topic_tables, ready_in=ready_in, spare_in=spare_in,
        company_tables=frozenset(
            m.table
            for m in mappings
            if m.target.object_type == COMPANIES and set(m.topics) & set(topics)
        ),
    )  # fmt: skip


def missing_properties_problem() -> str | None:
    """Why sync must not start: the vendor lacks properties the mapping writes (every write of
    them would be refused and dead-lettered), or refuses to list them. None when all exist, or
    when the vendor cannot be asked right now (a transient error: the writes will tell)."""
    from streams.platform import PlatformSettings, build_catalog
    from streams.platform.provisioning import missing_properties

    settings = PlatformSettings()
    try:
        missing = missing_properties(build_catalog(settings))
    except FatalPlatformError as exc:
        return f"cannot list the {settings.platform} properties: {exc}"
    except TransientPlatformError as exc:
        log.warning("property check skipped: %s", exc)
        return None
    if not missing:
        return None
    names = ", ".join(p.name for p in missing)
    return (
        f"{settings.platform} lacks properties the mapping writes: {names}. Run "
        f"`cdcbridge platform setup` (creates the custom ones), or set "
        f"CDCBRIDGE_SYNC_PROPERTY_CHECK=false to start anyway (their writes are refused)"
    )


def delete_plan(settings: SyncSettings, adapter: PlatformAdapter) -> DeletePlan:
    """The delete policy resolved for the adapter's vendor. Raises ``UnsupportedDeletePolicy``."""
    plan = DeletePlan.resolve(adapter.name, settings.delete_policy, settings.unsubscribe_properties)
    plan.check(adapter)
    return plan


def _now() -> float:
    return 0.0


def associations_on(settings: SyncSettings, parts: SyncParts) -> bool:
    """``CDCBRIDGE_SYNC_ASSOCIATIONS`` when set, else whether a mapped table writes companies."""
    return bool(parts.company_tables) if settings.associations is None else settings.associations


def build_factory(
    settings: SyncSettings,
    parts: SyncParts,
    dead_letters: DeadLetterSink,
    total_partitions: Callable[[], int],
    clock: Clock,
    metrics: Metrics,
    health: SyncHealth | None = None,
) -> SyncStrategyFactory:
    limits = parts.adapter.limits
    config = EngineConfig(
        max_batch_size=min(settings.max_batch_size or limits.max_batch_size, limits.max_batch_size),
        linger_s=settings.linger_s,
        concurrency=settings.concurrency,
        max_outstanding=settings.max_outstanding,
        delete_policy=settings.delete_policy,
        platform=parts.adapter.name,
        partial_batches_in_flight=settings.partial_batches_in_flight,
        topic_tables=parts.topic_tables,
    )

    deletes = delete_plan(settings, parts.adapter)

    def build_engine(executor: Executor, stop: threading.Event) -> SyncEngine:
        retry = RetryPolicy(settings.retry_base_s, settings.retry_cap_s)
        deliverer: BatchDeliverer
        if associations_on(settings, parts):
            deliverer = associating_deliverer(
                settings, parts.adapter, parts.to_vendor,
                company_tables=parts.company_tables, spare_in=parts.spare_in,
                deletes=deletes, retry=retry, stop=stop, clock=clock, metrics=metrics,
            )  # fmt: skip
        else:
            deliverer = BatchDeliverer(
                parts.adapter, parts.to_vendor, deletes, retry, stop.wait, metrics
            )
        breaker = InvalidRatioBreaker(
            settings.breaker_window_s, settings.breaker_min_records, settings.breaker_ratio
        )
        return SyncEngine(
            config,
            parts.decode,
            parts.to_vendor,
            deliverer,
            dead_letters,
            breaker,
            executor,
            clock,
            metrics,
            ready_in=parts.ready_in if settings.partial_batches_wait_for_token else _now,
        )

    def on_assignment(assigned: int) -> None:
        share = partition_share(assigned, total_partitions())
        log.info("partitions assigned", extra={"assigned": assigned, "rate_share": share})
        if health is not None:
            health.joined()
        if share > 0:
            parts.on_share(share)

    return SyncStrategyFactory(
        build_engine, dead_letters, settings.concurrency, settings.drain_timeout_s, on_assignment
    )


def run_sync(
    settings: SyncSettings,
    parts: SyncParts | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
    metrics: Metrics | None = None,
    stop: threading.Event | None = None,
    health: SyncHealth | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or ``stop``); returns the process exit code. ``health`` (if
    given) is marked on every poll, on joining the group and when stopping."""
    metrics = metrics or NoOpMetrics()
    # Set on SIGTERM/SIGINT/``stop``: waits inside platform calls end at once (StoppableClock).
    stopping = threading.Event()
    try:
        if parts is None:
            parts = default_parts(settings, metrics, StoppableClock(clock, stopping))
            problem = missing_properties_problem() if settings.property_check else None
            if problem is not None:
                log.error(
                    "sync cannot start: %s", problem, extra={"error_class": "MissingProperties"}
                )
                return 2
        delete_plan(settings, parts.adapter)
    except FatalError as exc:  # UnsupportedDeletePolicy
        log.error("sync cannot start: %s", exc, extra={"error_class": type(exc).__name__})
        return 2
    servers = settings.bootstrap_servers
    topics = parts.topics or (settings.topic or DEFAULT_TOPIC,)
    dead_letters = KafkaDeadLetterSink(servers, settings.dlq_topic)
    count = partial(kafka_boundary.partition_count, servers)
    processors: list[StreamProcessor[KafkaPayload]] = []  # the running attempt's (for signals)

    def attempt() -> SyncStrategyFactory:
        """One consumer and processor, watched for a stalled poll (``consumer_attempt``)."""
        factory = build_factory(
            settings, parts, dead_letters, partial(total_partitions, count, topics),
            clock, metrics, health,
        )  # fmt: skip
        progress = Progress(clock)
        processor = build_processor(settings, topics, factory, progress, health)
        processors[:] = [processor]
        if stopping.is_set():  # asked to stop while this attempt was being built
            processor.signal_shutdown()

        def abandon() -> None:
            factory.abandon()
            processor.signal_shutdown()

        run_watched(
            processor.run, progress, settings.poll_stall_s, abandon=abandon, stopping=stopping
        )
        return factory

    def shut_down() -> None:
        stopping.set()
        for processor in processors:
            processor.signal_shutdown()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        if health is not None:
            health.stopping()
        shut_down()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    if stop is not None:

        def stop_when_set(event: threading.Event) -> None:
            event.wait()
            shut_down()

        threading.Thread(target=stop_when_set, args=(stop,), daemon=True).start()
    _start_lag_sampler(settings, topics, metrics, stop)
    log.info("sync starting", extra={"topics": list(topics), "group": settings.group_id})
    try:
        ended = supervise(
            attempt, clock=clock, wait=stopping.wait, backoff=RestartBackoff(Random().random),
            metrics=metrics, stopping=stopping.is_set,
        )  # fmt: skip
    except FatalError as exc:  # BreakerTripped, FatalPlatformError, DeadLetterWriteFailed, ...
        log.error("sync stopped: %s", exc, extra={"error_class": type(exc).__name__})
        return 2
    except KafkaUnavailable as exc:  # while stopping: what was not committed is re-read
        log.warning("sync stopped with Kafka unavailable; uncommitted records will be re-read "
                    "on restart: %s", exc, extra={"error_class": type(exc).__name__})  # fmt: skip
        return 3
    finally:
        dead_letters.flush(settings.drain_timeout_s)
    if ended is None:  # stopped during a restart's backoff: nothing was in flight
        log.info("sync stopped cleanly")
        return 0
    stopped = ended.last_stop
    if stopped.abandoned:
        log.warning(
            "sync stopped, abandoning deliveries under way: %d records will be re-read on "
            "restart (%d whose delivery was given up)",
            stopped.re_read,
            stopped.abandoned,
            extra={"re_read": stopped.re_read, "abandoned": stopped.abandoned},
        )
        return 3
    if stopped.re_read:
        log.info(
            "sync stopped; %d consumed records not yet sent will be re-read on restart",
            stopped.re_read,
            extra={"re_read": stopped.re_read},
        )
    else:
        log.info("sync stopped cleanly")
    return 0


def _start_lag_sampler(
    settings: SyncSettings,
    topics: tuple[str, ...],
    metrics: Metrics,
    stop: threading.Event | None,
) -> None:
    """Export the group's lag as gauges (labelled by topic, so per table) from a daemon thread
    (``cdcbridge lag``'s numbers)."""
    if not settings.lag_sample_interval_s or isinstance(metrics, NoOpMetrics):
        return
    from streams.lag.kafka_reads import read_group
    from streams.lag.sampler import LagSampler

    servers, group = settings.bootstrap_servers, settings.group_id
    read = partial(read_group, servers, group, list(topics), SYSTEM_CLOCK, missing_ok=True)
    LagSampler(read, metrics).start(
        stop or threading.Event(), settings.lag_sample_interval_s, "lag-sampler"
    )
