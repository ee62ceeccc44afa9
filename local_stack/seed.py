"""Demo seed data: realistic customers (unicode names, companies, phones, consent), generated
deterministically from a seed so runs are repeatable."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

import psycopg

FIRST = ("Ana", "Björn", "Chloé", "Dmitri", "Eitan", "Fatima", "Giulia", "Hiroshi", "Ingrid",
         "José", "Kwame", "Léa", "Mateo", "Nadia", "Olúwáseun", "Priya", "Søren", "Zoë")
LAST = ("Almeida", "Bergström", "Çelik", "Dubois", "Eriksen", "García", "Håkansson", "Ivanova",
        "Jørgensen", "Kowalski", "Nakamura", "Okafor", "Rossi", "Schröder", "Tanaka", "Ñúñez")
COMPANIES = (("Acme Analytics", "acme.example"), ("Globex", "globex.example"),
             ("Initech", "initech.example"), ("Umbrella Retail", "umbrella.example"),
             ("Stark Logistics", "stark.example"))
STAGES = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
PLANS = (None, "free", "starter", "pro", "enterprise")
COUNTRIES = ("US", "GB", "DE", "FR", "ES", "SE", "JP", "BR", "NG", "IN")


@dataclass(frozen=True)
class SeedResult:
    inserted: int
    first_id: int
    last_id: int


def _customer(rng: random.Random, n: int, run: str) -> tuple[object, ...]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company, _domain = rng.choice(COMPANIES)
    opt_in = rng.random() < 0.6
    phone = f"+1 415 555 {rng.randint(0, 9999):04d}" if rng.random() < 0.7 else None
    ascii_first = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    email = f"{ascii_first.lower()}.{n}.{run}@example.com"
    return (email, first, last, phone, company, rng.choice(STAGES), rng.choice(PLANS),
            round(rng.uniform(0, 5000), 2), opt_in, rng.choice(COUNTRIES))


def ensure_companies(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    for name, domain in COMPANIES:
        conn.execute(
            "INSERT INTO companies (name, domain) SELECT %s, %s "
            "WHERE NOT EXISTS (SELECT 1 FROM companies WHERE name = %s)", (name, domain, name))


INSERT_SQL = (
    "INSERT INTO customers (email, first_name, last_name, phone, company_name, "
    "lifecycle_stage, plan, mrr, marketing_opt_in, country, opt_in_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN now() END)"
)


def customer_rows(rng: random.Random, start: int, stop: int, run: str) -> list[tuple[object, ...]]:
    """Parameters of ``INSERT_SQL`` for generated customers ``start`` .. ``stop - 1`` of ``run``
    (their emails end in ``.{run}@example.com``)."""
    return [(*row, row[8]) for row in (_customer(rng, n, run) for n in range(start, stop))]


def seed(dsn: str, rows: int, *, seed_value: int = 7, run: str = "demo") -> SeedResult:
    """Insert ``rows`` customers in batches of 500 rows per transaction."""
    rng = random.Random(seed_value)
    ids: list[int] = []
    with psycopg.connect(dsn) as conn:
        ensure_companies(conn)
        for start in range(0, rows, 500):
            batch = customer_rows(rng, start, min(rows, start + 500), run)
            with conn.cursor() as cur:
                cur.executemany(INSERT_SQL + " RETURNING id", batch, returning=True)
                while True:
                    fetched = cur.fetchone()
                    if fetched is not None:
                        ids.append(int(str(fetched[0])))
                    if not cur.nextset():
                        break
            conn.commit()
    return SeedResult(inserted=len(ids), first_id=min(ids, default=0), last_id=max(ids, default=0))
