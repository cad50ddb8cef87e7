"""What the machine offers this process: the cores it may run on. The fast engine's second
compiling process (`sim.fast.early`, `sim.fast.aside`), its set-up threads and the report's
figures drawn aside (`sim.present.forked`) start only where there is a second core."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # platforms without affinity masks
        return os.cpu_count() or 1
