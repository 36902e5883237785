"""The command line built one command at a time says exactly what the whole one says: the
same commands, help lines, options, defaults and choices (issue 12: ``--help`` got lighter,
not different)."""

from __future__ import annotations

import argparse

import pytest

from infrastructure.cli import parser
from infrastructure.cli_table import COMMANDS


def _command(top: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    [commands] = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    chosen: argparse.ArgumentParser = commands.choices[name]
    return chosen


def _helps(command: argparse.ArgumentParser) -> list[str]:
    """The command's help and, depth first, every sub-command's."""
    texts = [command.format_help()]
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                texts += _helps(sub)
    return texts


def test_ssbtek_help_is_the_whole_parser_s() -> None:
    assert parser([]).format_help() == parser().format_help()
    assert parser(["--help"]).format_help() == parser().format_help()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_filled_in_alone_is_the_whole_parser_s(name: str) -> None:
    alone = _helps(_command(parser([name, "--help"]), name))
    assert alone == _helps(_command(parser(), name))
    assert len(alone[0]) > len(f"usage: ssbtek {name}")  # filled in, not the bare name


def test_the_commands_not_named_are_left_empty() -> None:
    top = parser(["audit", "replay"])
    assert _command(top, "audit")._actions[1:]  # filled in
    assert [a.dest for a in _command(top, "party")._actions] == ["help"]


def test_a_handler_is_imported_when_it_runs_and_keeps_its_name() -> None:
    args = parser(["providers"]).parse_args(["providers"])
    assert args.handler.__name__ == "run_providers"
    assert args.handler.__module__ == "infrastructure.client"
