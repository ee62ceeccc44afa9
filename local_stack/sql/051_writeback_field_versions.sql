-- The platform values writeback wrote into both-owned customer fields (the newest per field).
-- The outbound sync reads it to drop a stale database value that would overwrite a newer
-- platform change still in the sync lag (streams/writeback/outbound.py).
CREATE TABLE IF NOT EXISTS customer_field_versions (
    customer_key     TEXT NOT NULL,
    field            TEXT NOT NULL,
    db_value         TEXT,            -- what writeback wrote to the column
    vendor_property  TEXT NOT NULL,
    vendor_value     TEXT,            -- what the platform reported
    changed_at       TIMESTAMPTZ NOT NULL,
    event_id         TEXT NOT NULL,
    trace_id         TEXT NOT NULL,
    PRIMARY KEY (customer_key, field)
);
