"""What the machine offers this process: the cores it may run on and the memory it has. The
fast engine's second compiling process (`sim.fast.early`, `sim.fast.aside`), its set-up
threads, the report's figures drawn aside (`sim.present.forked`) and `siyu run`'s replicates
on threads (`sim.effects.replicate_threads`) use a second core only where there is one."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # platforms without affinity masks
        return os.cpu_count() or 1


def physical_memory() -> int | None:
    """The machine's physical memory in bytes; None where the platform does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
