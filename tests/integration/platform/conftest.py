"""Fixtures of the platform integration tests (see ``sandbox_harness``)."""

from tests.integration.platform.sandbox_harness import sandbox, sandbox_server

__all__ = ["sandbox", "sandbox_server"]
