"""``cdcbridge --help`` speaks to users: what the tool does, commands in newcomer order,
and each documented command's environment and example."""

from __future__ import annotations

import pytest

from cdcbridge import help_text
from cdcbridge.cli import build_parser

pytestmark = pytest.mark.unit


def test_top_level_help_says_what_the_tool_does_and_lists_commands_in_newcomer_order() -> None:
    text = build_parser().format_help()
    assert "PostgreSQL database and your marketing platform" in text
    assert "register(" not in text  # no developer docstring
    listed = [name for name in help_text.NEWCOMER_ORDER if f"    {name} " in text]
    assert listed == list(help_text.NEWCOMER_ORDER)
    positions = [text.index(f"    {name} ") for name in listed]
    assert positions == sorted(positions)


@pytest.mark.parametrize("name", sorted(help_text.COMMANDS))
def test_each_documented_command_gives_its_example(name: str) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    command = sub.choices[name]  # type: ignore[index]
    text = command.format_help()
    assert "example:" in text
    assert help_text.COMMANDS[name].example in text


def test_service_commands_name_their_environment_with_defaults() -> None:
    for name in ("sync", "forward", "webhooks"):
        description = help_text.COMMANDS[name].description
        assert "CDCBRIDGE_" in description and "default" in description
