"""Test-only faults for sweeps (never imported by the product): a run function that
misbehaves on chosen runs, and a `siyu` entry point whose sweeps use it.

`SIYU_TEST_FAULT` (or `faulty(KIND, SEED…)`) holds `KIND:SEED[,SEED…]` (`*` for every run); KIND is
`abort` (os.abort: SIGABRT), `segv` (a real segmentation fault), `kill` (SIGKILL of its own
worker, as the kernel's out-of-memory killer does), `raise` (a Python exception) or `block`
(write `started-<pid>-<seed>` in `SIYU_TEST_MARKS` and sleep until killed). Workers inherit
the variable from the process that starts them.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

FAULT = "SIYU_TEST_FAULT"
MARKS = "SIYU_TEST_MARKS"
BLOCK_S = 300.0
"""A blocked run sleeps this long at most (the test kills it well before)."""


def fault(kind: str, *seeds: int) -> str:
    """The value of SIYU_TEST_FAULT for `kind` on runs with these seeds (none: every run)."""
    return f"{kind}:" + (",".join(str(s) for s in seeds) if seeds else "*")


def faulty(kind: str, *seeds: int) -> functools.partial:
    """A run function with its fault built in (for sweeps in this process: pool workers come
    from a fork server that may have started before an environment variable was set)."""
    return functools.partial(faulty_run, spec=fault(kind, *seeds))


def faulty_run(scenario: Any, seed: int, spec: str | None = None) -> Any:
    """`sim.runner.run`, except on the runs `spec` (default: SIYU_TEST_FAULT) names."""
    from sim.runner import run

    kind, _, which = (spec or os.environ.get(FAULT, "")).partition(":")
    if kind and (which == "*" or str(seed) in which.split(",")):
        if kind == "abort":
            os.abort()
        if kind == "segv":
            ctypes.string_at(0)
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "raise":
            raise RuntimeError(f"test fault at seed {seed}")
        if kind == "block":
            marks = Path(os.environ[MARKS])
            (marks / f"started-{os.getpid()}-{seed}").write_text("", encoding="utf-8")
            time.sleep(BLOCK_S)
    return run(scenario, seed)


def main() -> None:
    """`python -m tests.sweep_hooks sweep …`: `siyu` whose sweeps and comparisons run
    `faulty_run`, started as a terminal starts a job: Ctrl-C raises KeyboardInterrupt even
    when the test process that spawned it ignores SIGINT (a disposition a child inherits, and
    which some test runners' worker processes have)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    patch()
    from sim.cli import main as cli

    cli(sys.argv[1:])


def patch() -> None:
    """Make `siyu sweep` and `siyu compare` (in this process) run `faulty_run`."""
    import sim.experiments.compare as compare
    import sim.experiments.sweep as sweep

    sweep.run_sweep = functools.partial(sweep.run_sweep, run_fn=faulty_run)
    compare.run_compare = functools.partial(compare.run_compare, run_fn=faulty_run)


if __name__ == "__main__":
    main()
