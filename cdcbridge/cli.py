"""The ``cdcbridge`` console script: one entry point, subcommands registered by each package.
(Users read ``cdcbridge.help_text``; this docstring is for developers.)

Each package that offers commands has a ``commands`` module with
``register(subparsers) -> None``; every parser it adds sets ``handler`` (a callable taking the
parsed namespace and returning an exit code) with ``set_defaults``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from cdcbridge import __version__, help_text
from cdcbridge.logs import configure_logging

COMMAND_MODULES = (
    "local_stack.commands",
    "streams.commands",
    "streams.writeback.cli",
    "webhook_bridge.commands",
    "sandbox_platform.commands",
    "cdcbridge.doctor.commands",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdcbridge", description=help_text.OVERVIEW, epilog=help_text.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"cdcbridge {__version__}")
    parser.add_argument("--log-level", default=None,
                        help="DEBUG, INFO, WARNING, ERROR (default INFO; WARNING for the "
                             "narrated commands, stack and demo)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                title="commands, in the order you will likely use them")
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(sub)
    _explain(sub)
    return parser


def _explain(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Give each known command its user-facing help and list commands in newcomer order."""
    for name, command in sub.choices.items():
        words = help_text.COMMANDS.get(name)
        if words is None:
            continue
        command.description = words.description
        command.epilog = f"example:\n  {words.example}"
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    rank = {name: i for i, name in enumerate(help_text.NEWCOMER_ORDER)}
    sub._choices_actions.sort(key=lambda action: rank.get(action.dest, len(rank)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # a narrated command's output is its narration: library INFO lines only where asked for
    configure_logging(args.log_level or getattr(args, "default_log_level", "INFO"))
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
