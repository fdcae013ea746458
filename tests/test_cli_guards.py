"""What a new user meets before and around a command's work: every help page, outputs checked before any model
loads, one line for Ctrl-C or a broken model folder, bounds on the options."""

import argparse

import pytest

from forgetlab.cli import build_parser


def _parsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """(argv prefix, parser) of every command and nested command, and of each choice of a positional argument
    (``analyse svd``), depth first."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*prefix, name))
        elif not action.option_strings and action.choices and action.dest != "help":
            for choice in action.choices:
                yield (*prefix, choice), parser


def test_every_command_and_subcommand_prints_its_help(capsys):
    walked = list(_parsers(build_parser()))
    assert {"eval", "kl", "train", "restore", "fit", "schema"} <= {argv[0] for argv, _ in walked if argv}
    assert ("analyse", "svd") in {argv for argv, _ in walked}
    for argv, _ in walked:
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args([*argv, "--help"])
        out = capsys.readouterr().out
        assert exit_.value.code == 0, argv
        assert out.startswith("usage: forgetlab") and len(out.splitlines()) > 2, argv
