"""Inbound writeback: engagement events from Kafka into PostgreSQL, exactly once, no echo."""
