"""CLI subcommands of this package (registered by ``cdcbridge.cli``):
``cdcbridge sandbox serve`` and ``cdcbridge sandbox webhooks emit``."""

from __future__ import annotations

import argparse
import json

import httpx

from sandbox_platform.__main__ import add_arguments, serve


def _emit(args: argparse.Namespace) -> int:
    base = args.sandbox_url.rstrip("/")
    if args.url:
        httpx.patch(
            f"{base}/admin/knobs", json={"webhook_url": args.url}, timeout=10
        ).raise_for_status()
    response = httpx.post(
        f"{base}/admin/webhooks/emit", json={"count": args.count, "type": args.type}, timeout=60
    )
    response.raise_for_status()
    print(json.dumps(response.json()))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sandbox serve`` and ``sandbox webhooks emit``."""
    sandbox = sub.add_parser("sandbox", help="the sandbox marketing platform")
    actions = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    serve_parser = actions.add_parser("serve", help="serve the HubSpot/Marketo emulator")
    add_arguments(serve_parser)
    serve_parser.set_defaults(handler=serve)
    webhooks = actions.add_parser("webhooks", help="engagement webhooks from the sandbox")
    webhook_actions = webhooks.add_subparsers(dest="webhooks_command", required=True)
    emit = webhook_actions.add_parser("emit", help="send signed webhooks now")
    emit.add_argument("--sandbox-url", default="http://127.0.0.1:8099")
    emit.add_argument("--url", default="", help="receiver URL (sets the webhook_url knob)")
    emit.add_argument("--count", type=int, default=1)
    emit.add_argument("--type", default="email_opened")
    emit.set_defaults(handler=_emit)
