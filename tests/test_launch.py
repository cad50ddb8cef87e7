"""The `siyu` program's first step (`sim.launch`, `sim.fast.early`): which command lines
start the second compiling process before anything is imported, the handing on of that
process to the fast engine (`sim.fast.aside.prepare`) or its end where nothing takes it,
the network kernels it compiles while it waits (`sim.network.compile_ahead`), and the
package's API loading on first use, so that the launcher imports neither NumPy nor Numba."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.fast import early

ROOT = Path(__file__).resolve().parents[1]


class _Proc:
    """A stand-in for a started process."""

    def __init__(self, running: bool = True) -> None:
        self.killed = False
        self.running = running

    def poll(self) -> int | None:
        return None if self.running and not self.killed else 0

    def kill(self) -> None:
        self.killed = True

    def wait(self) -> int:
        return 0


@pytest.mark.parametrize(
    ("args", "fast"),
    [
        (["run", "scenarios/beauty_guides.toml"], True),
        (["run", "s.toml", "--engine", "fast", "--seed", "3"], True),
        (["run", "s.toml", "--engine=fast"], True),
        (["run", "s.toml", "--engine", "agents"], False),
        (["run", "s.toml", "--engine=agents"], False),
        (["run", "--help"], False),
        (["sweep", "experiments/x.toml"], False),
        (["validate", "s.toml"], False),
        ([], False),
    ],
)
def test_only_a_fast_run_starts_compiling_early(args: list[str], fast: bool) -> None:
    assert early.wants_fast_run(args) is fast


def test_a_day_on_disk_is_read_from_the_cache_folder(tmp_path, monkeypatch) -> None:
    """No cache folder yet, or one without a day: no day; an index of `run_days` (of any
    version): a day; a folder this process cannot write (a read-only install, whose cache
    Numba keeps elsewhere): cannot tell."""
    fast = tmp_path / "fast"
    fast.mkdir()
    monkeypatch.setattr(early, "_FAST", fast)
    assert early.day_on_disk() is False
    cache = fast / "__pycache__"
    cache.mkdir()
    (cache / "kernels.step-1.nbi").write_bytes(b"")
    assert early.day_on_disk() is False
    ver = f"py{sys.version_info[0]}{sys.version_info[1]}"
    (cache / f"kernels.run_days-2016.{ver}.nbi").write_bytes(b"")
    assert early.day_on_disk() is True
    monkeypatch.setattr(early.os, "access", lambda path, mode: False)
    assert early.day_on_disk() is None


def test_the_early_process_starts_once_where_a_first_run_needs_it(tmp_path, monkeypatch) -> None:
    """Started for a fast run on a cold cache with two cores, once; not where switched off,
    for another command, on one core, or with a day on disk; handed on once, and stopped
    at exit where nothing took it (or where it already ended)."""
    started: list[tuple[_Proc, Path]] = []

    def spawn(early: bool = False) -> tuple[_Proc, Path]:
        assert early
        folder = tmp_path / f"claims-{len(started)}"
        folder.mkdir()
        started.append((_Proc(), folder))
        return started[-1]

    monkeypatch.setattr(early, "spawn", spawn)
    monkeypatch.setattr(early, "_early", None)
    monkeypatch.setattr(early, "day_on_disk", lambda: False)
    monkeypatch.setattr(early, "usable_cores", lambda: 2)
    run = ["run", "scenarios/beauty_guides.toml"]
    monkeypatch.setenv(early.SWITCH, "0")
    early.start_early(run)
    monkeypatch.delenv(early.SWITCH)
    early.start_early(["run", "s.toml", "--engine", "agents"])
    with monkeypatch.context() as m:
        m.setattr(early, "usable_cores", lambda: 1)
        early.start_early(run)
    for on_disk in (True, None):
        with monkeypatch.context() as m:
            m.setattr(early, "day_on_disk", lambda on_disk=on_disk: on_disk)
            early.start_early(run)
    assert not started
    early.start_early(run)
    early.start_early(run)  # once
    assert len(started) == 1
    assert early.take_early() is started[0] and early.take_early() is None
    early.start_early(run)
    early._end_unused()  # nothing took it: stopped, its folder removed
    proc, folder = started[1]
    assert proc.killed and not folder.exists()
    early.start_early(run)
    started[2][0].running = False  # it ended by itself: not handed on
    assert early.take_early() is None and not started[2][1].exists()


def test_the_fast_engine_takes_on_the_early_process(tmp_path, monkeypatch) -> None:
    """`aside.prepare` takes the launcher's process where the day is still to compile, and
    stops it where the day is on disk."""
    from sim.fast import aside, kernels

    monkeypatch.setattr(aside, "_started", False)
    monkeypatch.setattr(aside, "_ready", None)
    monkeypatch.setattr(kernels.run_days, "overloads", {})  # as in a fresh process
    monkeypatch.setattr(aside, "_may_start", lambda: True)

    def started_early() -> tuple[_Proc, Path]:
        folder = tmp_path / f"claims-{len(made)}"
        folder.mkdir()
        made.append((_Proc(), folder))
        monkeypatch.setattr(early, "_early", made[-1])
        return made[-1]

    made: list[tuple[_Proc, Path]] = []
    monkeypatch.setattr(early, "spawn", lambda early=False: pytest.fail("a second start"))
    started_early()
    aside.prepare()  # the day is on disk here (python -m sim.fast): stopped
    assert made[0][0].killed and not made[0][1].exists() and aside._ready is None
    index = kernels.run_days._cache._cache_file._index_path
    exists = os.path.exists
    monkeypatch.setattr(aside.os.path, "exists", lambda path: path != index and exists(path))
    started_early()
    aside.prepare()
    assert aside._ready is made[1] and not made[1][0].killed and early._early is None
    aside.end()
    assert made[1][0].killed and not made[1][1].exists()


def test_the_launcher_imports_neither_numpy_nor_numba() -> None:
    """`sim.launch` starts the second process before the heavy imports: importing it (and
    the package) loads neither; the package's API still loads on first use."""
    code = (
        "import json, sys; import sim.launch, sim.fast.early; "
        "heavy = [m for m in ('numpy', 'numba', 'pandas') if m in sys.modules]; "
        "from sim import load_scenario, run, measure; "
        "print(json.dumps([heavy, callable(run) and callable(measure) and 'numba' in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[], True]


def test_the_package_api_loads_on_first_use() -> None:
    from sim.effects import measure
    from sim.runner import run

    assert sim.run is run and sim.measure is measure and "load_scenario" in dir(sim)
    assert set(sim.__all__) <= set(dir(sim))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sim.nothing  # noqa: B018


def test_the_network_kernels_compiled_ahead_are_those_a_build_compiles(tmp_path) -> None:
    """`network.compile_ahead` compiles, on a cold cache, exactly the signatures of those
    kernels that a small-world network's build then compiles; nothing while not idle."""
    code = (
        "import json, numpy as np; from sim import network; from sim.sorting import sort_keys;"
        "kernels = (sort_keys, network._fill_csr);"
        "sigs = lambda: [sorted(map(str, k.signatures)) for k in kernels];"
        "network.compile_ahead(lambda: False); idle = sigs();"
        "network.compile_ahead(lambda: True); ahead = sigs();"
        "network.small_world(500, 10, 0.1, np.random.default_rng(1));"
        "print(json.dumps([idle, ahead, sigs()]))"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    idle, ahead, built = json.loads(done.stdout.strip().splitlines()[-1])
    assert idle == [[], []] and all(len(s) == 1 for s in ahead) and ahead == built
