"""``python -m sandbox_platform --host 127.0.0.1 --port N [--platform both] [--knob k=v ...]``
serves the sandbox with uvicorn until interrupted."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from sandbox_platform.app import build_app
from sandbox_platform.knobs import Knobs, StartupKnobs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--platform", choices=["both", "hubspot", "marketo"], default="both")
    parser.add_argument(
        "--knob",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a knob at startup (repeatable); SANDBOX_<NAME> env vars work too",
    )


def knobs_from(pairs: Sequence[str]) -> Knobs:
    """Environment (``SANDBOX_*``) first, then ``--knob`` pairs. Raises ``ValueError``."""
    base = StartupKnobs().model_dump()
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--knob wants NAME=VALUE, got {pair!r}")
        base[name.strip()] = value
    return Knobs.model_validate(base)


def serve(args: argparse.Namespace) -> int:
    app = build_app(knobs_from(args.knob), args.platform)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox_platform", description=__doc__)
    add_arguments(parser)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
