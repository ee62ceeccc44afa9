"""Fixtures of the audit integration tests (see ``audit_harness``)."""

from tests.integration.audit.audit_harness import bridge, pg

__all__ = ["bridge", "pg"]
