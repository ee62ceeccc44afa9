"""Configuration: every settings class parses, the webhook sources load, the connector file
reads."""

from __future__ import annotations

import json

from pydantic import ValidationError

from cdcbridge.connect_api import ConnectorFile
from cdcbridge.doctor.model import CheckResult, DoctorContext, fail, ok


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "settings"
    return f"{where}: {error.get('msg', str(exc))}"


def check_configuration(ctx: DoctorContext) -> list[CheckResult]:
    from streams.platform import PlatformSettings
    from streams.sync.settings import SyncSettings
    from webhook_bridge.config import BridgeSettings

    results = []
    for name, build, env in (
        ("config.sync", SyncSettings, "CDCBRIDGE_SYNC_*"),
        ("config.platform", PlatformSettings, "CDCBRIDGE_PLATFORM, CDCBRIDGE_HUBSPOT_*/MARKETO_*"),
        ("config.webhooks", BridgeSettings, "CDCBRIDGE_WEBHOOKS_*"),
    ):
        try:
            settings = build()
            if isinstance(settings, BridgeSettings):
                sources = settings.load_sources()
                results.append(ok(name, f"valid ({len(sources)} webhook sources)"))
            else:
                results.append(ok(name, "valid"))
        except ValidationError as exc:
            results.append(fail(name, _first_error(exc), f"set {env} (see README, Configuration)"))
        except (ValueError, OSError) as exc:
            results.append(fail(name, str(exc), f"fix {env} (see webhook_bridge/README.md)"))
    try:
        connector = ConnectorFile.load(ctx.connector_file)
        results.append(ok("config.connector", f"{ctx.connector_file.name}: {connector.name}"))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        results.append(
            fail(
                "config.connector",
                f"{ctx.connector_file}: {exc}",
                "pass --connector-file with the Debezium connector JSON",
            )
        )
    return results
