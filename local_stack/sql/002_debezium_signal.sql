-- Debezium's signalling table (connector setting signal.data.collection=public.debezium_signal):
-- `cdcbridge backfill` and `cdcbridge audit --repair` insert execute-snapshot signals here, and
-- the connector writes its incremental-snapshot watermarks here. Columns in Debezium's order;
-- `data` is TEXT so a repair's id list is not cut at 2048 characters.
CREATE TABLE IF NOT EXISTS debezium_signal (
    id    VARCHAR(42) PRIMARY KEY,
    type  VARCHAR(32) NOT NULL,
    data  TEXT NULL
);
