"""cdcbridge: two-way, real-time sync between PostgreSQL and a marketing platform."""

__version__ = "0.1.0"
