"""The `siyu` program (pyproject's script): on a fresh install, start the second compiling
process first of all (`sim.fast.early`), then run the command line (`sim.cli.command`).
This module and what it imports before the command line load in a few milliseconds (no
NumPy, no Numba), so the second process starts about a second sooner than the engine could
start it."""

from __future__ import annotations

import sys


def command() -> None:
    """The `siyu` program: start compiling aside where a first run needs it
    (`sim.fast.early.start_early`), then the command line."""
    from sim.fast import early

    early.start_early(sys.argv[1:])
    from sim.cli import command as run_command

    run_command()
