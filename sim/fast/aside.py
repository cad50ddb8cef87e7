"""Compiling on both cores. A first run on a fresh install compiles the fast engine: the
set-up entries, then the day (`kernels.run_days`), which holds nearly all the code. While
this process compiles them from the start of the day, a second process compiles the day's
phases from its end (`kernels.step_backwards`) into the helpers' disk cache
(`jit._LinkedCache`). Each process claims a helper before compiling it and loads what the
other compiled (`jit.Claims`), so each helper is compiled once and the two meet in the
middle; this process ends the second once the day is compiled.

What a run computes does not depend on which process compiled a helper: the day links the
same optimised code either way. The second process starts only on a cold cache, once per
process, on a machine with more than one core, and not with `SIYU_COMPILE_ASIDE=0`; where
it cannot start or fails, this process compiles everything itself.
"""

from __future__ import annotations

import atexit
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from numba.core import caching
from numba.core import types as nb_types

from sim.fast import jit, kernels

SWITCH = "SIYU_COMPILE_ASIDE"
"""The environment variable that, set to 0, keeps compilation in one process."""

_lock = threading.Lock()
_proc: subprocess.Popen | None = None
"""The second process, while it compiles."""
_started = False
"""Whether this process has started one (at most once)."""


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # platforms without affinity masks
        return os.cpu_count() or 1


def _cold(argtypes: tuple) -> bool:
    """Whether `run_days` for these argument types is not in its disk cache (`begin` asks
    only while this process holds no compiled day)."""
    day = kernels.run_days
    key = day._cache._index_key(argtypes, day.targetctx.codegen())
    return key not in day._cache._cache_file._load_index()


def begin(day_types: Callable[[], tuple]) -> None:
    """Start the second process, if `run_days` for the argument types `day_types()` gives
    (`FastModel._day_types`, known before the set-up compiles) is still to compile. Cheap
    where it is not: once this process holds a compiled day, the types are not even
    computed (a model's set-up is a few milliseconds at small sizes)."""
    global _proc, _started
    with _lock:
        if _started or kernels.run_days.overloads or os.environ.get(SWITCH, "1") == "0":
            return
        if not jit.links_helpers() or usable_cores() < 2:
            return
        if not jit.kept_on_disk(kernels.step_backwards):  # nowhere to share the helpers
            return
        argtypes = day_types()
        if not _cold(argtypes):
            return
        _started = True
        W, B, G, L, book, _first, _last, rng, S = argtypes
        step_types = (W, B, G, L, book, nb_types.int64, rng, S)
        root = str(Path(kernels.__file__).resolve().parents[2])  # the folder holding sim/
        path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        folder = Path(tempfile.mkdtemp(prefix="siyu-compile-"))
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sim.fast.aside", str(folder)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONPATH=path),
            )
            proc.stdin.write(pickle.dumps(step_types))
            proc.stdin.close()
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            return
        _proc = proc
        jit.share_compiles(jit.Claims(folder, lambda: proc.poll() is None))
        atexit.register(end)


def running() -> bool:
    """Whether a second process is compiling for this one."""
    return _proc is not None


def end() -> None:
    """End the second process: the day is compiled (or the process exits)."""
    global _proc
    with _lock:
        proc, _proc = _proc, None
        claims = jit.share_compiles(None)
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


def main() -> None:
    """The second process: compile `step_backwards` for the argument types on stdin,
    claiming each helper in the folder named by the first argument."""
    step_types = pickle.loads(sys.stdin.buffer.read())
    cache_file = caching.IndexDataCacheFile  # an entry's index and data are saved as one
    cache_file.save = _whole(cache_file.save)
    signal.signal(signal.SIGTERM, _on_terminate)
    parent = os.getppid()
    jit.share_compiles(jit.Claims(Path(sys.argv[1]), lambda: os.getppid() == parent))
    kernels.step_backwards.compile(step_types)


if __name__ == "__main__":
    main()
