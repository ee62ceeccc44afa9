-- Inbound writeback (streams/writeback, mapping schemas/mappings/writeback.yaml).
-- Table and column names here must match the mapping file.

-- Every engagement event, once: the primary key is the dedupe key.
CREATE TABLE IF NOT EXISTS engagement_events (
    source_platform      TEXT NOT NULL,
    event_id             TEXT NOT NULL,
    type                 TEXT NOT NULL,
    email                TEXT,
    platform_contact_id  TEXT,
    source_id            TEXT,
    customer_key         TEXT,            -- NULL until matched to a customer (kept meanwhile)
    occurred_at          TIMESTAMPTZ NOT NULL,
    received_at          TIMESTAMPTZ NOT NULL,  -- when our receiver accepted the webhook
    written_at           TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    applied_at           TIMESTAMPTZ,     -- when its state was applied to the customer
    attributes           JSONB NOT NULL DEFAULT '{}'::jsonb,
    trace_id             TEXT NOT NULL,
    kafka_topic          TEXT NOT NULL,
    kafka_partition      INT NOT NULL,
    kafka_offset         BIGINT NOT NULL,
    PRIMARY KEY (source_platform, event_id)
);
CREATE INDEX IF NOT EXISTS engagement_events_unmatched
    ON engagement_events (written_at) WHERE customer_key IS NULL;
CREATE INDEX IF NOT EXISTS engagement_events_customer ON engagement_events (customer_key);

-- Records on the topic that are not engagement events: kept with the reason, never lost.
CREATE TABLE IF NOT EXISTS engagement_events_rejected (
    kafka_topic      TEXT NOT NULL,
    kafka_partition  INT NOT NULL,
    kafka_offset     BIGINT NOT NULL,
    record_key       BYTEA,
    record_value     BYTEA,
    reason           TEXT NOT NULL,
    rejected_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (kafka_topic, kafka_partition, kafka_offset)
);

-- Per-customer engagement state (platform-owned; never sent back out).
CREATE TABLE IF NOT EXISTS customer_engagement (
    customer_key              TEXT PRIMARY KEY,
    last_engaged_at           TIMESTAMPTZ,
    counters                  JSONB NOT NULL DEFAULT '{}'::jsonb,
    consent_withdrawn_at      TIMESTAMPTZ,
    consent_withdrawn_source  TEXT,
    consent_event_id          TEXT,
    consent_trace_id          TEXT,
    updated_at                TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);

-- Kafka offsets of writeback, committed in the same transaction as the rows.
CREATE TABLE IF NOT EXISTS cdcbridge_writeback_offsets (
    consumer_group   TEXT NOT NULL,
    topic            TEXT NOT NULL,
    kafka_partition  INT NOT NULL,
    next_offset      BIGINT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer_group, topic, kafka_partition)
);

-- No-echo marker: writeback sets it in the same UPDATE that withdraws consent; any other
-- UPDATE that leaves it untouched clears it (trigger below), so a non-NULL marker in a
-- Debezium after-image means "this row change was made by writeback" and the outbound sync
-- skips it. Not mapped to the platform.
ALTER TABLE customers ADD COLUMN IF NOT EXISTS cdcbridge_writeback_id TEXT;

CREATE OR REPLACE FUNCTION cdcbridge_clear_writeback_marker() RETURNS trigger AS $$
BEGIN
    IF NEW.cdcbridge_writeback_id IS NOT DISTINCT FROM OLD.cdcbridge_writeback_id THEN
        NEW.cdcbridge_writeback_id := NULL;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS customers_clear_writeback_marker ON customers;
CREATE TRIGGER customers_clear_writeback_marker BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION cdcbridge_clear_writeback_marker();
