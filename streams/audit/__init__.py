"""The data audit: read the platform back and prove it holds what the database says.

``cdcbridge audit`` samples source rows (``sampling``), maps them through the sync's own decoder
and vendor mapping (``source_rows``), reads the same contacts back with the adapter's batch read
(through the shared rate limiter, at a share of the budget), compares property by property with
the platform's normalisation (``compare``), re-checks mismatches once the sync has caught up
(``settle``), checks recent deletes against the delete policy (``deletes``) and reports
(``report``). ``--repair`` and ``cdcbridge backfill`` re-send rows through the normal sync path
with a Debezium incremental snapshot (``snapshot_signal``).
"""
