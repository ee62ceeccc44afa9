"""``cdcbridge platform setup`` and ``cdcbridge platform check``: the vendor properties our
mappings write (``streams.platform.provisioning``).

``setup`` creates the missing custom properties (idempotent) and prints one JSON line; exit 0
when every mapped property exists afterwards, 1 when some are still missing (named, with what
the admin must do), 2 when the vendor refused (credentials, permission). ``check`` only lists
(read scope only) and exits 0 / 1 / 2 the same way. Platform settings: ``CDCBRIDGE_*``.
"""

from __future__ import annotations

import argparse
import json
import sys

from streams.contracts import FatalPlatformError, TransientPlatformError

ADMIN_HINT = {
    "hubspot": "create them in Settings > Properties (contact), or run `cdcbridge platform "
    "setup` with a token that has crm.schemas.contacts.write",
    "marketo": "create them in Admin > Field Management, or run `cdcbridge platform setup` "
    "with an API role that has Read-Write Schema Custom Field",
}


def register_platform(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    platform = sub.add_parser("platform", help="vendor properties our mappings write")
    actions = platform.add_subparsers(dest="platform_command", required=True, metavar="ACTION")
    setup = actions.add_parser("setup", help="create the missing custom properties (idempotent)")
    setup.set_defaults(handler=_setup)
    check = actions.add_parser("check", help="list mapped properties the vendor does not have")
    check.set_defaults(handler=_check)


def _print(doc: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")


def _setup(_args: argparse.Namespace) -> int:
    from streams.platform import PlatformSettings, build_catalog
    from streams.platform.provisioning import setup

    settings = PlatformSettings()
    # HubSpot companies need our unique upsert key (cdcbridge_company_id) and custom properties;
    # Marketo's company fields are standard (custom ones are made in its admin UI).
    kinds = ("contacts", "companies") if settings.platform == "hubspot" else ("contacts",)
    complete = True
    for kind in kinds:
        try:
            report = setup(build_catalog(settings, object_type=kind))
        except (FatalPlatformError, TransientPlatformError) as exc:
            _print({"platform": settings.platform, "object_type": kind, "error": str(exc)})
            return 2
        doc: dict[str, object] = {
            "platform": report.platform,
            "created": report.created,
            "present": len(report.present),
            "missing": report.missing,
        }
        if kind != "contacts":
            doc["object_type"] = kind
        if report.missing:
            doc["action"] = ADMIN_HINT[settings.platform]
        _print(doc)
        complete = complete and report.complete
    return 0 if complete else 1


def _check(_args: argparse.Namespace) -> int:
    from streams.platform import PlatformSettings, build_catalog
    from streams.platform.provisioning import missing_properties

    settings = PlatformSettings()
    try:
        missing = missing_properties(build_catalog(settings))
    except (FatalPlatformError, TransientPlatformError) as exc:
        _print({"platform": settings.platform, "error": str(exc)})
        return 2
    doc: dict[str, object] = {"platform": settings.platform, "missing": [p.name for p in missing]}
    if missing:
        doc["action"] = ADMIN_HINT[settings.platform]
    _print(doc)
    return 1 if missing else 0
