-- Demo internal schema: what a typical SaaS keeps about its customers.
-- REPLICA IDENTITY FULL on customers so Debezium's "before" image carries the old email
-- (cdcbridge uses it to update a contact in place when the email changes).
CREATE TABLE IF NOT EXISTS companies (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    domain      TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS customers (
    id                  BIGSERIAL PRIMARY KEY,
    email               TEXT NOT NULL,
    first_name          TEXT,
    last_name           TEXT,
    phone               TEXT,
    company_id          BIGINT REFERENCES companies(id),
    company_name        TEXT,
    lifecycle_stage     TEXT NOT NULL DEFAULT 'lead',
    plan                TEXT,
    mrr                 NUMERIC(12, 2),
    marketing_opt_in    BOOLEAN NOT NULL DEFAULT false,
    opt_in_at           TIMESTAMPTZ,
    country             CHAR(2),
    birth_date          DATE,
    attributes          JSONB,
    notes               TEXT,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE customers REPLICA IDENTITY FULL;

CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS customers_touch_updated_at ON customers;
CREATE TRIGGER customers_touch_updated_at BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- Debezium heartbeat target (heartbeat.action.query writes here so the slot advances
-- even when the captured tables are idle).
CREATE TABLE IF NOT EXISTS cdcbridge_heartbeat (
    id   INT PRIMARY KEY,
    ts   TIMESTAMPTZ NOT NULL
);
