"""Compiling on both cores (`sim.fast.aside`): the helpers' disk cache an entry point links
from (`jit._LinkedCache`), the claims two compiling processes share (`jit.Claims`), the
day's argument types known before the set-up compiles, the second process started early,
Numba's compile flags compared quickly (`jit._quicker_flags`), no garbage collection while
Numba compiles, and a whole cold compile with the second process (heavy)."""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numba
import pytest
from numba import njit
from numba.core import caching
from numba.core import types as nb_types

from sim import load_scenario, rules
from sim.fast import FastModel, aside, jit, kernels, layout
from sim.runner import run_rng

pytestmark = pytest.mark.skipif(
    not jit._LINKING, reason="helpers compile as plain functions on this Numba release"
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml") if p.stem[0] != "_")


def test_struct_types_are_known_before_the_structs() -> None:
    """`layout.struct_type` is the type of the struct `as_struct` makes."""
    model = FastModel(load_scenario("beauty_guides", {"run.consumers": 300, "run.days": 5}), 1)
    for group in (model.W, model.B, model.G):
        assert layout.struct_type(group) == numba.typeof(layout.as_struct(group))


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_day_types_are_those_it_is_called_with(name: str, monkeypatch) -> None:
    """The types the second process is given (`FastModel._day_types`, taken before the
    set-up compiles) are those every call of the day has, in every shipped scenario."""
    given = []
    monkeypatch.setattr(aside, "begin", lambda day_types: given.append(day_types()))
    model = FastModel(load_scenario(name, {"run.consumers": 300, "run.days": 40}), run_rng(1))
    (expected,) = given
    seen = []
    day = kernels.run_days

    def recording(*args):
        seen.append(tuple(map(numba.typeof, args)))
        return day(*args)

    recording.compile = day.compile  # on a cold cache the day compiles first (`aside`)
    recording.py_func = day.py_func  # and may be claimed (`jit.Claims`)
    monkeypatch.setattr(kernels, "run_days", recording)
    model.run()
    assert seen and all(types == expected for types in seen)


def _phases(function) -> list[str]:
    """The calls in `function`'s source, in order, that take the World and at least four
    more arguments: the day's phases."""
    calls = [
        node
        for node in ast.walk(ast.parse(inspect.getsource(function.py_func)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and len(node.args) >= 5
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == "W"
    ]
    return [c.func.id for c in sorted(calls, key=lambda c: (c.lineno, c.col_offset))]


def test_step_backwards_calls_every_phase_of_the_day_in_reverse() -> None:
    """A phase added to `step` and not to `step_backwards` would only be compiled by one
    process; the phases come in the reverse of the day's order."""
    forward = list(dict.fromkeys(_phases(kernels.step)))
    backward = _phases(kernels.step_backwards)
    assert len(backward) == len(set(backward))
    assert backward == forward[::-1]


def _here(tmp_path: Path):
    """A helper cache locator for the engine's sources, in `tmp_path`."""

    class Here(jit._HelperStamped, caching.InTreeCacheLocator):
        def get_cache_path(self) -> str:
            return str(tmp_path)

    return Here


def test_a_helper_compiled_elsewhere_is_linked_from_the_disk_cache(tmp_path, monkeypatch) -> None:
    """A helper compiled by one dispatcher (another process, in `aside`) is saved as its
    optimised IR; a second dispatcher of the same function loads it instead of compiling,
    and an entry point linking the loaded code computes what the rule does."""
    monkeypatch.setattr(jit._LinkedCacheImpl, "_locator_classes", [_here(tmp_path)])
    sig = (nb_types.float64, nb_types.float64, nb_types.float64)
    first = jit.helper(jit.hill.py_func)
    first.compile(sig)
    assert list(tmp_path.glob("rules.hill-*.nbi")) and list(tmp_path.glob("rules.hill-*.nbc"))
    second = jit.helper(jit.hill.py_func)
    second.compile(sig)
    assert second.stats.cache_hits[sig] == 1
    assert isinstance(second.overloads[sig].library, jit._LinkedLibrary)

    @njit
    def entry(x):
        return second(x, 2.0, 3.0)

    assert entry(1.5) == rules.hill(1.5, 2.0, 3.0)


def test_a_cache_file_naming_another_key_is_a_miss(tmp_path) -> None:
    """Two processes saving two signatures of one helper at once may both take data file
    1, and an index may be saved without its data file; each file holds its key and
    stamp, so an index pointing a key at another key's file, or at a file an earlier
    version of the sources left, loads nothing (the helper compiles) rather than the wrong
    code."""
    cache = jit._LinkedCacheFile(str(tmp_path), "f-1.py311", "stamp")
    cache.save("key-a", "code a")
    cache.save("key-b", "code b")
    assert (cache.load("key-a"), cache.load("key-b")) == ("code a", "code b")
    index = cache._load_index()
    index["key-b"] = index["key-a"]  # the race: b's entry names a's file
    cache._save_index(index)
    assert cache.load("key-a") == "code a" and cache.load("key-b") is None
    assert cache.load("key-c") is None
    later = jit._LinkedCacheFile(str(tmp_path), "f-1.py311", "another stamp")
    later._save_index({"key-a": index["key-a"]})  # an index whose data file is not saved
    assert later.load("key-a") is None  # the file an earlier stamp left is not loaded


def _dispatcher(name: str) -> SimpleNamespace:
    """A stand-in for a helper's dispatcher (`Claims` reads its py_func)."""

    def f() -> None:
        return None

    f.__qualname__ = name
    return SimpleNamespace(py_func=f)


def test_a_claimed_helper_is_awaited_not_compiled_twice(tmp_path) -> None:
    """The second to claim a helper waits until the first has compiled it; another helper
    is not held up; and nobody waits for a process that has ended."""
    claims = jit.Claims(tmp_path, lambda: True)
    x, y, sig = _dispatcher("x"), _dispatcher("y"), (nb_types.int64,)
    log = []

    def first() -> None:
        with claims.claim(x, sig):
            time.sleep(0.3)
            log.append("x compiled")

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.05)
    with claims.claim(y, sig):
        log.append("y compiled")
    with claims.claim(x, sig):
        log.append("x loaded")
    thread.join()
    assert log == ["y compiled", "x compiled", "x loaded"]

    ended = jit.Claims(tmp_path / "ended", lambda: False)
    (tmp_path / "ended").mkdir()
    z = _dispatcher("z")
    with ended.claim(z, sig):
        pass
    t0 = time.perf_counter()
    with jit.Claims(tmp_path / "ended", lambda: False).claim(z, sig):
        pass
    assert time.perf_counter() - t0 < 0.5


def test_no_second_process_when_switched_off_warm_or_unstartable(monkeypatch) -> None:
    """A day compiled in this process (the types are not even computed), a day in the disk
    cache, `SIYU_COMPILE_ASIDE=0`, helpers with no disk cache, or a process that cannot
    start: this process compiles alone."""
    model = FastModel(load_scenario("beauty_guides", {"run.consumers": 300, "run.days": 5}), 1)
    types = model._day_types()
    model.run()  # the day compiled (or loaded) here
    monkeypatch.setattr(aside, "_started", False)

    def not_needed() -> tuple:
        raise AssertionError("the day's types computed though the day is compiled here")

    aside.begin(not_needed)
    monkeypatch.setattr(kernels.run_days, "overloads", {})  # as in a fresh process
    assert not aside._cold(types)  # on disk: python -m sim.fast or the run above put it there
    aside.begin(lambda: types)
    assert not aside._started

    def refuse(*args, **kwargs):
        raise OSError("no process")

    monkeypatch.setattr(aside, "_cold", lambda argtypes: True)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setenv(aside.SWITCH, "0")
    aside.begin(lambda: types)
    assert not aside._started
    monkeypatch.delenv(aside.SWITCH)
    assert jit.kept_on_disk(kernels.step_backwards)
    with monkeypatch.context() as m:
        m.setattr(kernels.step_backwards, "_cache", caching.NullCache())
        aside.begin(lambda: types)  # no disk cache for the helpers: nothing to share
        assert not aside._started
    aside.begin(lambda: types)
    assert aside._started and not aside.running() and jit.share_compiles(None) is None


class _Started:
    """A stand-in for a second process started early (`aside.prepare`)."""

    def __init__(self) -> None:
        self.killed = False

    def kill(self) -> None:
        self.killed = True

    def wait(self) -> int:
        return 0


def test_a_process_started_early_is_used_once_or_stopped(tmp_path, monkeypatch) -> None:
    """`prepare` starts the second process only where no day is on disk at all; `begin`
    stops it where the day turns out to be on disk, as `end` does where no model asked."""
    model = FastModel(load_scenario("beauty_guides", {"run.consumers": 300, "run.days": 5}), 1)
    types = model._day_types()
    model.run()
    monkeypatch.setattr(kernels.run_days, "overloads", {})  # as in a fresh process
    monkeypatch.setattr(aside, "_started", False)
    started = []

    def spawn():
        folder = tmp_path / f"claims-{len(started)}"
        folder.mkdir()
        started.append((_Started(), folder))
        return started[-1]

    monkeypatch.setattr(aside.early, "spawn", spawn)
    aside.prepare()
    assert not started  # the day is on disk (python -m sim.fast, or the run above)
    index = kernels.run_days._cache._cache_file._index_path
    exists = os.path.exists
    monkeypatch.setattr(aside.os.path, "exists", lambda path: path != index and exists(path))
    aside.prepare()
    aside.prepare()  # once
    assert len(started) == 1 and aside._ready is started[0]
    aside.begin(lambda: types)  # the day is on disk after all: the process is stopped
    proc, folder = started[0]
    assert proc.killed and not folder.exists() and aside._ready is None
    assert not aside._started and not aside.running()
    aside.prepare()
    proc, folder = started[1]
    aside.end()  # the process exits with no model having asked
    assert proc.killed and not folder.exists() and aside._ready is None


@pytest.mark.parametrize("early", [[], ["--early"]])
def test_a_process_started_early_and_not_needed_ends(tmp_path, early: list[str]) -> None:
    """The second process, given no day's types (its input closed empty), ends, silently
    (run as a module of a package that loads nothing on import, it runs once: no warning
    from `runpy`); started by the launcher (`--early`), it compiles nothing ahead once its
    input has closed."""
    done = subprocess.run(
        [sys.executable, "-m", "sim.fast.aside", str(tmp_path), *early],
        input=b"",
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == b""


def test_flags_compare_and_hash_as_numbas_own() -> None:
    """`jit._quicker_flags`: Numba's compile flags give the values, equality and hashes
    Numba's own definitions give (every option through its property)."""
    from numba.core.compiler import Flags

    def own_values(flags) -> dict:
        return {k: getattr(flags, k) for k in flags.options}

    plain, set_to_default, changed, other = Flags(), Flags(), Flags(), Flags()
    set_to_default.nrt = Flags.options["nrt"].default
    changed.nrt = not Flags.options["nrt"].default
    other.nrt = changed.nrt
    other.no_cpython_wrapper = True
    for flags in (plain, set_to_default, changed, other):
        assert flags.values() == own_values(flags)
        assert list(flags.values()) == list(own_values(flags))
        assert hash(flags) == hash(tuple(sorted(own_values(flags))))
    assert plain == set_to_default and hash(plain) == hash(set_to_default)
    assert plain != changed and changed != other and changed == changed.copy()
    assert plain != object() and plain.__eq__(object()) is NotImplemented


@pytest.mark.heavy
def test_a_cold_compile_on_two_processes_runs_the_same_bytes(tmp_path) -> None:
    """A fresh copy of the package compiles with the second process (its helpers end up
    in the copy's cache, compiled by one process or the other), and a run from that cache
    writes the ledger a run here writes."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_fast
    finally:
        sys.path.pop(0)
    copy = bench_fast.fresh_copy(tmp_path / "siyu")
    env = dict(os.environ, PYTHONPATH=str(copy), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    env.pop(aside.SWITCH, None)
    code = (
        "import hashlib, sys; from sim import load_scenario; from sim.fast import FastModel;"
        "from sim.runner import run_rng;"
        "m = FastModel(load_scenario('beauty_guides', {'run.consumers': 3000}), run_rng(7));"
        "m.run(); from sim.fast import aside, kernels; print(aside._started);"
        "print(sum(kernels.run_days.stats.cache_hits.values()));"
        "print(hashlib.sha256(m.ledger.array.tobytes()).hexdigest())"
    )
    cold = subprocess.run(
        [sys.executable, "-c", code], cwd=copy, env=env, capture_output=True, text=True
    )
    assert cold.returncode == 0, cold.stderr[-2000:]
    phases = [f"kernels.{name}-" for name in _phases(kernels.step_backwards)]
    cached = [p.name for p in (copy / "sim" / "fast" / "__pycache__").glob("kernels.*.nbi")]
    assert all(any(name.startswith(p) for name in cached) for p in phases)
    here = FastModel(load_scenario("beauty_guides", {"run.consumers": 3000}), run_rng(7))
    here.run()
    started, loaded, digest = cold.stdout.split()
    assert started == "True"  # the cache was cold: a second process compiled alongside
    assert loaded == "1"  # and made the day, which the run loaded
    assert digest == hashlib.sha256(here.ledger.array.tobytes()).hexdigest()


def test_a_first_run_says_it_compiles_and_on_how_many_cores(monkeypatch) -> None:
    from sim.cli import compile_notice

    monkeypatch.setattr(aside, "_proc", None)
    assert compile_notice() == "compiling the fast engine (once per install and version)…"
    monkeypatch.setattr(aside, "_proc", object())
    assert compile_notice().startswith("compiling the fast engine on two cores (once per")


def test_no_collection_while_numba_compiles() -> None:
    """`jit._NoCollectionWhileCompiling`: the cyclic collector is off from the outermost
    compile's start to its end, and then as it was before (off stays off)."""
    import gc

    from numba.core import event

    seen = []

    class Recording(event.Listener):  # registered after jit's: sees its effect
        def on_start(self, ev: event.Event) -> None:
            seen.append(gc.isenabled())

        def on_end(self, ev: event.Event) -> None:
            seen.append(gc.isenabled())

    @njit
    def inner(x):
        return x + 1

    @njit
    def outer(x):
        return inner(x) * 2

    listener = Recording()
    event.register("numba:compile", listener)
    try:
        assert gc.isenabled()
        assert outer(1) == 4
        # off at every start and nested end; the outermost end is seen after jit's turned
        # it back on (listeners hear an event in the order they registered)
        assert len(seen) >= 4 and not any(seen[:-1]) and seen[-1] and gc.isenabled()
        quiet = jit._NoCollectionWhileCompiling()
        gc.disable()
        try:
            quiet.on_start(None)
            quiet.on_end(None)
            assert not gc.isenabled()  # it was off: it stays off
        finally:
            gc.enable()
    finally:
        event.unregister("numba:compile", listener)
