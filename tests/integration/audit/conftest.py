"""Fixtures of the audit integration tests (see ``tests.fakes.audit_bridge``; ``pg`` comes from
``tests/conftest.py``)."""

from tests.fakes.audit_bridge import bridge, sync_env

__all__ = ["bridge", "sync_env"]
