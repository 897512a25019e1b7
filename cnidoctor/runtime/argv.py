"""A runtime's command-line flags, read the way Go's flag package reads them.

One reader for every runtime's argv (containerd, CRI-O, k3s and RKE2 parse theirs with
urfave/cli, which hands each command's arguments to a Go ``flag.FlagSet``:
urfave/cli:parse.go@v2.27.5 ``parseIter``); the caller says which flags it wants and which of
them take a value. The syntax is golang/go:src/flag/flag.go@go1.22.0 ``FlagSet.parseOne``:

- one or two dashes, equivalent (``-config`` == ``--config``); three are not a flag;
- a flag that takes a value: ``-x=v``/``--x=v``, else the next argument whatever it looks
  like (``--config -c`` sets config to ``-c``); none left is an error, so nothing is read;
- a boolean never takes the next argument: bare means true, ``--x=false`` sets it;
- ``--`` ends the flags.

Unlike Go's flag package, an argument that is not a flag is skipped rather than ending the
flags: the argv may start with a subcommand (``k3s server --data-dir …``), whose flags follow.
"""

from __future__ import annotations

from typing import AbstractSet, Dict, Mapping, Optional, Sequence

__all__ = ["parse_go_flags"]


def parse_go_flags(
    argv: Sequence[str],
    values: Mapping[str, str],
    booleans: Optional[Mapping[str, str]] = None,
    repeated: AbstractSet[str] = frozenset(),
) -> Dict[str, str]:
    """The wanted flags of ``argv`` as {canonical name: value}; the last occurrence wins.

    ``values``/``booleans``: each spelling without dashes (aliases too: ``{"config": "config",
    "c": "config"}``) -> its canonical name. ``repeated``: canonical names whose occurrences
    accumulate comma-joined (urfave/cli ``StringSliceFlag``). ``argv[0]`` is the program and is
    skipped unless it looks like a flag (an argv without its program)."""
    bools = booleans or {}
    args = list(argv[1:]) if argv and not str(argv[0]).startswith("-") else list(argv)
    found: Dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            break
        spelling, has_value, value = _flag_name(arg).partition("=")
        if spelling in bools:
            found[bools[spelling]] = value if has_value else "true"
            continue
        name = values.get(spelling)
        if name is None:
            continue
        if not has_value:
            if i >= len(args):
                break  # Go: "flag needs an argument"; the program would not start
            value = args[i]
            i += 1
        found[name] = found[name] + "," + value if name in repeated and name in found else value
    return found


def _flag_name(arg: str) -> str:
    """``--x=v``/``-x=v`` -> ``x=v``; "" for what is not a flag (a value, ``-``, ``---x``)."""
    body = arg[2:] if arg.startswith("--") else arg[1:] if arg.startswith("-") else ""
    return "" if body.startswith("-") else body
