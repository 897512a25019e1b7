"""The `cnidoctor` command's entry (bin/cnidoctor): replay a cached result before anything heavy is imported.

``cnidoctor.fastpath`` answers ``--version`` and a ``check`` whose inputs have not changed since
the last identical run, importing only ``os``/``sys``/``marshal``/``zlib``. Everything else (and
every miss) goes to the click CLI in ``cnidoctor.cli``, which stays the one definition of the
interface; a miss is recorded so that the next run can be replayed.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    from . import fastpath

    try:
        hit = fastpath.find(args)
    except Exception:  # the cache is an optimisation: any surprise falls back to the CLI
        hit = None
    if hit is not None:
        output, code = hit
        try:
            sys.stdout.flush()
            sys.stdout.buffer.write(output)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # as click does for `cnidoctor check | head`: no traceback
            code = 1 if code == 0 else code
        raise SystemExit(code)
    try:
        fastpath.start_recording(args)
    except Exception:
        pass
    import gc

    # Importing click and the CLI allocates thousands of objects, none of them garbage: the
    # cyclic collector's passes over them cost a cold run ~10 ms and free nothing. Paused for
    # the import only; `check` pauses it for its whole run (cli.check_command).
    gc.disable()
    try:
        from .cli import main as cli_main
    finally:
        gc.enable()
    cli_main(argv)
