"""Steady load in both directions for the fault suite.

``OutboundLoad`` writes PostgreSQL ``customers`` rows at a steady rate (new rows and updates of
rows it wrote before) plus a heartbeat row whose ``first_name`` carries the write time, so the
platform's copy of that row says how stale the platform is. ``WebhookLoad`` posts distinct
signed webhooks at a steady rate (at most ``IN_FLIGHT`` requests at once) and retries 503s and
transport errors as a sender would.
Both keep going through the faults: a write that fails (PostgreSQL restarting) is retried on a
new connection; what the database holds at the end is what the audit compares.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time

import httpx
import psycopg

from webhook_bridge.signatures import sign

IN_FLIGHT = 64
"""Requests the webhook sender has in flight at most, as a real sender's pool would. Without a
bound, the hundreds of retries a 503 burst queues at once leak httpcore pool connections
(httpx 0.28 / httpcore 1.0.x: a request cancelled while waiting for a pool slot), and the
sender, not the receiver, stalls until its timeout."""


class OutboundLoad:
    """``rate`` row changes per second into ``customers``, emails ``<tag>-<n>@example.com``."""

    TICKS_PER_S = 10

    def __init__(self, dsn: str, tag: str, rate: int, seed: int = 17) -> None:
        self.dsn, self.tag, self.rate = dsn, tag, rate
        self.heartbeat_email = f"{tag}-heartbeat@example.com"
        self.rng = random.Random(seed)
        self.inserted = 0
        self.ids: list[int] = []
        self.heartbeat_id: int | None = None
        self.updates = 0
        self.failed_writes = 0
        self.last_heartbeat_ms = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.__run, name="outbound-load", daemon=True)

    def start(self) -> OutboundLoad:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(60)

    def __run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        per_tick = max(self.rate // self.TICKS_PER_S, 1)
        started = time.monotonic()
        tick = 0
        while not self.stop_event.is_set():
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=2)
                self.__tick(conn, per_tick, tick)
                tick += 1
            except psycopg.OperationalError:
                self.failed_writes += 1
                conn = None
            self.stop_event.wait(max(started + tick / self.TICKS_PER_S - time.monotonic(), 0.02))
        if conn is not None:
            conn.close()

    def __tick(self, conn: psycopg.Connection[tuple[object, ...]], count: int, tick: int) -> None:
        updates = count * 2 // 5 if len(self.ids) > 20 else 0
        inserts = count - updates
        first = self.inserted + 1
        self.inserted += inserts  # numbers reserved first: an insert whose answer was lost
        rows = conn.execute(  # may have committed, and no email may be written twice
            "INSERT INTO customers (email, first_name, last_name, plan, country, mrr) "
            "SELECT %s || '-' || g || '@example.com', 'f' || g, 'load', 'p' || (g %% 5), 'de',"
            " g + 0.5 FROM generate_series(%s::int, %s::int) g RETURNING id",
            (self.tag, first, self.inserted),
        ).fetchall()
        self.ids += [int(str(row[0])) for row in rows]
        for _ in range(updates):
            conn.execute(
                "UPDATE customers SET first_name = %s, mrr = mrr + 1 WHERE id = %s",
                (f"u{tick}", self.rng.choice(self.ids)),
            )
            self.updates += 1
        if tick % (self.TICKS_PER_S // 2) == 0:
            self.__heartbeat(conn)

    def __heartbeat(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        now_ms = int(time.time() * 1000)
        if self.heartbeat_id is None:
            row = conn.execute(
                "INSERT INTO customers (email, first_name, last_name) "
                "VALUES (%s, %s, 'heartbeat') RETURNING id",
                (self.heartbeat_email, f"hb{now_ms}"),
            ).fetchone()
            assert row is not None
            self.heartbeat_id = int(str(row[0]))
        else:
            conn.execute(
                "UPDATE customers SET first_name = %s WHERE id = %s",
                (f"hb{now_ms}", self.heartbeat_id),
            )
        self.last_heartbeat_ms = now_ms


def signed_webhook(secret: str, msg_id: str) -> tuple[bytes, dict[str, str]]:
    """A Standard Webhooks engagement of the sandbox source, signed with ``secret``."""
    body = json.dumps({
        "type": "contact.email_opened", "timestamp": "2026-01-02T03:04:05Z",
        "data": {"email": f"{msg_id}@example.com", "contact_id": msg_id},
    }).encode()  # fmt: skip
    headers = sign("standard-webhooks", secret=secret, body=body, msg_id=msg_id)
    return body, headers | {"content-type": "application/json"}


class WebhookLoad:
    """``rate`` distinct webhooks per second to ``url``; each is retried (503, transport error)
    every 0.5 s, signed again each time, until answered 202 or ``give_up_s`` after the load
    stopped."""

    def __init__(self, url: str, secret: str, prefix: str, rate: int) -> None:
        self.url, self.secret, self.prefix, self.rate = url, secret, prefix, rate
        self.created: dict[str, float] = {}  # event id -> wall-clock time it was first sent
        self.accepted: set[str] = set()
        self.answers_503 = 0
        self.refused: dict[str, int] = {}
        self.stop_event = threading.Event()
        self.give_up_at = float("inf")
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.__run()), name="webhook-load", daemon=True
        )

    def start(self) -> WebhookLoad:
        self.thread.start()
        return self

    def stop(self, give_up_s: float = 240) -> None:
        """Stop creating webhooks; the ones not accepted yet keep being retried."""
        self.give_up_at = time.monotonic() + give_up_s
        self.stop_event.set()

    def join(self) -> None:
        self.thread.join(max(self.give_up_at - time.monotonic(), 0) + 30)

    def pending(self) -> int:
        return len(self.created) - len(self.accepted) - len(self.refused)

    async def __run(self) -> None:
        tasks: list[asyncio.Task[None]] = []
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=32)
        in_flight = asyncio.Semaphore(IN_FLIGHT)
        async with httpx.AsyncClient(timeout=10, limits=limits) as client:
            started = time.monotonic()
            n = 0
            while not self.stop_event.is_set():
                msg_id = f"{self.prefix}_{n}"
                self.created[msg_id] = time.time()
                tasks.append(asyncio.create_task(self.__send(client, in_flight, msg_id)))
                n += 1
                await asyncio.sleep(max(started + n / self.rate - time.monotonic(), 0))
            await asyncio.gather(*tasks)

    async def __send(
        self, client: httpx.AsyncClient, in_flight: asyncio.Semaphore, msg_id: str
    ) -> None:
        while time.monotonic() < self.give_up_at:
            # signed per attempt, as Standard Webhooks senders do: a retry carries the time it
            # was sent, so a long outage never pushes it past the receiver's 5-minute tolerance
            body, headers = signed_webhook(self.secret, msg_id)
            try:
                async with in_flight:
                    answer = await client.post(
                        f"{self.url}/webhooks/sandbox", content=body, headers=headers
                    )
            except httpx.TransportError:
                await asyncio.sleep(0.5)  # a sender's retry pause
                continue
            if answer.status_code == 202:
                self.accepted.add(msg_id)
                return
            if answer.status_code != 503:
                self.refused[msg_id] = answer.status_code
                return
            self.answers_503 += 1
            await asyncio.sleep(0.5)  # a sender's retry pause
