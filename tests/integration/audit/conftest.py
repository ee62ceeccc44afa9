"""Fixtures of the audit integration tests (see ``audit_harness``)."""

from audit_harness import bridge, pg

__all__ = ["bridge", "pg"]
