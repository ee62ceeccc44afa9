"""CLI subcommands of this package (registered by ``cdcbridge.cli``):
``cdcbridge webhooks serve`` and ``cdcbridge forward``. Options override the environment
(``CDCBRIDGE_WEBHOOKS_*``, ``CDCBRIDGE_FORWARD_*``)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from types import FrameType

from cdcbridge.errors import FatalError


def _export(args: argparse.Namespace, names: dict[str, str]) -> None:
    for attr, env in names.items():
        value = getattr(args, attr, None)
        if value is not None:
            os.environ[env] = str(value)


_BRIDGE_OPTIONS = {
    "sources_file": "CDCBRIDGE_WEBHOOKS_SOURCES_FILE",
    "queue_url": "CDCBRIDGE_WEBHOOKS_QUEUE_URL",
    "queue_name": "CDCBRIDGE_WEBHOOKS_QUEUE_NAME",
    "sqs_endpoint": "CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT",
}


_FORWARD_OPTIONS = {
    "bootstrap_servers": "CDCBRIDGE_FORWARD_BOOTSTRAP_SERVERS",
    "topic": "CDCBRIDGE_FORWARD_TOPIC",
    "wait_s": "CDCBRIDGE_FORWARD_WAIT_S",
}


def _bridge_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources-file", help="YAML with the webhook sources")
    parser.add_argument("--queue-url", help="SQS queue URL (else resolved from --queue-name)")
    parser.add_argument("--queue-name", help="SQS queue name (default engagement)")
    parser.add_argument("--sqs-endpoint", help="SQS endpoint URL (ElasticMQ locally)")


def serve(args: argparse.Namespace) -> int:
    """Run the receiver on uvicorn (uvloop + httptools)."""
    import uvicorn

    _export(args, _BRIDGE_OPTIONS)
    uvicorn.run(
        "webhook_bridge.service:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
    )
    return 0


def forward(args: argparse.Namespace) -> int:
    """Run the forwarder until SIGTERM/SIGINT (exit 0), or until a ``FatalError`` (exit 2). A
    queue that does not answer at start is waited for (``startup.until_queue_answers``)."""
    from webhook_bridge.config import BridgeSettings
    from webhook_bridge.service import ForwarderSettings, build_forwarder
    from webhook_bridge.startup import until_queue_answers

    _export(args, _BRIDGE_OPTIONS)
    _export(args, _FORWARD_OPTIONS)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    bridge, settings = BridgeSettings(), ForwarderSettings()
    forwarder = until_queue_answers(lambda: build_forwarder(bridge, settings), stop)
    if forwarder is None:  # stopped while the queue was down
        return 0
    try:
        forwarder.run(stop)
    except FatalError as exc:  # transient errors are retried inside, invalid messages redriven
        logging.getLogger(__name__).error(
            "forwarder stopped: %s", exc, extra={"error_class": type(exc).__name__}
        )
        return 2
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``webhooks serve`` and ``forward``."""
    webhooks = sub.add_parser("webhooks", help="inbound webhook receiver")
    webhooks_sub = webhooks.add_subparsers(dest="webhooks_command", required=True)
    serve_parser = webhooks_sub.add_parser("serve", help="run the ASGI webhook receiver")
    _bridge_args(serve_parser)
    serve_parser.add_argument(
        "--host", default=os.environ.get("CDCBRIDGE_WEBHOOKS_HOST", "127.0.0.1")
    )
    serve_parser.add_argument(
        "--port", type=int, default=int(os.environ.get("CDCBRIDGE_WEBHOOKS_PORT", "8080"))
    )
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.set_defaults(handler=serve)

    forward_parser = sub.add_parser("forward", help="forward webhooks from SQS to Kafka")
    _bridge_args(forward_parser)
    forward_parser.add_argument("--bootstrap-servers")
    forward_parser.add_argument("--topic")
    forward_parser.add_argument("--wait-s", type=float)
    forward_parser.set_defaults(handler=forward)
