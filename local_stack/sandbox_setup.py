"""Run ``cdcbridge platform setup`` against a sandbox: the custom properties our mappings write
exist there as they must in a real portal (the sandbox refuses writes of unknown properties).
Called by ``stack up`` and ``private_sandbox`` after the sandbox answers."""

from __future__ import annotations

from pydantic import SecretStr

from local_stack.processes import StackError
from streams.platform import PlatformSettings, build_catalog
from streams.platform.provisioning import setup

SANDBOX_HUBSPOT_TOKEN = "sandbox-token"  # noqa: S105 - the sandbox's fake token (knobs default)
SANDBOX_MARKETO_CLIENT = ("sandbox-client", "sandbox-secret")


def sandbox_settings(url: str, platform: str) -> PlatformSettings:
    """Platform settings that reach the sandbox at ``url`` with its default credentials."""
    if platform == "hubspot":
        return PlatformSettings(
            platform="hubspot",
            hubspot_base_url=url,
            hubspot_token=SecretStr(SANDBOX_HUBSPOT_TOKEN),
        )
    client_id, secret = SANDBOX_MARKETO_CLIENT
    return PlatformSettings(
        platform="marketo",
        marketo_base_url=url,
        marketo_identity_url=f"{url}/identity",
        marketo_client_id=client_id,
        marketo_client_secret=SecretStr(secret),
    )


def provision_sandbox(url: str, platforms: tuple[str, ...] = ("hubspot", "marketo")) -> list[str]:
    """Create the missing custom properties on each platform; returns the names created.
    Raises ``StackError`` when something is still missing afterwards."""
    created: list[str] = []
    for platform in platforms:
        kinds = ("contacts", "companies") if platform == "hubspot" else ("contacts",)
        for kind in kinds:
            report = setup(build_catalog(sandbox_settings(url, platform), object_type=kind))
            if not report.complete:
                raise StackError(f"sandbox {platform} still lacks properties: {report.missing}")
            created += report.created
    return created
