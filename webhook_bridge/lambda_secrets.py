"""The Lambda receiver's webhook secrets, read from AWS Secrets Manager once per cold start.

The function's environment names the secret (``CDCBRIDGE_WEBHOOKS_SOURCES_SECRET_ID``, an ARN),
never holds it: the role may call ``secretsmanager:GetSecretValue`` on that one secret only.
The secret's ``SecretString`` is the sources JSON (``{"sources": {...}}``, as
``CDCBRIDGE_WEBHOOKS_SOURCES_JSON`` elsewhere). The value is fetched when the handler is first
wired and cached with that wiring for the life of the execution environment; rotating the
secret takes effect on the next cold start (deploy, or an idle environment recycled).

Without ``CDCBRIDGE_WEBHOOKS_SOURCES_SECRET_ID`` the settings are returned unchanged (a sources
file or JSON, e.g. in a local test).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from cdcbridge.errors import FatalError
from webhook_bridge.config import BridgeSettings


class SecretsLocation(BaseSettings):
    """Where the sources secret lives (env prefix ``CDCBRIDGE_WEBHOOKS_``)."""

    model_config = SettingsConfigDict(env_prefix="CDCBRIDGE_WEBHOOKS_", extra="ignore")

    sources_secret_id: str | None = None
    # Another Secrets Manager endpoint (tests: a local emulator); None means AWS's.
    secrets_endpoint: str | None = None


class SecretUnavailable(FatalError, RuntimeError):
    """Fatal: the sources secret could not be read (missing, no permission, not a string)."""


def with_secret_sources(settings: BridgeSettings) -> BridgeSettings:
    """``settings`` with ``sources_json`` read from Secrets Manager when a secret is named.

    Raises SecretUnavailable when the secret cannot be read; the function then fails its
    invocations loudly rather than accepting webhooks it cannot verify.
    """
    where = SecretsLocation()
    if not where.sources_secret_id:
        return settings
    import boto3  # only on this path: the receiver reads a secret once, at cold start
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "secretsmanager", region_name=settings.region, endpoint_url=where.secrets_endpoint,
        config=Config(connect_timeout=settings.send_timeout_s,
                      read_timeout=settings.send_timeout_s, retries={"max_attempts": 3}),
    )
    try:
        answer = client.get_secret_value(SecretId=where.sources_secret_id)
    except (BotoCoreError, ClientError) as exc:
        raise SecretUnavailable(f"cannot read {where.sources_secret_id}: {exc}") from exc
    text = answer.get("SecretString")
    if not isinstance(text, str):
        raise SecretUnavailable(f"{where.sources_secret_id} has no SecretString")
    return settings.model_copy(update={"sources_json": text})
