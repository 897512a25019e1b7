"""runtime/argv against Go's flag package. The expected values were recorded by running a
flag.FlagSet with a string flag "config", a string flag "c" and a bool "debug" (go1.24 toolchain,
golang/go:src/flag/flag.go) on each argv; cnidoctor's parser must read the same."""

from __future__ import annotations

from typing import Dict, List, Tuple

import pytest

from cnidoctor.runtime.argv import parse_go_flags

VALUES = {"config": "config", "c": "c"}
BOOLEANS = {"debug": "debug"}

# argv (without the program) -> what Go's flag package set; nothing set when Go refused the argv.
GO_FLAG_PACKAGE: List[Tuple[List[str], Dict[str, str]]] = [
    (["--config=a"], {"config": "a"}),
    (["-config", "a"], {"config": "a"}),
    (["--config", "-c"], {"config": "-c"}),  # a value flag takes the next argument, whatever it is
    (["--debug", "--config", "x"], {"debug": "true", "config": "x"}),  # a bool never takes one
    (["--debug=false", "-c", "y"], {"debug": "false", "c": "y"}),
    (["---config", "x"], {}),  # "bad flag syntax: ---config"
    (["--config", "x", "--", "--config", "y"], {"config": "x"}),  # "--" ends the flags
    (["--config"], {}),  # "flag needs an argument: -config"
    (["--c", "z"], {"c": "z"}),  # two dashes work for a one-letter name too
    (["-config="], {"config": ""}),
]


@pytest.mark.parametrize("args,expected", GO_FLAG_PACKAGE)
def test_reads_what_go_flag_reads(args: List[str], expected: Dict[str, str]) -> None:
    assert parse_go_flags(["prog", *args], VALUES, BOOLEANS) == expected
    assert parse_go_flags(args, VALUES, BOOLEANS) == expected  # an argv given without its program


def test_a_subcommand_and_other_words_are_skipped() -> None:
    # k3s server --data-dir /x (urfave/cli: the subcommand's own FlagSet reads what follows it)
    argv = ["k3s", "server", "--token", "t", "-d", "/x"]
    assert parse_go_flags(argv, {"data-dir": "data-dir", "d": "data-dir"}) == {"data-dir": "/x"}


def test_aliases_last_wins_and_repeated_accumulate() -> None:
    names = {"config": "config", "c": "config", "cni-plugin-dir": "cni-plugin-dir"}
    argv = ["crio", "-c", "a", "--cni-plugin-dir", "/p1", "--config=b", "--cni-plugin-dir=/p2"]
    got = parse_go_flags(argv, names, repeated={"cni-plugin-dir"})
    assert got == {"config": "b", "cni-plugin-dir": "/p1,/p2"}
