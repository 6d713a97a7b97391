"""Every subcommand's help says what it does and ends with examples that name it."""

from __future__ import annotations

import pytest

from sqlrunner.cli import build_parser

COMMANDS = ("connection", "demo", "hook", "model", "query", "render", "report", "run")


def help_text(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_the_top_level_help_lists_every_command_and_says_what_the_tool_is_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = help_text(capsys=capsys)
    assert "local lake" in text and "examples:" in text
    for command in COMMANDS:
        assert f"    {command}" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_ends_with_examples_of_itself(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_text(command, capsys=capsys)
    examples = text.split("examples:\n", 1)[1].splitlines()
    assert examples and all(
        line.startswith(f"  python -m sqlrunner {command}") for line in examples if line
    )
