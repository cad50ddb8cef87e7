"""Helpers shared by the test modules."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from sim.cli import main


def cli(args: list, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `siyu ARGS` in-process through the console-script entry point: (exit code,
    stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    code = info.value.code
    return (0 if code is None else int(code)), out, err


def entry_module_text(dispatcher) -> str:
    """The LLVM IR of a fast-engine entry point's module (its shared module, as loaded from
    the cache), after a tiny run has compiled or loaded it."""
    from sim.protocol import build_engine
    from sim.runner import run_rng
    from sim.scenario import load_scenario

    sc = load_scenario("beauty_guides", {"run.consumers": 200, "run.days": 2})
    build_engine("fast", sc, run_rng(0)).step()
    library = next(iter(dispatcher.overloads.values())).library
    module = library._shared_module or library._final_module
    return str(module)


BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
"""The benchmark scripts' folder (scripts, not a package)."""


@contextlib.contextmanager
def benchmark_module(name: str, *also: str) -> Iterator[ModuleType]:
    """The script benchmarks/NAME.py imported as module NAME, registered in sys.modules while
    the block runs (dataclasses look their module up by name), then removed, with the
    modules `also` that importing it brought in."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        for gone in (name, *also):
            sys.modules.pop(gone, None)


def performance_sandbox(perf: ModuleType, folder: Path, monkeypatch) -> None:
    """benchmarks/performance.py (`perf`, loaded by `benchmark_module`) pointed at an empty
    record and a README of bare markers in `folder`, its engine stamp fixed, and registered
    as the module a benchmark's `record` imports."""
    monkeypatch.setitem(sys.modules, "performance", perf)
    monkeypatch.setattr(perf, "RECORD", folder / "performance.json")
    monkeypatch.setattr(perf, "README", folder / "README.md")
    monkeypatch.setattr(perf, "engine_stamp", lambda: "stamp")
    marks = [f"<!-- performance: {n} --><!-- /performance: {n} -->" for n in perf.INLINE]
    perf.README.write_text("\n".join([*marks, perf.BEGIN, perf.END, ""]))
