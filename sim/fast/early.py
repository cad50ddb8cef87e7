"""The second compiling process of a first run, started before the engine is imported.

A first `siyu run` on a fresh install compiles the fast engine on two cores
(`sim.fast.aside`). The second process takes about a second to import the engine, and so
does the run before it can start one. Started by the `siyu` program first of all
(`sim.launch`), its import overlaps the run's own (the command line, the scenario's schema,
pandas), and it then compiles the network's kernels, the last that the run needs before the
day's types are known (`sim.network.compile_ahead`), so that the run loads them from the
disk cache instead of compiling them. `sim.fast.aside.prepare` takes the process on.

Nothing here imports NumPy or Numba (nor does importing `sim.fast`, whose `FastModel` loads
on first use): the checks cost a few milliseconds, and a run whose day is in the disk cache
already starts nothing. What a run computes does not depend on any of this: the second
process only compiles.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from sim.machine import usable_cores

SWITCH = "SIYU_COMPILE_ASIDE"
"""The environment variable that, set to 0, keeps compilation in one process."""

_FAST = Path(__file__).resolve().parent
"""The fast engine's folder: its disk cache is `__pycache__` inside it (`sim.fast.jit`)."""

_lock = threading.Lock()
_early: tuple[subprocess.Popen, Path] | None = None
"""The second process started by `start_early`, until `take_early` hands it on."""


def spawn(early: bool = False) -> tuple[subprocess.Popen, Path] | None:
    """A second compiling process (`python -m sim.fast.aside`) and the folder of its claims;
    None where it cannot start. It waits for the day's argument types on its input (and
    exits on an empty input); `early` lets it compile ahead while it waits."""
    root = str(_FAST.parents[1])  # the folder holding sim/
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    folder = Path(tempfile.mkdtemp(prefix="siyu-compile-"))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim.fast.aside", str(folder), *(["--early"] if early else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONPATH=path),
        )
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return proc, folder


def discard(spawned: tuple[subprocess.Popen, Path] | None) -> None:
    """Stop a second process that was given nothing to compile, and remove its folder."""
    if spawned is not None:
        proc, folder = spawned
        proc.kill()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def day_on_disk() -> bool | None:
    """Whether the fast engine's disk cache holds a compiled day, of any version (as
    `sim.fast.aside.prepare` asks; the engine reads the entry itself later); None where
    this cannot tell without Numba: the cache is not next to the source (a read-only
    install keeps it in Numba's user-wide folder)."""
    cache = _FAST / "__pycache__"
    if not os.access(cache if cache.is_dir() else _FAST, os.W_OK):
        return None
    ver = f"py{sys.version_info[0]}{sys.version_info[1]}"
    return bool(glob.glob(str(cache / f"kernels.run_days-*.{ver}.nbi")))


def wants_fast_run(args: list[str]) -> bool:
    """Whether the command line `args` (without the program) runs a scenario on the fast
    engine: `run`, without `--engine agents` or `--help`."""
    if not args or args[0] != "run" or "--help" in args:
        return False
    for k, arg in enumerate(args):
        if arg == "--engine" and k + 1 < len(args):
            return args[k + 1] == "fast"
        if arg.startswith("--engine="):
            return arg.partition("=")[2] == "fast"
    return True


def start_early(args: list[str]) -> None:
    """Start the second compiling process now where the command line `args` runs the fast
    engine on a fresh install (no day in its disk cache) of a machine with two cores or
    more, and compiling aside is not switched off."""
    global _early
    if os.environ.get(SWITCH, "1") == "0" or not wants_fast_run(args):
        return
    if usable_cores() < 2 or day_on_disk() is not False:
        return
    with _lock:
        if _early is None:
            _early = spawn(early=True)
            atexit.register(_end_unused)


def take_early() -> tuple[subprocess.Popen, Path] | None:
    """The process `start_early` started, if any and still running, handed on (once)."""
    global _early
    with _lock:
        spawned, _early = _early, None
    if spawned is not None and spawned[0].poll() is not None:
        discard(spawned)
        return None
    return spawned


def _end_unused() -> None:
    """At exit: stop the early process if nothing took it on (the command failed first)."""
    discard(take_early())
