"""Compiling on both cores. A first run on a fresh install compiles the fast engine: the
set-up entries and the day (`kernels.run_days`), which holds nearly all the code. This
process compiles the day's phases from its start (`kernels.step`) while a second process
compiles them from their end (`kernels.step_backwards`) into the helpers' disk cache
(`jit._LinkedCache`). Each process claims a helper before compiling it and loads what the
other compiled (`jit.Claims`), so each helper is compiled once and the two meet in the
middle. Then the second process makes the day itself, LLVM's optimisation of the whole
linked day and its machine code (a few seconds no other compile can share), while this one
compiles the set-up entries; the run loads the day from the disk cache and ends the second
process.

What a run computes does not depend on which process compiled a helper or the day: the
day links the same optimised code either way. The second process starts only on a cold
cache, once per process, on a machine with more than one core, and not with
`SIYU_COMPILE_ASIDE=0`; where it cannot start or fails, this process compiles everything
itself.
"""

from __future__ import annotations

import atexit
import gc
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from numba.core import caching
from numba.core import types as nb_types

from sim import network
from sim.fast import early, jit, kernels
from sim.machine import usable_cores

SWITCH = early.SWITCH

_lock = threading.Lock()
_proc: subprocess.Popen | None = None
"""The second process, while it compiles."""
_ready: tuple[subprocess.Popen, Path] | None = None
"""A second process started early (`prepare`), waiting for the day's types, and the folder
of its claims."""
_started = False
"""Whether this process has started one (at most once)."""


def _cold(argtypes: tuple) -> bool:
    """Whether `run_days` for these argument types is not in its disk cache (`begin` asks
    only while this process holds no compiled day)."""
    day = kernels.run_days
    key = day._cache._index_key(argtypes, day.targetctx.codegen())
    return key not in day._cache._cache_file._load_index()


def _may_start() -> bool:
    """Whether a second process may compile for this one: none started yet, no day
    compiled here, not switched off, and helpers linked from a disk cache (`jit`) on a
    machine with two cores or more."""
    if _started or kernels.run_days.overloads or os.environ.get(SWITCH, "1") == "0":
        return False
    if not jit.links_helpers() or usable_cores() < 2:
        return False
    return jit.kept_on_disk(kernels.step_backwards)  # else nowhere to share the helpers


def prepare() -> None:
    """Start the second process early where the day is certainly still to compile (its
    disk cache holds no day at all: a fresh install), or take on the one the `siyu`
    program started before its imports (`sim.fast.early`): it imports the engine while
    this process draws the consumers, and waits for the day's types (`begin`)."""
    global _ready
    with _lock:
        if _ready is not None:
            return
        waiting = early.take_early()  # the `siyu` program started it (`sim.launch`)
        if not _may_start():
            early.discard(waiting)
            return
        index = getattr(getattr(kernels.run_days._cache, "_cache_file", None), "_index_path", None)
        if index is None or os.path.exists(index):  # no disk cache, or a day in it
            early.discard(waiting)
            return
        _ready = waiting or early.spawn()
        atexit.register(end)


def begin(day_types: Callable[[], tuple]) -> None:
    """Start the second process (or give the one `prepare` started its work), if `run_days`
    for the argument types `day_types()` gives (`FastModel._day_types`, known before the
    set-up compiles) is still to compile, and compile the day's phases here from their
    start. Cheap where it is not: once this process holds a compiled day, the types are
    not even computed (a model's set-up is a few milliseconds at small sizes)."""
    global _proc, _ready, _started
    with _lock:
        ready, _ready = _ready, None
        if not _may_start():
            early.discard(ready)
            return
        argtypes = day_types()
        if not _cold(argtypes):
            early.discard(ready)
            return
        _started = True
        spawned = ready or early.spawn()
        if spawned is None:
            return
        proc, folder = spawned
        try:
            proc.stdin.write(pickle.dumps(argtypes))
            proc.stdin.close()
        except OSError:  # it ended early
            early.discard(spawned)
            return
        _proc = proc
        jit.share_compiles(jit.Claims(folder, lambda: proc.poll() is None))
        atexit.register(end)
    # the day's phases from their start, here, before the set-up entries: those this
    # process compiles while the second makes the day (`main`)
    plan_types, step_types = _phase_types(argtypes)
    kernels.plan_days.compile(plan_types)
    kernels.step.compile(step_types)


def _phase_types(day_types: tuple) -> tuple[tuple, tuple]:
    """The argument types `run_days` (for `day_types`) calls `plan_days` and `step` with."""
    W, B, G, L, book, first, last, rng, S = day_types
    return (W, G, first, last), (W, B, G, L, book, nb_types.int64, rng, S)


def compile_day(day_types: tuple) -> None:
    """Compile the day for `day_types`, or, where the second process claimed it, wait for
    it and load it from the disk cache; then end the second process."""
    try:
        claims = jit.current_claims()
        if claims is None:
            kernels.run_days.compile(day_types)
        else:
            with claims.claim(kernels.run_days, day_types):
                kernels.run_days.compile(day_types)
    finally:
        end()


def running() -> bool:
    """Whether a second process is compiling for this one."""
    return _proc is not None


def end() -> None:
    """End the second process: the day is compiled (or the process exits)."""
    global _proc, _ready
    with _lock:
        proc, _proc = _proc, None
        claims = jit.share_compiles(None)
        early.discard(_ready)
        _ready = None
    if proc is not None:
        if proc.poll() is None:
            proc.terminate()  # it ends at once, or when the file it is writing is whole
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if claims is not None:
        shutil.rmtree(claims.folder, ignore_errors=True)


_writing = 0
"""The second process: how many cache entries it is saving now."""
_ending = False
"""The second process: whether it was told to end while writing one."""


def _on_terminate(signum, frame) -> None:
    """The second process, told to end: at once, unless it is saving a cache entry (its
    index, then its data file), then as soon as the entry is whole."""
    global _ending
    if _writing:
        _ending = True
    else:
        os._exit(0)


def _whole(write):
    """`write` (a cache entry's save), after which a deferred end happens."""

    def wrapped(*args, **kwargs):
        global _writing
        _writing += 1
        try:
            return write(*args, **kwargs)
        finally:
            _writing -= 1
            if _ending and not _writing:
                os._exit(0)

    return wrapped


def _nothing_yet() -> bool:
    """The second process: whether its input is still empty and open (no types, no end)."""
    if os.name != "posix":  # select() takes pipes on POSIX only
        return False
    return not select.select([sys.stdin], [], [], 0)[0]


def main() -> None:
    """The second process: compile `step_backwards`, then the day itself (`run_days`), for
    the day's argument types on stdin, claiming each helper, and the day, in the folder
    named by the first argument. Started early (`--early`, `sim.launch`), it first compiles
    the network's last kernels while nothing has arrived (`sim.network.compile_ahead`)."""
    # no cyclic garbage collection at all: between two compiles (`jit` stops it during
    # each) the first collection would walk everything the last one left, and this
    # process's memory goes when it ends, a few seconds later
    gc.disable()
    if "--early" in sys.argv[2:]:
        network.compile_ahead(_nothing_yet)
    data = sys.stdin.buffer.read()
    if not data:  # started early (`prepare`), then not needed
        return
    day_types = pickle.loads(data)
    cache_file = caching.IndexDataCacheFile  # an entry's index and data are saved as one
    cache_file.save = _whole(cache_file.save)
    signal.signal(signal.SIGTERM, _on_terminate)
    parent = os.getppid()
    claims = jit.Claims(Path(sys.argv[1]), lambda: os.getppid() == parent)
    jit.share_compiles(claims)
    kernels.step_backwards.compile(_phase_types(day_types)[1])
    with claims.claim(kernels.run_days, day_types):
        kernels.run_days.compile(day_types)


if __name__ == "__main__":
    main()
