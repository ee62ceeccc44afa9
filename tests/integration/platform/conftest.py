"""Fixtures of the platform integration tests (see ``tests.fakes.platform_sandbox``)."""

from tests.fakes.platform_sandbox import sandbox, sandbox_server

__all__ = ["sandbox", "sandbox_server"]
